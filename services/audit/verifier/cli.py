"""The verifier's commands: heads, inclusion, export (see the package docstring and ADR 0031)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import httpx
import pymerkle
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.events import AuditCheckpointed
from services.audit import checkpoints, keyring, merkle
from services.audit.verifier import kept_heads
from services.audit.verifier.export_check import ExportCheck, lines_between, read_lines
from services.audit.verifier.kafka_hook import reconcile_with_kafka
from services.audit.verifier.server import AuditServer
from services.audit.verify import OK, TAMPERED, UNUSABLE, Unusable, Verdict, read_checkpoints

LOCATE_LIMIT = 2000  # inclusion proofs asked for while looking for the first changed record
PROGRESS_EVERY = 100_000


def _server(args: argparse.Namespace, client: httpx.AsyncClient | None) -> AuditServer | None:
    if client is None or not args.token:
        return None
    return AuditServer(client, args.token)


def _keyring(paths: Sequence[str]) -> dict[str, Ed25519PublicKey]:
    try:
        ring = keyring.load_keyring(Path(p) for p in paths)
    except (OSError, ValueError) as exc:
        raise Unusable(f"无法读取公钥：{exc}") from exc
    if not ring:
        raise Unusable("未提供任何公钥（--public-key 文件或目录）")
    return ring


# --- heads ---

async def heads(args: argparse.Namespace, client: httpx.AsyncClient | None) -> Verdict:
    ring = _keyring(args.public_key)
    path = Path(args.heads_file)
    kept = kept_heads.verified(kept_heads.load(path), ring)
    if args.bootstrap_servers:
        read, unreadable = await read_checkpoints(args.bootstrap_servers, timeout=args.timeout)
    else:
        read, unreadable = kept_heads.load(Path(args.from_file)), []
    judgement = checkpoints.judge([*kept, *read], ring)
    lines = [f"读取检查点 {len(read)} 条，签名有效 {len(judgement.checkpoints)} 个（已保存 {len(kept)} 个）"]
    problems = [*unreadable, *judgement.problems]
    last_kept = kept[-1].stream_version if kept else 0
    new = [h for h in judgement.checkpoints if h.stream_version > last_kept]
    accepted, problems = await _extend(kept, new, _server(args, client), problems)
    kept_heads.append(path, accepted)
    lines += [f"问题：{p}" for p in problems]
    if accepted:
        newest = accepted[-1].payload
        lines.append(f"新保存检查点 {len(accepted)} 个，最新为第 {accepted[-1].stream_version} 号"
                     f"（树大小 {newest.tree_size}，树根 {newest.root_hash}）")
    if problems:
        lines.append("结论：发现篡改或签名问题，请立即核查")
        return Verdict(TAMPERED, lines)
    lines.append("结论：检查点签名有效，新检查点与已保存的检查点一致")
    return Verdict(OK, lines)


async def _extend(kept: list[AuditCheckpointed], new: list[AuditCheckpointed], server: AuditServer | None,
                  problems: list[str]) -> tuple[list[AuditCheckpointed], list[str]]:
    """The new heads that extend the kept ones, in order, until the first that does not."""
    accepted: list[AuditCheckpointed] = []
    trees = kept_heads.tree_heads(kept)
    previous: AuditCheckpointed | None = trees[-1] if trees else None
    for head in new:
        if head.payload.tree_size is not None and previous is not None:
            if server is None:
                raise Unusable("核对新检查点与已保存检查点的一致性需要 --audit-url 和 --token")
            if fault := await kept_heads.consistency_fault(server, previous, head):
                return accepted, [*problems, fault]
        accepted.append(head)
        previous = head if head.payload.tree_size is not None else previous
    return accepted, problems


# --- inclusion ---

def check_inclusion(answer: dict, event_id: UUID, head: AuditCheckpointed) -> str | None:
    """Why the server's answer does not prove `event_id` in `head` (Chinese), or None. Only the kept
    head's size and root are trusted; the leaf hash is recomputed from the leaf data."""
    size, root = head.payload.tree_size, head.payload.root_hash
    assert size is not None and root is not None
    try:
        data = str(answer["leaf_data"]).encode()
        index = int(answer["leaf_index"])
        path = [bytes.fromhex(h) for h in answer["audit_path"]]
        fields = json.loads(data)
    except (KeyError, TypeError, ValueError):
        return "审计服务给出的包含性证明格式错误"
    if fields.get("event_id") != str(event_id) or fields.get("seq") != index + 1:
        return "审计服务给出的叶子不是所查询的事件"
    leaf = merkle.leaf_hash(data)
    if not merkle.verify_inclusion(index, size, leaf, path, bytes.fromhex(root)):
        return f"事件 {event_id} 的包含性证明与第 {head.stream_version} 号检查点的树根不符"
    # A second, independent implementation must agree (pymerkle counts leaves from one).
    proof = pymerkle.InclusionProof("sha256", True, size, index + 1,
                                    [*map(int, merkle.sibling_sides(index, size)), 0], [leaf, *path])
    try:
        pymerkle.verify_inclusion(leaf, bytes.fromhex(root), proof, index=index + 1, size=size)
    except pymerkle.InvalidProof:
        return f"事件 {event_id} 的包含性证明未通过 pymerkle 的核验"
    return None


async def inclusion(args: argparse.Namespace, client: httpx.AsyncClient | None) -> Verdict:
    ring = _keyring(args.public_key)
    kept = kept_heads.tree_heads(kept_heads.verified(kept_heads.load(Path(args.heads_file)), ring))
    server = _server(args, client)
    if server is None:
        raise Unusable("查询包含性证明需要 --audit-url 和 --token")
    if not kept:
        raise Unusable("尚未保存任何含树根的检查点，请先运行 heads")
    by_number = {h.stream_version: h for h in kept}
    head = by_number.get(args.checkpoint) if args.checkpoint else kept[-1]
    if head is None:
        raise Unusable(f"未保存第 {args.checkpoint} 号检查点")
    answer = await server.get("/api/v1/proofs/inclusion", {"event_id": str(args.event_id),
                                                           "checkpoint": head.stream_version})
    if fault := check_inclusion(answer, args.event_id, head):
        return Verdict(TAMPERED, [f"问题：{fault}", "结论：无法证明该事件在已签名的审计日志中，请立即核查"])
    return Verdict(OK, [f"事件 {args.event_id} 是审计日志第 {answer['leaf_index'] + 1} 条记录，"
                        f"包含在第 {head.stream_version} 号检查点（树大小 {head.payload.tree_size}）中",
                        "结论：包含性证明有效"])


# --- export ---

async def export(args: argparse.Namespace, client: httpx.AsyncClient | None) -> Verdict:
    ring = _keyring(args.public_key)
    kept = kept_heads.tree_heads(kept_heads.verified(kept_heads.load(Path(args.heads_file)), ring))
    server = _server(args, client)
    path = Path(args.file)
    if args.fetch:
        if server is None:
            raise Unusable("下载导出需要 --audit-url 和 --token")
        await _download(server, path)
    if not path.exists():
        raise Unusable(f"导出文件 {path} 不存在")
    check = ExportCheck(heads=kept)
    logged: dict[UUID, str] = {}
    for line in read_lines(path):
        entry = check.feed(line)
        if entry and args.kafka:
            logged[entry[0]] = entry[1]
    lines = [f"导出记录 {check.records} 条；对照已保存的含树根检查点 {len(kept)} 个"]
    problems = await _problems(check, path, server)
    lines += [f"问题：{p}" for p in problems]
    verdict = Verdict(TAMPERED if problems else OK, lines)
    if args.kafka:
        reconciled = await reconcile_with_kafka(args.kafka, logged)
        verdict = Verdict(max(verdict.code, reconciled.code), [*verdict.lines, *reconciled.lines])
    verdict.lines.append("结论：导出与已签名的检查点一致，审计日志完整" if verdict.code == OK
                         else "结论：发现篡改，请立即核查")
    return verdict


async def _problems(check: ExportCheck, path: Path, server: AuditServer | None) -> list[str]:
    problems: list[str] = []
    if check.first_bad:
        problems.append(f"第一条不一致的记录：{check.first_bad[1]}")
    if tail := check.missing_tail():
        problems.append(f"导出只有 {check.records} 条记录，第 {tail.stream_version} 号检查点签署了 "
                        f"{tail.payload.tree_size} 条：序号 {check.records + 1} 起的记录已被删除")
    if check.mismatches:
        first = check.mismatches[0]
        problems.append(f"前 {first.last_seq} 条记录的树根与第 {first.head.stream_version} 号检查点签署的不符："
                        f"序号 {first.first_seq} 至 {first.last_seq} 之间的记录已被改写")
        if located := await _locate(first.head, first.first_seq, first.last_seq, path, server):
            problems.append(located)
    return problems


async def _locate(head: AuditCheckpointed, first_seq: int, last_seq: int, path: Path,
                  server: AuditServer | None) -> str | None:
    """The first record of the range whose inclusion in `head` cannot be proven (each proof checked
    against the kept root), when the server is at hand and the range is small enough."""
    if server is None or last_seq - first_seq >= LOCATE_LIMIT:
        return None
    size, root = head.payload.tree_size, head.payload.root_hash
    assert size is not None and root is not None
    for seq, event_id, data in lines_between(read_lines(path), first_seq, last_seq):
        try:
            answer = await server.get("/api/v1/proofs/inclusion", {"event_id": str(event_id),
                                                                   "checkpoint": head.stream_version})
            path_ = [bytes.fromhex(h) for h in answer["audit_path"]]
            proven = merkle.verify_inclusion(seq - 1, size, merkle.leaf_hash(data), path_, bytes.fromhex(root))
        except (Unusable, KeyError, TypeError, ValueError):
            proven = False
        if not proven:
            return f"第一条无法证明与检查点一致的记录：序号 {seq}（事件 {event_id}）"
    return None


async def _download(server: AuditServer, path: Path) -> None:
    count = 0
    with path.open("w", encoding="utf-8") as f:
        async for line in server.export_lines():
            f.write(line + "\n")
            count += 1
            if count % PROGRESS_EVERY == 0:
                print(f"已下载 {count} 条记录……", flush=True)
    print(f"已下载 {count} 条记录到 {path}", flush=True)


# --- command line ---

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m services.audit.verifier",
                                description="独立核验审计日志：已签名的树头、包含性证明、一致性证明与全量导出")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--public-key", action="append", required=True,
                        help="pinned public key: a PEM file (may hold several keys) or a directory of *.pem; repeatable")
    common.add_argument("--heads-file", default="bianmin-audit-heads.jsonl", help="the heads you keep (JSON lines)")
    common.add_argument("--audit-url", help="audit service, e.g. http://audit:8104")
    common.add_argument("--token", help="inspector's bearer token (JWT)")
    common.add_argument("--timeout", type=float, default=60.0, help="seconds for Kafka and HTTP")
    sub = p.add_subparsers(dest="command", required=True)
    h = sub.add_parser("heads", parents=[common], help="read, verify and keep new signed tree heads")
    source = h.add_mutually_exclusive_group(required=True)
    source.add_argument("--bootstrap-servers", help="read every AuditCheckpointed from Kafka")
    source.add_argument("--from-file", help="read heads from a JSON lines file of AuditCheckpointed events")
    i = sub.add_parser("inclusion", parents=[common], help="prove one event is in a kept head")
    i.add_argument("event_id", type=UUID)
    i.add_argument("--checkpoint", type=int, help="number of a kept head (default: the latest kept)")
    e = sub.add_parser("export", parents=[common], help="recompute a whole export against the kept heads")
    e.add_argument("file", help="export file (JSON lines of GET /api/v1/export)")
    e.add_argument("--fetch", action="store_true", help="download the export from --audit-url into FILE first")
    e.add_argument("--kafka", metavar="BOOTSTRAP", help="also reconcile the log with the events on Kafka")
    return p


COMMANDS = {"heads": heads, "inclusion": inclusion, "export": export}


async def run(args: argparse.Namespace, client: httpx.AsyncClient | None = None) -> Verdict:
    """The verdict of one command; `client` replaces the one --audit-url would open (tests run the app in process)."""
    if client is not None:
        return await COMMANDS[args.command](args, client)
    if not args.audit_url:
        return await COMMANDS[args.command](args, None)
    async with httpx.AsyncClient(base_url=args.audit_url, timeout=args.timeout) as client:
        return await COMMANDS[args.command](args, client)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        verdict = asyncio.run(run(args))
    except Unusable as exc:
        verdict = Verdict(UNUSABLE, [str(exc), "结论：无法完成核验"])
    except OSError as exc:
        verdict = Verdict(UNUSABLE, [f"读写或连接失败：{exc}", "结论：无法完成核验"])
    print("\n".join(verdict.lines), flush=True)
    return verdict.code


if __name__ == "__main__":
    sys.exit(main())
