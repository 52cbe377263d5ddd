"""The one verdict every fault case ends with, from public interfaces only.

Every accepted case is in audit exactly once (CaseSubmitted once, CaseAssigned once, its
submission SMS once), no event twice (by event_id, or by (case, source, stream_version)), no
lost stream version, the hash chain valid, and no dead letter on any `.dlq` topic during the case.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer

from contracts.topics import DLQ_TOPICS
from services.kit.kafka_security import kafka_client_options
from services.kit.testing import auth_header, eventually, topic_partitions
from tests.faults.infra import REPORT

INSPECTOR = auth_header("inspector", None, sub="fault-inspector")
PER_CASE = ("CaseSubmitted", "CaseAssigned", "NotificationSent")  # each present after a submission
# Exactly once each: the case taken in, assigned, and its receipt texted to the resident. Other SMS of the case
# (the new holder's) are checked for duplicates by template and recipient too.
ONCE_PER_CASE = (("CaseSubmitted",), ("CaseAssigned",), ("NotificationSent", "case_submitted", "resident"))


def _kind(event: dict) -> tuple[str, ...]:
    if event["event_type"] == "NotificationSent":
        return ("NotificationSent", event["payload"]["template_code"], event["payload"]["recipient_kind"])
    return (event["event_type"],)
SETTLE_TIMEOUT = 75.0  # a passing case settles in seconds; this bounds a failing one
RECORDED: list[str] = []  # summary lines of this session, printed by pytest_terminal_summary


@dataclass
class Baseline:
    """Where the case starts: the audit feed's head and the end of every dead-letter topic."""

    started: float
    audit_seq: int
    dlq_ends: dict


@dataclass
class Verdict:
    fault: str
    accepted: int
    in_audit: int = 0
    lost: int = 0
    duplicated: int = 0
    gaps: int = 0
    chain: str = "unknown"
    dlq: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"fault={self.fault} accepted={self.accepted} in_audit={self.in_audit} lost={self.lost} "
                f"duplicated={self.duplicated} gaps={self.gaps} chain={self.chain} dlq={self.dlq}{extra} "
                f"seconds={self.seconds:.0f}")

    def record(self) -> None:
        record_line(self.line())

    def assert_clean(self) -> None:
        assert not self.problems, f"{self.line()}\n" + "\n".join(self.problems[:20])


def record_line(line: str) -> None:
    """One summary line of the session: printed at its end and appended to the fault report."""
    RECORDED.append(line)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as fh:
        fh.write(line + "\n")


async def baseline(audit_url: str, kafka: str) -> Baseline:
    return Baseline(started=time.monotonic(), audit_seq=await _audit_head(audit_url), dlq_ends=await _dlq_ends(kafka))


async def judge(fault: str, case_ids: list[str], *, audit_url: str, kafka: str, since: Baseline,
                extra: dict | None = None) -> Verdict:
    """Waits (bounded) for every accepted case to settle in audit, then counts; records the line."""
    verdict = Verdict(fault=fault, accepted=len(case_ids), extra=extra or {})
    async with httpx.AsyncClient(timeout=30) as client:
        histories = await _settled_histories(client, audit_url, case_ids)
        for case_id in case_ids:
            _judge_case(verdict, case_id, histories.get(case_id))
        feed = await _feed(client, audit_url, since.audit_seq)
        dup_ids = [eid for eid, n in Counter(r["event_id"] for r in feed).items() if n > 1]
        if dup_ids:
            verdict.duplicated += len(dup_ids)
            verdict.problems.append(f"event ids recorded twice in audit: {dup_ids[:5]}")
        integrity = (await client.get(f"{audit_url}/api/v1/integrity", headers=INSPECTOR)).json()
    verdict.chain = "valid" if integrity.get("valid") else "broken"
    if not integrity.get("valid"):
        verdict.problems.append(f"integrity: {integrity}")
    ends = await _dlq_ends(kafka)
    verdict.dlq = sum(end - since.dlq_ends.get(tp, 0) for tp, end in ends.items())
    if verdict.dlq:
        verdict.problems.append(f"{verdict.dlq} message(s) dead-lettered during the case")
    # In audit: the case and everything its submission causes (a case without its assignment is lost too).
    verdict.in_audit = sum(1 for c in case_ids if histories.get(c) and all(_has(histories[c], t) for t in PER_CASE))
    verdict.lost = verdict.accepted - verdict.in_audit
    verdict.seconds = time.monotonic() - since.started
    verdict.record()
    return verdict


async def _settled_histories(client: httpx.AsyncClient, audit_url: str, case_ids: list[str]) -> dict[str, dict]:
    """Polls only the cases not yet complete; after the wait (met or not) reads all of them once more,
    so a duplicate that arrived late is still counted."""
    histories: dict[str, dict] = {}
    pending = set(case_ids)

    async def all_settled() -> bool:
        for case_id in list(pending):
            history = await _history(client, audit_url, case_id)
            if history and all(_has(history, t) for t in PER_CASE):
                histories[case_id] = history
                pending.discard(case_id)
        return not pending

    try:
        await eventually(all_settled, timeout=SETTLE_TIMEOUT, interval=0.5, what="every accepted case in audit")
    except AssertionError:
        pass  # counted as lost below, with the figures recorded
    for case_id in case_ids:
        history = await _history(client, audit_url, case_id)
        if history:
            histories[case_id] = history
    return histories


def _has(history: dict, event_type: str) -> bool:
    return any(e["event_type"] == event_type for e in history["events"])


def _judge_case(verdict: Verdict, case_id: str, history: dict | None) -> None:
    if history is None:
        verdict.problems.append(f"case {case_id} accepted (201) but absent from audit")
        return
    events = history["events"]
    kinds = Counter(_kind(e) for e in events)
    for kind in ONCE_PER_CASE:
        if kinds[kind] != 1:
            verdict.problems.append(f"case {case_id}: {'/'.join(kind)} x{kinds[kind]}")
    for kind, n in kinds.items():
        if n > 1 and kind[0] in PER_CASE:  # each of these, and each SMS to one recipient, happens once
            verdict.duplicated += n - 1
            if kind not in ONCE_PER_CASE:
                verdict.problems.append(f"case {case_id}: {'/'.join(kind)} x{n}")
    ids = Counter(e["event_id"] for e in events)
    versions = Counter((e["source"], e["stream_version"]) for e in events)
    for key, n in [*ids.items(), *versions.items()]:
        if n > 1:
            verdict.duplicated += n - 1
            verdict.problems.append(f"case {case_id}: {key} recorded {n} times")
    if history["gaps"]:
        verdict.gaps += sum(len(g["missing"]) for g in history["gaps"])
        verdict.problems.append(f"case {case_id}: lost stream versions {history['gaps']}")


async def _history(client: httpx.AsyncClient, audit_url: str, case_id: str) -> dict | None:
    try:
        resp = await client.get(f"{audit_url}/api/v1/cases/{case_id}/history", headers=INSPECTOR)
    except httpx.HTTPError:
        return None
    return resp.json() if resp.status_code == 200 else None


async def _feed(client: httpx.AsyncClient, audit_url: str, after_seq: int) -> list[dict]:
    records: list[dict] = []
    while True:
        resp = await client.get(f"{audit_url}/api/v1/events", params={"after_seq": after_seq, "limit": 1000},
                                headers=INSPECTOR)
        resp.raise_for_status()
        page = resp.json()
        records += page
        if len(page) < 1000:
            return records
        after_seq = page[-1]["seq"]


async def _audit_head(audit_url: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        report = (await client.get(f"{audit_url}/api/v1/integrity", headers=INSPECTOR)).json()
    return report.get("head_seq") or 0


async def _dlq_ends(kafka: str) -> dict:
    partitions = await topic_partitions(kafka, list(DLQ_TOPICS))
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, **kafka_client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
