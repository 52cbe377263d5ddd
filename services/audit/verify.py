"""Inspectors' check of the audit log against the signed checkpoints kept on Kafka.

    python -m services.audit.verify --bootstrap-servers kafka:9092 --audit-url http://audit:8104 \\
        --public-key audit-checkpoint-key.pem --token "$INSPECTOR_JWT"

Reads every AuditCheckpointed from the start of its topic, verifies each signature with the
pinned public key and that the numbers run 1..N without gaps or forks, then asks audit's
/api/v1/integrity whether the log still holds the latest valid checkpoint.
Exit code 0: intact; 1: tampering or a bad signature; 2: usage or connection error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from contracts.events import AuditCheckpointed, parse_event
from services.audit import checkpoints, kafka_scan

OK, TAMPERED, UNUSABLE = 0, 1, 2


class Unusable(Exception):
    """The check could not be made (Chinese message); exit code 2."""


@dataclass(frozen=True)
class Verdict:
    code: int
    lines: list[str]


async def read_checkpoints(bootstrap: str, *, timeout: float = 60.0) -> tuple[list[AuditCheckpointed], list[str]]:
    """Every checkpoint on the topic, from the beginning to its end when reading started, and a
    line for each record that is not a readable checkpoint."""
    events: list[AuditCheckpointed] = []
    unreadable: list[str] = []
    try:
        async for records in kafka_scan.scan(bootstrap, [AuditCheckpointed.TOPIC], stall_timeout=timeout):
            for record in records:
                _collect(record, events, unreadable)
    except kafka_scan.ScanFailed as exc:
        raise Unusable(str(exc)) from exc
    return events, unreadable


def _collect(record, events: list[AuditCheckpointed], unreadable: list[str]) -> None:
    try:
        event = parse_event(record.value or b"")
    except (ValueError, ValidationError):
        event = None
    if isinstance(event, AuditCheckpointed):
        events.append(event)
    else:
        unreadable.append(f"分区 {record.partition} 偏移 {record.offset} 的消息不是可读的检查点")


async def integrity_at(client: httpx.AsyncClient, token: str, checkpoint: AuditCheckpointed) -> dict:
    """Audit's integrity report held against `checkpoint`."""
    params: dict[str, str | int] = {"checkpoint_seq": checkpoint.payload.head_seq,
                                    "checkpoint_hash": checkpoint.payload.head_hash}
    try:
        resp = await client.get("/api/v1/integrity", params=params, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise Unusable(f"无法访问审计服务：{exc!r}") from exc
    if resp.status_code != 200:
        try:
            message = resp.json().get("message", "")
        except ValueError:
            message = resp.text[:200]
        raise Unusable(f"审计服务拒绝了核验请求（HTTP {resp.status_code}）：{message}")
    return resp.json()


def forged_replay_lines(report: dict, *, acknowledged: int) -> list[str]:
    """Forged replays the service refused beyond the `acknowledged` ones an inspector has looked into: the log
    is intact (they were refused), but somebody with write access to Kafka tried to change history."""
    refused = int(report.get("refused_replays") or 0)
    if refused <= acknowledged:
        return []
    latest = report.get("latest_refused_replay") or {}
    return [f"问题：审计服务已拒收伪造重放事件 {refused} 条（已核查 {acknowledged} 条）；最近一条：事件 "
            f"{latest.get('event_id')}，{latest.get('topic')} 分区 {latest.get('partition')} 偏移 "
            f"{latest.get('offset')}。日志未被改动，但有人向 Kafka 写入了伪造事件，请核查来源"]


async def inspect(events: Sequence[AuditCheckpointed], *, public_key: Ed25519PublicKey, client: httpx.AsyncClient,
                  token: str, unreadable: Sequence[str] = (), acknowledged_replays: int = 0) -> Verdict:
    """The verdict on `events` (everything read from the topic) and on the log behind `client`; forged replays
    refused beyond `acknowledged_replays` fail it too."""
    judgement = checkpoints.judge(events, public_key)
    problems = [*unreadable, *judgement.problems]
    latest = judgement.latest
    lines = [f"读取检查点 {len(events)} 条，其中签名有效 {len(judgement.checkpoints)} 个"]
    lines += [f"问题：{p}" for p in problems]
    if latest is None:
        lines.append("结论：没有可用的有效检查点，无法核验审计日志")
        return Verdict(TAMPERED if problems else UNUSABLE, lines)
    report = await integrity_at(client, token, latest)
    check = report.get("checkpoint") or {}
    lines.append(f"对照第 {latest.stream_version} 号检查点（序号 {latest.payload.head_seq}）："
                 f"{check.get('message', '审计服务未返回检查点核对结果')}")
    if bad := report.get("first_bad"):
        lines.append(f"哈希链在序号 {bad['seq']} 处断裂（{bad['reason']}）")
    # The service's other reasons (a lost event past the grace period); the two above are printed already.
    lines += [f"问题：{p}" for p in report.get("problems", [])
              if p != check.get("message") and not p.startswith("哈希链在序号")]
    forged = forged_replay_lines(report, acknowledged=acknowledged_replays)
    lines += forged
    intact = not problems and not forged and report.get("valid") is True and check.get("matches") is True
    lines.append("结论：审计日志完整，与已签名的检查点一致" if intact else "结论：发现篡改或签名问题，请立即核查")
    return Verdict(OK if intact else TAMPERED, lines)


async def run(*, bootstrap: str, audit_url: str, public_key_pem: bytes, token: str, timeout: float,
              acknowledged_replays: int = 0) -> Verdict:
    try:
        public_key = checkpoints.load_public_pem(public_key_pem)
    except ValueError as exc:
        raise Unusable(f"公钥文件不是 Ed25519 公钥（PEM）：{exc}") from exc
    events, unreadable = await read_checkpoints(bootstrap, timeout=timeout)
    async with httpx.AsyncClient(base_url=audit_url, timeout=timeout) as client:
        return await inspect(events, public_key=public_key, client=client, token=token, unreadable=unreadable,
                             acknowledged_replays=acknowledged_replays)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.audit.verify",
                                     description="核验审计日志与 Kafka 上已签名的检查点是否一致")
    parser.add_argument("--bootstrap-servers", required=True, help="Kafka, e.g. kafka:9092")
    parser.add_argument("--audit-url", required=True, help="audit service, e.g. http://audit:8104")
    parser.add_argument("--public-key", required=True, help="PEM file of the pinned Ed25519 public key")
    parser.add_argument("--token", required=True, help="inspector's bearer token (JWT)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for Kafka and HTTP")
    parser.add_argument("--acknowledged-replays", type=int, default=0,
                        help="forged replays already looked into; only more than these fail the check")
    args = parser.parse_args(argv)
    try:
        with open(args.public_key, "rb") as f:
            pem = f.read()
    except OSError as exc:
        print(f"无法读取公钥文件：{exc}", flush=True)
        return UNUSABLE
    try:
        verdict = asyncio.run(run(bootstrap=args.bootstrap_servers, audit_url=args.audit_url, public_key_pem=pem,
                                  token=args.token, timeout=args.timeout,
                                  acknowledged_replays=args.acknowledged_replays))
    except Unusable as exc:
        verdict = Verdict(UNUSABLE, [str(exc)])
    except OSError as exc:
        verdict = Verdict(UNUSABLE, [f"连接失败：{exc}"])
    print("\n".join(verdict.lines), flush=True)
    return verdict.code


if __name__ == "__main__":
    sys.exit(main())
