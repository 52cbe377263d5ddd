"""Guard: committed JSON Schemas match the models, and events round-trip."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts.envelope import Actor, new_event_id
from contracts.events import EVENT_TYPES, EVENTS_BY_TOPIC, CaseRated, CaseRatedPayload, parse_event
from contracts.generate import SCHEMA_DIR, render, schema_file
from contracts.topics import ALL_TOPICS, EVENT_TOPICS, PRODUCERS

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
def test_committed_schema_matches_model(cls):
    path = schema_file(cls)
    assert path.exists(), f"{path.name} missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == render(cls), f"{path.name} drifted from the model: run `make schemas`"


def test_no_stale_schema_files():
    expected = {schema_file(cls).name for cls in EVENT_TYPES}
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == expected


def test_topics_follow_naming_rule():
    """bianmin.<producing service>.<stream>.v<major>; case streams are `cases`."""
    for topic, producer in PRODUCERS.items():
        prefix, service, stream, version = topic.split(".")
        assert (prefix, service, version) == ("bianmin", producer, "v1")
        assert stream in ("cases", "checkpoints", "inspections", "hall", "staff")
    assert len(set(ALL_TOPICS)) == len(ALL_TOPICS)


def test_each_event_type_is_on_its_producers_topic():
    for cls in EVENT_TYPES:
        assert cls.TOPIC in EVENT_TOPICS
        assert cls in EVENTS_BY_TOPIC[cls.TOPIC]
    assert {cls.TOPIC for cls in EVENT_TYPES} == set(EVENT_TOPICS)


def test_event_round_trips_and_rejects_unknown_fields():
    case_id = uuid4()
    event = CaseRated(
        event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
        case_id=case_id, stream_version=3, township_id="qingshui", actor=Actor(kind="resident", id="applicant"),
        correlation_id=case_id, payload=CaseRatedPayload(score=2, comment="慢", bad_rating=True),
    )
    again = parse_event(event.to_json_bytes())
    assert again == event
    data = json.loads(event.to_json_bytes())
    data["payload"]["extra"] = 1
    with pytest.raises(ValueError):
        parse_event(data)
    with pytest.raises(ValueError):
        parse_event(b"not json")


def test_id_card_number_never_in_a_schema():
    for cls in EVENT_TYPES:
        text = render(cls)
        assert "id_card_number" not in text and "applicant_id\"" not in text
