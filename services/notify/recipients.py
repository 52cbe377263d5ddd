"""Who a message goes to: a queued notice, a recipient who cannot be reached, the staff notify knows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.events import RecipientKind
from contracts.staff_events import StaffRole

# The recipient id of an unreachable notice when a township has no centre head with a number.
CENTRE_HEAD = "centre_head"


@dataclass(frozen=True)
class Notice:
    """One SMS to queue: who receives it and which template renders it with which values."""

    recipient_kind: RecipientKind
    phone: str
    template_code: str
    params: Mapping[str, object]
    recipient_id: str = ""  # the staff id; one message per recipient and event
    relayed_for: str | None = None  # the resident's name when their village agent receives it to pass on


@dataclass(frozen=True)
class Unreachable:
    """A staff member who should be told and has no number here (or CENTRE_HEAD: the township has none)."""

    recipient_id: str
    template_code: str


@dataclass(frozen=True)
class StaffMember:
    """A staff member as routing's staff-contacts topic last described them; phone None once they left."""

    staff_id: str
    township_id: str
    department_code: str
    role: StaffRole
    name: str
    phone: str | None


@dataclass(frozen=True)
class Reach:
    """The staff an event may concern: the holder it names, if notify knows them, and the township's
    centre heads with a number."""

    holder: StaffMember | None = None
    heads: tuple[StaffMember, ...] = ()
