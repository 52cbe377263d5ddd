"""Migration 003 on a log that already has gaps: each missing version becomes an open gap,
detected when the first record above it was recorded (real PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import uuid4

import pytest

from services.audit import store
from services.audit.tests.builders import assigned, chain_of, rated
from services.kit.db import apply_migrations, create_pool

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def test_existing_gaps_are_backfilled_as_open_gaps(make_database, tmp_path):
    (tmp_path / "migrations").mkdir()
    shutil.copy(MIGRATIONS / "001_audit.sql", tmp_path / "migrations")
    pool = await create_pool(await make_database("it_audit_backfill"), "audit")
    try:
        await apply_migrations(pool, "audit", tmp_path)
        gapped, whole = uuid4(), uuid4()
        records = chain_of([assigned(gapped, version=1), assigned(gapped, version=4), rated(gapped, version=1),
                            assigned(whole, version=1), assigned(whole, version=2)])
        async with pool.acquire() as conn:
            for record in records:
                await store.insert_record(conn, record)
        shutil.copy(MIGRATIONS / "003_integrity.sql", tmp_path / "migrations")
        await apply_migrations(pool, "audit", tmp_path)
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT case_id, source, version, detected_at, closed_at FROM stream_gaps"
                                    " ORDER BY version")
    finally:
        await pool.close()
    assert [(r["case_id"], r["source"], r["version"], r["closed_at"]) for r in rows] == [
        (gapped, "routing", 2, None), (gapped, "routing", 3, None)]
    assert {r["detected_at"] for r in rows} == {records[1].recorded_at}
