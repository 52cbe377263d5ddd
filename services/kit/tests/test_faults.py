"""The one rule for transient faults, the publishability checks and the topic durability rule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    MessageSizeTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from pydantic import BaseModel, Field, ValidationError

from contracts.envelope import Actor, new_event_id
from contracts.events import CaseRated, CaseRatedPayload
from services.kit.faults import FaultCounters, describe, fault_class, is_record_refused, is_transient
from services.kit.loops import Backoff, LoopStats, run_forever
from services.kit.publishable import EventTooLarge, TextNotAccepted, publishable_body, unaccepted_text_at
from services.kit.testing import eventually
from services.kit.topics import min_insync_replicas, topic_configs

pytestmark = pytest.mark.unit
exc = asyncpg.exceptions


@pytest.mark.parametrize(("error", "kind"), [
    (exc.AdminShutdownError("terminating connection due to administrator command"), "shutdown"),
    (exc.CrashShutdownError(), "shutdown"),
    (exc.CannotConnectNowError(), "shutdown"),
    (exc.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"), "read_only"),
    (exc.ConnectionDoesNotExistError(), "connection"),
    (exc.ConnectionFailureError(), "connection"),
    (exc.TooManyConnectionsError(), "resources"),
    (exc.DiskFullError(), "resources"),
    (exc.SerializationError(), "conflict"),
    (exc.DeadlockDetectedError(), "conflict"),
    (asyncpg.InterfaceError("pool is closed"), "connection"),
    (ConnectionRefusedError(111, "refused"), "connection"),
    (OSError("network unreachable"), "connection"),
    (TimeoutError(), "timeout"),
    (KafkaConnectionError(), "kafka"),
    (UnknownTopicOrPartitionError(), "kafka"),
])
def test_infrastructure_faults_are_transient_by_class(error, kind):
    assert fault_class(error) == kind and is_transient(error)


@pytest.mark.parametrize("error", [
    exc.UniqueViolationError(), exc.UndefinedTableError(), exc.InsufficientPrivilegeError(),
    exc.QueryCanceledError(),  # 57014 is class 57 but not 57P: a statement timeout repeats itself
    exc.ModifyingSQLDataNotPermittedError(),  # 2F002, not 25006
    RuntimeError("handler bug"), KeyError("x"), TopicAuthorizationFailedError(), MessageSizeTooLargeError(),
])
def test_faults_of_the_message_or_the_code_are_not(error):
    assert fault_class(error) is None and not is_transient(error)


def test_counters_count_per_class():
    counters = FaultCounters()
    for error in (exc.AdminShutdownError(), exc.CrashShutdownError(), exc.ReadOnlySQLTransactionError(), KeyError()):
        counters.record(error)
    assert counters == {"shutdown": 2, "read_only": 1, "permanent": 1}


def test_a_reason_names_types_and_places_never_values():
    class Contact(BaseModel):
        phone: str = Field(max_length=5)

    with pytest.raises(ValidationError) as caught:
        Contact(phone="+8613800138000")
    reason = describe(caught.value)
    assert reason == "ValidationError: string_too_long at phone" and "138" not in reason
    assert describe(exc.ReadOnlySQLTransactionError("x")) == "ReadOnlySQLTransactionError (SQLSTATE 25006)"


def test_only_record_level_refusals_set_a_row_aside():
    assert is_record_refused(MessageSizeTooLargeError()) and is_record_refused(RecordTooLargeError())
    assert is_record_refused(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert not is_record_refused(TopicAuthorizationFailedError())  # refuses every row alike
    assert not is_record_refused(KafkaConnectionError())


def _rated(comment: str) -> CaseRated:
    case_id = uuid4()
    return CaseRated(event_id=new_event_id(), schema_version="1.0", occurred_at=datetime.now(UTC), source="intake",
                     case_id=case_id, stream_version=1, township_id="qingshui", actor=Actor(kind="resident", id="r"),
                     correlation_id=case_id, payload=CaseRatedPayload.model_construct(  # as a non-str field could
                         score=5, comment=comment, bad_rating=False))


def test_publishable_body_is_the_json_of_a_normal_event():
    event = _rated("办得很快")
    assert publishable_body(event) == event.model_dump_json()


@pytest.mark.parametrize("comment", ["a\x00b", "lone \ud800 surrogate", "\udfff"])
def test_nul_and_lone_surrogates_are_refused_naming_the_field(comment):
    with pytest.raises(TextNotAccepted) as refused:
        publishable_body(_rated(comment))
    assert refused.value.status == 422 and refused.value.code == "TEXT_NOT_ACCEPTED"
    assert refused.value.details == {"field": "payload.comment"} and "字符" in refused.value.message


def test_text_is_checked_in_keys_and_lists_too():
    assert unaccepted_text_at({"ok": ["x", {"k\x00": 1}]}) == ".ok[1].<key>"
    assert unaccepted_text_at({"ok": ["x", "中文", "emoji 😀"]}) is None


def test_an_event_over_the_limit_is_refused():
    with pytest.raises(EventTooLarge) as refused:
        publishable_body(_rated("长" * 1000), max_bytes=2000)
    assert refused.value.code == "EVENT_TOO_LARGE" and refused.value.details["limit"] == 2000
    assert refused.value.details["bytes"] > 3000  # UTF-8 bytes, not characters


@pytest.mark.parametrize(("replication", "min_isr"), [(1, 1), (2, 1), (3, 2), (5, 2)])
def test_min_insync_replicas_fits_the_replication_factor(replication, min_isr):
    assert min_insync_replicas(replication) == min_isr
    assert topic_configs(replication) == {"retention.ms": "-1", "min.insync.replicas": str(min_isr)}


def test_backoff_grows_and_is_capped():
    assert [Backoff(first=0.5, max=3.0).delay(n) for n in (1, 2, 3, 4, 9)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_a_loop_survives_failed_rounds_and_counts_them_by_class():
    outcomes = iter([exc.AdminShutdownError(), RuntimeError("bug"), True, False])
    stats = LoopStats()

    async def round_() -> bool:
        outcome = next(outcomes, False)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    task = asyncio.create_task(run_forever("test", round_, interval=0.01, stats=stats, backoff=Backoff(first=0.01)))
    try:
        await eventually(lambda: asyncio.sleep(0, result=stats.rounds >= 3), timeout=5, what="three rounds")
        assert stats.failures == 2 and stats.faults == {"shutdown": 1, "permanent": 1}
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
