"""Audit's Merkle tree at county scale: inclusion and consistency proof latency over a log of
1,000,000 records, the export rate (server side, and the verifier recomputing it), and the cost
of writing the tree's nodes with each appended record.

A fresh audit database (PostgreSQL only) is filled with COPY: records chained and hashed in
Python in batches, each with the leaf and parent nodes the service would have written. Proofs are
timed at the store (SQL and hashing, no HTTP): one query fetches the O(log n) nodes of a proof.
Run: make bench   (BENCH_AUDIT_RECORDS=1000000, BENCH_AUDIT_PROOFS=1000, BENCH_AUDIT_APPENDS=2000)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.envelope import Actor, new_event_id  # noqa: E402
from contracts.events import CaseAssigned, CaseAssignedPayload  # noqa: E402
from deploy import local  # noqa: E402
from services.audit import commands, domain, merkle, merkle_store, store  # noqa: E402
from services.audit.export_routes import export_line  # noqa: E402
from services.audit.verifier.export_check import ExportCheck  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402

SERVICE_DIR = ROOT / "services" / "audit"
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
BATCH = 50_000
RECORD_COLUMNS = ("seq", "event_id", "topic", "event_type", "case_id", "township_id", "source", "stream_version",
                  "occurred_at", "recorded_at", "trace_id", "envelope", "prev_hash", "hash")


def event(case_id=None, version: int = 1, at: datetime = T0) -> CaseAssigned:
    return CaseAssigned(event_id=new_event_id(), schema_version="1.0", occurred_at=at, source="routing",
                        case_id=case_id or uuid4(), stream_version=version, township_id="qingshui",
                        actor=Actor(kind="system", id="routing"), correlation_id=uuid4(),
                        payload=CaseAssignedPayload(department_code="social_security", department_name="社保站",
                                                    staff_id="staff-0012", promised_deadline=T0 + timedelta(days=10)))


class TreeWriter:
    """The nodes the service writes, for leaves appended in order: the frontier of complete
    subtrees is all a new leaf's parents need."""

    def __init__(self) -> None:
        self.frontier: dict[merkle.Node, bytes] = {}
        self.size = 0

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made = merkle.appended_nodes(self.size, leaf, self.frontier)
        for level, idx, h in made:
            self.frontier[(level, idx)] = h
            self.frontier.pop((level, idx - 1), None)  # a left sibling that now has its parent
        self.size += 1
        return made


async def fill(pool: asyncpg.Pool, n: int) -> float:
    started = time.perf_counter()
    template = domain.new_record(event(), topic=CaseAssigned.TOPIC, seq=1, prev_hash=domain.GENESIS_HASH,
                                 recorded_at=T0, trace_id=None)
    body = json.loads(template.envelope)
    prev, tree = domain.GENESIS_HASH, TreeWriter()
    for first in range(1, n + 1, BATCH):
        rows, nodes = [], []
        for seq in range(first, min(first + BATCH, n + 1)):
            # The subscriber's record, built without pydantic per row: the envelope is the template's
            # canonical JSON with its own ids, so a million rows hash in seconds, not minutes.
            event_id, case_id = new_event_id(), uuid4()
            body.update(event_id=str(event_id), case_id=str(case_id), correlation_id=str(case_id))
            draft = replace(template, seq=seq, event_id=event_id, case_id=case_id, prev_hash=prev,
                            envelope=domain.canonical_json(body), recorded_at=T0 + timedelta(seconds=seq))
            text = domain.canonical_json(domain.hashed_fields(draft)).encode()  # once for the chain and the leaf
            prev = hashlib.sha256(prev.encode() + text).hexdigest()
            rows.append((*(getattr(draft, c) for c in RECORD_COLUMNS[:-1]), prev))
            nodes += tree.append(merkle.leaf_hash(text))
        async with pool.acquire() as conn, conn.transaction():
            await conn.copy_records_to_table("audit_log", records=rows, columns=list(RECORD_COLUMNS))
            await conn.copy_records_to_table("merkle_nodes", records=nodes, columns=["level", "idx", "hash"])
        print(f"  filled {min(first + BATCH - 1, n):,} records ({time.perf_counter() - started:.0f} s)", flush=True)
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE audit_log; ANALYZE merkle_nodes")
    return time.perf_counter() - started


async def proofs(pool: asyncpg.Pool, n: int, count: int) -> tuple[list[float], list[float]]:
    async with pool.acquire() as conn:
        ids = [r["event_id"] for r in await conn.fetch(
            "SELECT event_id FROM audit_log WHERE seq = ANY($1::bigint[])", random.sample(range(1, n + 1), count))]
        root = await merkle_store.root(conn, n)
        inclusion: list[float] = []
        for event_id in ids:
            t = time.perf_counter()
            record = await merkle_store.record_of(conn, event_id)
            assert record is not None
            path = await merkle_store.inclusion_proof(conn, record.seq - 1, n)
            inclusion.append((time.perf_counter() - t) * 1000)
            assert merkle.verify_inclusion(record.seq - 1, n, merkle_store.record_leaf(record), path, root)
        consistency: list[float] = []
        for _ in range(count):
            first = random.randint(1, n)
            t = time.perf_counter()
            proof = await merkle_store.consistency_proof(conn, first, n)
            consistency.append((time.perf_counter() - t) * 1000)
        assert merkle.verify_consistency(first, n, await merkle_store.root(conn, first), root, proof)
    return inclusion, consistency


async def export(pool: asyncpg.Pool, chunk: int, path: Path) -> tuple[int, float, float]:
    """Records/s of the export's lines as the service makes them, and of the verifier checking them."""
    count, started = 0, time.perf_counter()
    with path.open("w", encoding="utf-8") as f:
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            async for records in store.record_chunks(conn, size=chunk):
                f.write("".join(export_line(r) for r in records))
                count += len(records)
    served = count / (time.perf_counter() - started)
    started, check = time.perf_counter(), ExportCheck(heads=[])
    with path.open(encoding="utf-8") as f:
        for line in f:
            check.feed(line)
    assert check.first_bad is None and check.records == count
    return count, served, count / (time.perf_counter() - started)


async def append_rate(pool: asyncpg.Pool, count: int, *, with_tree: bool) -> float:
    """Events/s appended one transaction each, as the subscriber does; without the tree: the old path."""
    events = [event(version=1) for _ in range(count)]
    started = time.perf_counter()
    for e in events:
        async with pool.acquire() as conn, conn.transaction():
            if with_tree:
                await commands.record_event(conn, e, now=T0)
            else:
                await store.lock_log(conn)
                seq, prev = await store.head(conn)
                await store.insert_record(conn, domain.new_record(e, topic=CaseAssigned.TOPIC, seq=seq + 1,
                                                                  prev_hash=prev, recorded_at=T0, trace_id=None))
    return count / (time.perf_counter() - started)


async def run(n: int, count: int, appends: int) -> None:
    local.start_postgres()  # PostgreSQL only
    dsn = await fresh_database(local.database_url())
    pool = await create_pool(dsn, "audit", max_size=4)
    try:
        await apply_migrations(pool, "audit", SERVICE_DIR)
        print(f"bench: audit Merkle proofs over {n:,} records", flush=True)
        filled = await fill(pool, n)
        inclusion, consistency = await proofs(pool, n, count)
        with tempfile.TemporaryDirectory() as tmp:
            exported, served, checked = await export(pool, 2000, Path(tmp) / "export.jsonl")
        # The tree first, so the records without it come after and leave the tree behind only at the end.
        with_tree = await append_rate(pool, appends, with_tree=True)
        without = await append_rate(pool, appends, with_tree=False)
        async with pool.acquire() as conn:
            size = await conn.fetchval("SELECT pg_total_relation_size('merkle_nodes')")
    finally:
        await pool.close()
        await _drop(dsn)
    print(f"\nfilled {n:,} records and their nodes with COPY in {filled:.0f} s; node table {size / 2**20:.0f} MiB")
    print(f"inclusion proof (record by event id + one node query + hashing), {count} random: "
          f"p50 {pct(inclusion, 50):.2f} ms, p99 {pct(inclusion, 99):.2f} ms")
    print(f"consistency proof (random first size to {n:,}), {count}: "
          f"p50 {pct(consistency, 50):.2f} ms, p99 {pct(consistency, 99):.2f} ms")
    print(f"export of {exported:,} records: served {served:,.0f} records/s; verifier recomputes chain and roots "
          f"at {checked:,.0f} records/s")
    print(f"append, one event per transaction ({appends:,} each): with the tree {with_tree:,.0f} events/s, "
          f"without {without:,.0f} events/s ({(1 - with_tree / without) * 100:.0f}% slower with the tree)")


async def _drop(dsn: str) -> None:
    conn = await asyncpg.connect(dsn.rpartition("/")[0] + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}"')
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=int(os.environ.get("BENCH_AUDIT_RECORDS", "1000000")))
    parser.add_argument("--proofs", type=int, default=int(os.environ.get("BENCH_AUDIT_PROOFS", "1000")))
    parser.add_argument("--appends", type=int, default=int(os.environ.get("BENCH_AUDIT_APPENDS", "2000")))
    args = parser.parse_args()
    asyncio.run(run(args.records, args.proofs, args.appends))
    return 0


if __name__ == "__main__":
    sys.exit(main())
