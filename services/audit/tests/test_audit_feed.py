"""A client recomputes the whole chain from the feed alone, with nothing of the server's code."""

from __future__ import annotations

import hashlib
import json

import pytest

from services.audit.tests.probes import INSPECTOR, audit_with_one_case
from services.audit.tests.tamper import rewrite_township

pytestmark = pytest.mark.integration
GENESIS = "0" * 64


def first_broken_seq(entries: list[dict]) -> int | None:
    """What an inspector's own script does: the seq of the first entry that does not chain, or None.

    Each entry's hash must be sha256 over the previous entry's hash followed by its hashed text,
    and the hashed text must say what the entry says (so the server cannot show one envelope
    and have hashed another)."""
    prev_seq, prev_hash = 0, GENESIS
    for e in entries:
        hashed = json.loads(e["hashed_text"])
        says = (hashed["seq"], hashed["event_id"], hashed["envelope"]) == (e["seq"], e["event_id"], e["envelope"])
        digest = hashlib.sha256((e["prev_hash"] + e["hashed_text"]).encode("utf-8")).hexdigest()
        if e["seq"] != prev_seq + 1 or e["prev_hash"] != prev_hash or digest != e["hash"] or not says:
            return e["seq"]
        prev_seq, prev_hash = e["seq"], e["hash"]
    return None


async def _whole_feed(client) -> list[dict]:
    entries: list[dict] = []
    while page := (await client.get("/api/v1/events", params={"after_seq": entries[-1]["seq"] if entries else 0,
                                                             "limit": 2}, headers=INSPECTOR)).json():
        entries += page
    return entries


@pytest.fixture
async def audit(infra, make_database):
    async with audit_with_one_case(infra, make_database, "it_audit_feed", checkpoint_seconds=3600) as (client, dsn, ours, _):
        yield client, dsn, ours


async def test_client_recomputes_every_hash_from_the_feed(audit):
    client, _, ours = audit
    entries = await _whole_feed(client)
    assert {e["event_id"] for e in ours} <= {e["event_id"] for e in entries}
    assert first_broken_seq(entries) is None
    submitted_id = next(e["event_id"] for e in ours if e["event_type"] == "CaseSubmitted")
    submitted_entry = next(e for e in entries if e["event_id"] == submitted_id)
    assert '"applicant_name":"张三"' in submitted_entry["envelope"]  # canonical text, as it was hashed


async def test_a_changed_record_is_detected_by_the_client(audit):
    client, dsn, ours = audit
    target = min(ours, key=lambda e: e["seq"])
    await rewrite_township(dsn, target["seq"])
    assert first_broken_seq(await _whole_feed(client)) == target["seq"]


def test_the_client_check_fails_on_a_forged_entry():
    entry = {"seq": 1, "event_id": "e", "envelope": "{}", "prev_hash": GENESIS}
    entry["hashed_text"] = json.dumps({"seq": 1, "event_id": "e", "envelope": "{}"})
    entry["hash"] = hashlib.sha256((GENESIS + entry["hashed_text"]).encode()).hexdigest()
    assert first_broken_seq([entry]) is None
    assert first_broken_seq([entry | {"envelope": '{"x":1}'}]) == 1
    assert first_broken_seq([entry | {"seq": 2}]) == 2
