"""The printable case dossier (办件审计档案), A4 PDF in Chinese: the case's facts, its timeline, every record's hash,
and what the records were checked against: the newest signed head of the log, and, for each record, its
inclusion proof under that head (proof_section, given the proof data as plain values).

Pure but for reading the font: data in, bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

from fpdf.enums import Align

from contracts.workdays import SHANGHAI
from services.audit.timeline import DEADLINE_LABELS, STATUS_LABELS, Timeline
from services.kit.pdf import Writer

TITLE_PT, HEADING_PT, BODY_PT, SMALL_PT, HASH_PT = 22, 15, 11, 9, 8
_RESULTS = {"granted": "准予", "refused": "不予"}


@dataclass(frozen=True)
class SignedHead:
    """A signed head of the audit log: a checkpoint (head_seq, head_hash) today, a Merkle tree head
    (tree_size, root) once the log has one; either way the key that signed it and the signature."""

    tree_size: int
    root: str
    key_id: str
    signature: str
    number: int | None = None  # the checkpoint's number
    signed_at: datetime | None = None
    kind: str = "hash_chain"  # hash_chain: root is the head record's hash; merkle: root is the tree's root hash


@dataclass(frozen=True)
class InclusionProof:
    """That record `seq` is leaf `leaf_index` of the tree of `tree_size` leaves: the sibling hashes, leaf to root."""

    seq: int
    leaf_index: int
    leaf_hash: str
    audit_path: Sequence[str]


@dataclass(frozen=True)
class RecordHash:
    seq: int
    event_id: UUID
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class Dossier:
    case_id: UUID
    township_id: str
    timeline: Timeline
    records: Sequence[RecordHash]
    head: SignedHead | None
    proofs: Mapping[int, InclusionProof] = field(default_factory=dict)  # by seq


def _when(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


class _Pages:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def heading(self, text: str) -> None:
        self.writer.pdf.ln(3)
        self.writer.line(text, size=HEADING_PT, bold=True, height=9)

    def text(self, text: str, *, size: int = BODY_PT, height: float = 6.5) -> None:
        self.writer.line(text, size=size, height=height)


def _facts(pages: _Pages, dossier: Dossier, at: datetime) -> None:
    case = dossier.timeline.case
    pages.heading("一、办件概况")
    rows = [
        ("办件编号", case.case_no or "—"), ("系统编号", str(dossier.case_id)), ("乡镇", dossier.township_id),
        ("办理事项", case.item_name or "—"), ("申请人", case.applicant_name or "—"),
        ("当前状态", STATUS_LABELS[case.status]), ("承办科室", case.department_code or "—"),
        ("承办人", case.holder or "—"), ("在用期限", _when(case.clock.deadline)),
        ("期限状态", DEADLINE_LABELS[case.clock.colour(at)]),
        ("办理结果", _RESULTS.get(case.result or "", "—")), ("评价", f"{case.rating}分" if case.rating else "—"),
    ]
    for label, value in rows:
        pages.text(f"{label}：{value}")
    for notice in case.notices:
        pages.text(f"第{notice.notice_no}次告知（{_when(notice.given_at)}）：{'、'.join(notice.materials)}")


def _events(pages: _Pages, dossier: Dossier) -> None:
    pages.heading("二、时间线（北京时间）")
    for e in dossier.timeline.entries:
        pages.text(f"［{e.seq}］{_when(e.occurred_at)}　{e.label}　{e.actor_label} {e.actor_id}")
        pages.text(f"　　{e.summary}　｜期限：{DEADLINE_LABELS[e.deadline_state]}", size=SMALL_PT, height=5.5)


def _hashes(pages: _Pages, dossier: Dossier) -> None:
    pages.heading("三、审计记录哈希（SHA-256，逐条链接）")
    pages.text("每条记录的哈希 = SHA-256（前一条记录哈希 + 本条记录的规范化内容），可用 /api/v1/events 逐条复算。",
               size=SMALL_PT, height=5.5)
    for r in dossier.records:
        pages.text(f"［{r.seq}］事件 {r.event_id}", size=SMALL_PT, height=5)
        pages.text(f"　本条 {r.hash}", size=HASH_PT, height=4.5)
        pages.text(f"　前条 {r.prev_hash}", size=HASH_PT, height=4.5)


def proof_section(pages: _Pages, *, records: Sequence[RecordHash], head: SignedHead | None,
                  proofs: Mapping[int, InclusionProof]) -> None:
    """The signed head the records were checked against, and each record's inclusion proof under it.

    Plain values in: the Merkle proofs come from whoever computes them (services/audit/merkle.py), keyed by seq.
    A record with no proof is said to be covered by the head when its seq is within it (the hash chain links it
    to the head's record), or not yet covered."""
    pages.heading("四、签名树头与包含证明")
    if head is None:
        pages.text("本档案生成时审计日志尚无签名检查点：请稍后重新打印，或以 /api/v1/integrity 核验。")
        return
    kind = "默克尔树根" if head.kind == "merkle" else "链头记录哈希"
    number = f"第{head.number}号" if head.number else ""
    pages.text(f"签名检查点：{number}　覆盖记录数（树大小）：{head.tree_size}　签名时间：{_when(head.signed_at)}")
    pages.text(f"{kind}：{head.root}", size=HASH_PT, height=4.5)
    pages.text(f"签名密钥标识：{head.key_id}　算法：Ed25519", size=SMALL_PT, height=5)
    pages.text(f"签名：{head.signature}", size=HASH_PT, height=4.5)
    for r in records:
        proof = proofs.get(r.seq)
        if proof is not None:
            pages.text(f"［{r.seq}］叶序号 {proof.leaf_index}，叶哈希 {proof.leaf_hash}", size=HASH_PT, height=4.5)
            for step, sibling in enumerate(proof.audit_path, start=1):
                pages.text(f"　　路径{step}：{sibling}", size=HASH_PT, height=4.5)
        elif r.seq <= head.tree_size:
            pages.text(f"［{r.seq}］已由哈希链连至该检查点（序号 ≤ {head.tree_size}）", size=SMALL_PT, height=5)
        else:
            pages.text(f"［{r.seq}］晚于该检查点，待下一个检查点签名", size=SMALL_PT, height=5)


def render_dossier(dossier: Dossier, *, font: Path, printed_at: datetime) -> bytes:
    case_no = dossier.timeline.case.case_no or str(dossier.case_id)
    writer = Writer(font, title=f"办件审计档案 {case_no}", created_at=printed_at, body_pt=BODY_PT)
    pdf = writer.pdf
    writer.footer(lambda: f"办件审计档案 {case_no}　打印时间：{_when(printed_at)}　第{pdf.page_no()}页", size=SMALL_PT)
    pdf.add_page()
    writer.line("办件审计档案", size=TITLE_PT, align=Align.C, bold=True, height=14)
    writer.line(f"办件编号：{case_no}　打印时间：{_when(printed_at)}", size=BODY_PT, align=Align.R)
    pages = _Pages(writer)
    _facts(pages, dossier, printed_at)
    _events(pages, dossier)
    _hashes(pages, dossier)
    proof_section(pages, records=dossier.records, head=dossier.head, proofs=dossier.proofs)
    return writer.output()
