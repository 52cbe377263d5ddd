"""Intake's SQL for the service catalogue: storing each loaded file's items by version, reading them back."""

from __future__ import annotations

import json

import asyncpg

from services.intake.catalogue_file import CatalogueError, CatalogueFile, ItemSpec
from services.intake.items import Item

# One intake replica at a time writes the catalogue (two starting together would race on versions).
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('bianmin.intake.catalogue'))"


async def store_catalogue(conn: asyncpg.Connection, catalogue: CatalogueFile) -> dict[str, str]:
    """Makes the file's content current; call in a transaction. Refuses a file whose content changed
    under a version already loaded. An item keeps the version that first carried its present content;
    answers item code -> that version."""
    await conn.execute(_LOCK)
    digest = await conn.fetchval("SELECT digest FROM catalogue_versions WHERE version = $1", catalogue.version)
    if digest is not None and digest != catalogue.digest():
        raise CatalogueError(f"the service catalogue changed but its version {catalogue.version!r} did not: "
                             "raise `version` in the file (e.g. to the month of the change) and start again")
    if digest is None:
        await conn.execute("INSERT INTO catalogue_versions (version, digest) VALUES ($1, $2)",
                           catalogue.version, catalogue.digest())
    await conn.executemany(
        "INSERT INTO townships (township_id, name, case_prefix) VALUES ($1, $2, $3)"
        " ON CONFLICT (township_id) DO UPDATE SET name = excluded.name",
        [(t.township_id, t.name, t.case_prefix) for t in catalogue.townships])
    versions = {item.item_code: await _store_item(conn, item, catalogue.version) for item in catalogue.items}
    # An item left out of the file is no longer offered; its versions stay for the cases taken under them.
    await conn.execute("DELETE FROM service_items WHERE item_code <> ALL($1::text[])",
                       [i.item_code for i in catalogue.items])
    return versions


async def _store_item(conn: asyncpg.Connection, item: ItemSpec, version: str) -> str:
    content = json.dumps(item.content(), ensure_ascii=False)
    known = await conn.fetchval(
        "SELECT catalogue_version FROM service_item_versions WHERE item_code = $1 AND content = $2::jsonb"
        " ORDER BY first_loaded_at LIMIT 1", item.item_code, content)
    if known is None:
        await conn.execute(
            "INSERT INTO service_item_versions (item_code, catalogue_version, content) VALUES ($1, $2, $3::jsonb)",
            item.item_code, version, content)
    materials = json.dumps([m.model_dump() for m in item.materials], ensure_ascii=False)
    await conn.execute(
        "INSERT INTO service_items (item_code, name, category, kind, department_code, handling_level, legal_limit_days,"
        " promised_limit_days, materials, catalogue_version, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (item_code) DO UPDATE SET name = excluded.name, category = excluded.category, kind = excluded.kind,"
        " department_code = excluded.department_code, handling_level = excluded.handling_level,"
        " legal_limit_days = excluded.legal_limit_days, promised_limit_days = excluded.promised_limit_days,"
        " materials = excluded.materials, catalogue_version = excluded.catalogue_version, content = excluded.content",
        item.item_code, item.name, item.category, item.kind, item.department_code, item.handling_level,
        item.legal_limit_days, item.promised_limit_days, materials, known or version, content)
    return known or version


def _item(content: str, version: str) -> Item:
    return ItemSpec.model_validate(json.loads(content)).to_item(version)


async def load_item(conn: asyncpg.Connection, item_code: str) -> Item | None:
    """The item as the catalogue in force describes it; None when the catalogue does not offer it."""
    row = await conn.fetchrow(
        "SELECT content, catalogue_version FROM service_items WHERE item_code = $1 AND content IS NOT NULL", item_code)
    return _item(row["content"], row["catalogue_version"]) if row else None


async def load_item_version(conn: asyncpg.Connection, item_code: str, catalogue_version: str) -> Item | None:
    """The item as it read under `catalogue_version` (an `Item.catalogue_version` a case recorded)."""
    content = await conn.fetchval(
        "SELECT content FROM service_item_versions WHERE item_code = $1 AND catalogue_version = $2",
        item_code, catalogue_version)
    return _item(content, catalogue_version) if content is not None else None
