"""Small builders of routing test data: case states and CaseSubmitted events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.envelope import Actor, Envelope, NewEvent, new_event_id
from contracts.events import CaseSubmitted, CaseSubmittedPayload
from services.routing.domain import CaseState

DEADLINE = datetime(2026, 12, 4, 15, 59, 59, 999999, tzinfo=UTC)


def case_state(**overrides) -> CaseState:
    state = CaseState(
        case_id=UUID("01936f6e-0000-7000-8000-000000000001"), case_no="QS-20261123-0001", township_id="qingshui",
        item_code="SB-002", item_name="城乡居民养老保险待遇申领", department_code="social_security",
        department_name="社保站", staff_id="qs-social_security-01", status="assigned", promised_deadline=DEADLINE,
    )
    return replace(state, **overrides)


def case_submitted(*, township_id: str = "qingshui", department_code: str = "social_security",
                   deadline: datetime | None = None, case_id: UUID | None = None, at: datetime | None = None,
                   **payload) -> CaseSubmitted:
    """A CaseSubmitted as intake would publish it, with a fresh case id unless one is given; `payload`
    overrides fields of its payload (kind, limits, joint departments …)."""
    case_id = case_id or new_event_id()
    now = at or datetime.now(UTC)
    return CaseSubmitted(
        event_id=new_event_id(), schema_version="1.0", occurred_at=now, source="intake", case_id=case_id,
        stream_version=1, township_id=township_id, actor=Actor(kind="staff", id="window-01"), correlation_id=case_id,
        payload=CaseSubmittedPayload(
            case_no=f"QS-{now:%Y%m%d}-{case_id.hex[-4:]}", item_code="SB-002", item_name="城乡居民养老保险待遇申领",
            kind="promised", department_code=department_code, channel="window", applicant_name="张三",
            applicant_id_masked="1101**********002X",
            materials_provided=["bank_card", "hukou", "id_card"],
            promised_limit_days=10, promised_deadline=deadline or now + timedelta(days=14),
        ).model_copy(update=payload),
    )


def stamped(new: NewEvent, state: CaseState, *, occurred_at: datetime = DEADLINE + timedelta(days=1)) -> Envelope:
    """A decided event in its envelope, as the event store would stamp it."""
    return new.type(event_id=new_event_id(), schema_version="1.0", occurred_at=occurred_at, source="routing",
                    case_id=state.case_id, stream_version=1, township_id=state.township_id,
                    actor=Actor(kind="system", id="routing"), correlation_id=state.case_id, payload=new.payload)
