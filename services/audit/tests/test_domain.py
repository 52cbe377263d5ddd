import hashlib
import json
from dataclasses import replace
from datetime import timedelta, timezone
from uuid import uuid4

import pytest

from services.audit import domain
from services.audit.tests.builders import assigned, chain_of, completed, rated, submitted, transferred

pytestmark = pytest.mark.unit


def _chain(n_routing: int = 3):
    case_id = uuid4()
    events = [submitted(case_id), assigned(case_id, version=1), transferred(case_id, version=2),
              completed(case_id, version=3), rated(case_id, version=2)]
    return chain_of(events[: 2 + n_routing])


def test_envelope_is_canonical():
    event = submitted(uuid4())
    text = domain.audit_envelope(event)
    data = json.loads(text)
    assert data["payload"]["applicant_name"] == "张三" and "张三" in text  # ensure_ascii=False
    assert text == json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))



def test_record_hash_covers_prev_hash_and_every_field():
    [first] = chain_of([submitted(uuid4())])
    assert first.prev_hash == domain.GENESIS_HASH == "0" * 64
    expected = hashlib.sha256((first.prev_hash + domain.canonical_json(domain.hashed_fields(first))).encode()).hexdigest()
    assert first.hash == expected
    for change in ({"seq": 2}, {"topic": "x"}, {"township_id": "baishi"}, {"stream_version": 9}, {"trace_id": "ab"},
                   {"occurred_at": first.occurred_at + timedelta(microseconds=1)}, {"envelope": first.envelope + " "},
                   {"prev_hash": "1" * 64}, {"case_id": uuid4()}):
        assert domain.record_hash(replace(first, **change)) != first.hash, change


def test_hash_does_not_depend_on_the_timezone_an_instant_is_written_in():
    [first] = chain_of([submitted(uuid4())])
    shifted = replace(first, recorded_at=first.recorded_at.astimezone(timezone(timedelta(hours=8))))
    assert domain.record_hash(shifted) == first.hash


def test_valid_chain_has_no_bad_record():
    records = _chain()
    state = domain.verify_chain(records)
    assert state.first_bad is None
    assert (state.records, state.head_seq, state.head_hash) == (5, 5, records[-1].hash)
    assert domain.first_bad_record([]) is None


def test_verifying_in_chunks_equals_verifying_at_once():
    records = _chain()
    state = domain.verify_chain(records[:2])
    state = domain.verify_chain(records[2:], state)
    assert state == domain.verify_chain(records)


def test_changed_row_is_a_hash_mismatch():
    records = _chain()
    forged = records[2].envelope.replace("民政办", "社保站")
    assert forged != records[2].envelope
    records[2] = replace(records[2], envelope=forged)
    assert domain.first_bad_record(records) == domain.ChainBreak(3, records[2].event_id, "hash_mismatch")


def test_rewritten_and_rehashed_row_breaks_the_next_link():
    records = _chain()
    forged = replace(records[1], township_id="baishi")
    records[1] = replace(forged, hash=domain.record_hash(forged))
    assert domain.first_bad_record(records) == domain.ChainBreak(3, records[2].event_id, "prev_hash_mismatch")


def test_deleted_row_is_a_seq_gap_at_the_next_record():
    records = _chain()
    del records[2]
    assert domain.first_bad_record(records) == domain.ChainBreak(4, records[2].event_id, "seq_gap")
    assert domain.first_bad_record(_chain()[1:]).reason == "seq_gap"  # first record deleted


def test_renumbered_rows_after_a_delete_are_caught_by_prev_hash():
    records = _chain()
    del records[2]
    records[2:] = [replace(r, seq=r.seq - 1) for r in records[2:]]
    assert domain.first_bad_record(records) == domain.ChainBreak(3, records[2].event_id, "prev_hash_mismatch")


def test_only_the_first_break_is_reported_but_all_records_are_counted():
    records = _chain()
    records[1] = replace(records[1], trace_id="forged")
    records[3] = replace(records[3], trace_id="forged")
    state = domain.verify_chain(records)
    assert state.first_bad.seq == 2 and state.records == 5 and state.head_seq == 5


def test_missing_versions_are_those_below_the_highest_seen():
    assert domain.missing_versions([1, 2, 3]) == []
    assert domain.missing_versions([3, 1]) == [2]  # arrival order does not matter
    assert domain.missing_versions([4]) == [1, 2, 3]
    assert domain.missing_versions([2, 2, 5]) == [1, 3, 4]
    assert domain.missing_versions([]) == []
    assert domain.missing_versions([2_000_000_000], limit=3) == [1, 2, 3]


def test_stream_gaps_per_source_leave_complete_sources_out():
    seen = [("intake", 1), ("routing", 3), ("routing", 1), ("intake", 2), ("notify", 2)]
    assert domain.stream_gaps(seen) == {"notify": [1], "routing": [2]}
    assert domain.stream_gaps([("intake", 1)]) == {}
