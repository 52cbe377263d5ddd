"""What the inspectors' reads cost: chaining ticket events with the hall_visits projection, a year of hall
figures for one busy township, a long case's timeline, and its dossier PDF.

PostgreSQL only, on a fresh audit database: BENCH_HALL_TICKETS tickets (four events each: issued, called,
started, ended) over the working days of one year are chained through commands.record_event, as the
consumer chains them; then the hall figures of that year are read and figured BENCH_READS times, and a
case of BENCH_CASE_EVENTS events is folded and printed.
Run: make bench   (BENCH_HALL_TICKETS=5000, BENCH_CASE_EVENTS=200, BENCH_READS=5)
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_to_audit import fresh_database, pct  # noqa: E402
from contracts.envelope import Actor, Envelope, Payload, Source, new_event_id  # noqa: E402
from contracts.events import (  # noqa: E402
    CaseAssigned,
    CaseAssignedPayload,
    CaseTransferred,
    CaseTransferredPayload,
    ServiceEnded,
    ServiceEndedPayload,
    ServiceStarted,
    ServiceStartedPayload,
    TicketCalled,
    TicketCalledPayload,
    TicketIssued,
    TicketIssuedPayload,
    event_type_name,
)
from deploy import local  # noqa: E402
from services.audit import commands, hall_figures_store, store  # noqa: E402
from services.audit.dossier import Dossier, RecordHash, render_dossier  # noqa: E402
from services.audit.hall_figures import hall_figures  # noqa: E402
from services.audit.settings import AuditSettings  # noqa: E402
from services.audit.timeline import timeline  # noqa: E402
from services.kit.db import apply_migrations, create_pool  # noqa: E402

TOWNSHIP = "qingshui"
YEAR = 2025
STAFF = Actor(kind="staff", id="qs-window-01")


def _event(cls: type[Envelope], stream: uuid.UUID, version: int, at: datetime, payload: Payload, *,
           source: Source = "intake") -> Envelope:
    return cls(event_id=new_event_id(), event_type=event_type_name(cls), schema_version="1.0", occurred_at=at,
               source=source, case_id=stream, stream_version=version, township_id=TOWNSHIP, actor=STAFF,
               correlation_id=stream, payload=payload)


def visit(n: int, rng: random.Random, days: list[date]) -> list[Envelope]:
    """One ticket on a random working day, in office hours weighted to the morning."""
    ticket, day = uuid.uuid4(), rng.choice(days)
    hour = rng.choices(range(8, 17), weights=[6, 9, 8, 5, 1, 3, 5, 4, 2])[0] - 8  # UTC+8
    issued = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=UTC)
    wait, service, no = rng.randrange(60, 1800), rng.randrange(180, 1500), f"A{n % 1000:03d}"
    return [
        _event(TicketIssued, ticket, 1, issued, TicketIssuedPayload(ticket_no=no, queue="civil_affairs", issued_at=issued)),
        _event(TicketCalled, ticket, 2, issued + timedelta(seconds=wait), TicketCalledPayload(
            ticket_no=no, window_no="1", staff_id=STAFF.id, wait_seconds=wait)),
        _event(ServiceStarted, ticket, 3, issued + timedelta(seconds=wait + 30), ServiceStartedPayload(
            ticket_no=no, window_no="1", staff_id=STAFF.id, wait_seconds=wait + 30)),
        _event(ServiceEnded, ticket, 4, issued + timedelta(seconds=wait + 30 + service), ServiceEndedPayload(
            ticket_no=no, outcome="served", service_seconds=service)),
    ]


def long_case(events: int) -> list[Envelope]:
    """A case assigned, then passed between two departments: one routing event after another."""
    case_id, at = uuid.uuid4(), datetime(YEAR, 3, 3, 2, 0, tzinfo=UTC)
    out = [_event(CaseAssigned, case_id, 1, at, CaseAssignedPayload(
        department_code="social_security", department_name="社保站", staff_id="qs-social_security-01",
        promised_deadline=at + timedelta(days=10)), source="routing")]
    for version in range(2, events + 1):
        there, back = ("civil_affairs", "民政办") if version % 2 else ("social_security", "社保站")
        out.append(_event(CaseTransferred, case_id, version, at + timedelta(minutes=version), CaseTransferredPayload(
            from_department_code="social_security" if there == "civil_affairs" else "civil_affairs",
            to_department_code=there, to_department_name=back, reason="业务归属调整", transfer_count=version - 1),
            source="routing"))
    return out


async def run(dsn: str, *, tickets: int, case_events: int, reads: int) -> None:
    pool = await create_pool(dsn, schema="audit")
    await apply_migrations(pool, "audit", ROOT / "services" / "audit")
    rng = random.Random(7)
    days = [date(YEAR, 1, 1) + timedelta(days=d) for d in range(365)]
    days = [d for d in days if d.isoweekday() <= 5]
    now = datetime.now(UTC)

    started, chained = time.perf_counter(), 0
    async with pool.acquire() as conn:
        for n in range(tickets):
            for event in visit(n, rng, days):
                async with conn.transaction():
                    await commands.record_event(conn, event, now=now)
                chained += 1
    took = time.perf_counter() - started
    print(f"chained {chained:,} ticket events with the hall_visits projection: {took:.1f} s, "
          f"{chained / took:,.0f} events/s")

    timings = []
    for _ in range(reads):
        started = time.perf_counter()
        async with pool.acquire() as conn:
            found = await hall_figures_store.tickets(conn, township_id=TOWNSHIP, start=datetime(YEAR, 1, 1, tzinfo=UTC),
                                                     end=datetime(YEAR + 1, 1, 1, tzinfo=UTC))
        figures = hall_figures(found, township_id=TOWNSHIP, first_day=date(YEAR, 1, 1), last_day=date(YEAR, 12, 31),
                               target_wait_minutes=15)
        timings.append((time.perf_counter() - started) * 1000)
    busiest = max(figures.staffing, key=lambda s: s.windows)
    print(f"hall figures, one township, one year ({len(found):,} tickets): p50 {pct(timings, 50):.0f} ms, "
          f"max {max(timings):.0f} ms; busiest slot {busiest.weekday_name} {busiest.hour}:00, "
          f"{busiest.arrivals_per_hour} an hour, {busiest.windows} windows")

    events = long_case(case_events)
    async with pool.acquire() as conn:
        for event in events:
            async with conn.transaction():
                await commands.record_event(conn, event, now=now)
    timings, pdf_ms = [], []
    for _ in range(reads):
        started = time.perf_counter()
        async with pool.acquire() as conn:
            records = await store.case_records(conn, events[0].case_id)
        folded = timeline(records)
        timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        pdf = render_dossier(Dossier(case_id=events[0].case_id, township_id=TOWNSHIP, timeline=folded, head=None,
                                     records=[RecordHash(seq=r.seq, event_id=r.event_id, hash=r.hash,
                                                         prev_hash=r.prev_hash) for r in records]),
                             font=AuditSettings().font_file, printed_at=now)
        pdf_ms.append((time.perf_counter() - started) * 1000)
    print(f"timeline of a case of {len(records)} events (read and fold): p50 {pct(timings, 50):.1f} ms, "
          f"max {max(timings):.1f} ms")
    print(f"dossier PDF of that case ({len(pdf) / 1024:.0f} KiB): p50 {pct(pdf_ms, 50):.0f} ms, "
          f"max {max(pdf_ms):.0f} ms")
    await pool.close()


def main() -> int:
    tickets = int(os.environ.get("BENCH_HALL_TICKETS", "5000"))
    case_events = int(os.environ.get("BENCH_CASE_EVENTS", "200"))
    reads = int(os.environ.get("BENCH_READS", "5"))
    infra = local.ensure_infra()
    dsn = asyncio.run(fresh_database(infra.database_url))
    asyncio.run(run(dsn, tickets=tickets, case_events=case_events, reads=reads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
