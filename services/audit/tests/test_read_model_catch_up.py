"""The read model catches up with a log it has not folded (a database from before it, or a rebuild): in
chunks, exactly once per record, while live appends wait for it; then the consumer folds live again."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from services.audit import commands, read_model_store
from services.audit.tests.builders import T0, assigned, completed, rated, submitted, transferred
from services.kit.db import apply_migrations, create_pool

pytestmark = pytest.mark.integration
READ_MODEL = ("audit_cases", "audit_event_index", "audit_staff", "audit_roster_days", "audit_absences",
              "audit_complaints", "audit_bad_ratings")


@pytest.fixture
async def pool(make_database):
    pool = await create_pool(await make_database("it_audit_catch_up"), "audit")
    await apply_migrations(pool, "audit", Path(commands.__file__).parent)
    try:
        yield pool
    finally:
        await pool.close()


async def append(pool, event) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await commands.record_event(conn, event, now=T0)


async def facts(pool, case_id):
    async with pool.acquire() as conn:
        return dict(await conn.fetchrow("SELECT * FROM audit_cases WHERE case_id = $1", case_id))


async def test_catch_up_folds_what_the_live_fold_would_have(pool):
    case_id = uuid4()
    for event in (submitted(case_id), assigned(case_id, version=1), transferred(case_id, version=2),
                  completed(case_id, version=3)):
        await append(pool, event)
    live = await facts(pool, case_id)
    assert live["department_code"] == "civil_affairs" and live["on_time"] is True

    async with pool.acquire() as conn:  # as if the log came from before the read model
        await conn.execute(f"TRUNCATE {', '.join(READ_MODEL)}")
        await conn.execute("UPDATE audit_read_model_state SET folded_seq = 0")
    await append(pool, rated(case_id, version=2))  # behind: appended, left for the catch-up
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit_cases") == 0
        assert await read_model_store.folded_seq(conn) == 0

    assert await read_model_store.catch_up(pool, size=2) == 5
    assert await read_model_store.catch_up(pool, size=2) == 0
    again = await facts(pool, case_id)
    assert {k: v for k, v in again.items() if not k.startswith("rat")} == {
        k: v for k, v in live.items() if not k.startswith("rat")}
    assert again["rating_score"] == 5

    later = assigned(uuid4(), version=1)
    await append(pool, later)  # caught up: folded by the append itself
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit_event_index") == 6
        assert await read_model_store.folded_seq(conn) == 6
        assert await conn.fetchval("SELECT staff_id FROM audit_cases WHERE case_id = $1", later.case_id) == "staff-0012"
