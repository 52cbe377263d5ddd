"""Fixtures of the kit's own integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kit.db import apply_migrations, create_pool

NO_SERVICE_MIGRATIONS = Path(__file__).parent / "no_such_service"


@pytest.fixture
async def store(make_database):
    """A fresh database holding only the kit's tables (events, processed_events, dead_letters): (dsn, pool)."""
    dsn = await make_database("it_kit")
    pool = await create_pool(dsn, "kit")
    await apply_migrations(pool, "kit", NO_SERVICE_MIGRATIONS)
    yield dsn, pool
    await pool.close()
