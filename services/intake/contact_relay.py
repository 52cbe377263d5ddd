"""Publishes each case's contact to the compacted contact topic: the number while it is kept, a
tombstone once it is erased (services/kit/compacted_relay.py says how and why)."""

from __future__ import annotations

import functools
from typing import Any

from contracts.contacts import CaseContact
from contracts.topics import INTAKE_CONTACTS
from services.intake.deps import IntakeRuntime
from services.intake.rating_commands import link_policy
from services.intake.rating_links import PATH_PREFIX, LinkClaims, make_token
from services.kit.compacted_relay import CompactedTable, KafkaRecordSender, Record, relay_forever
from services.kit.loops import LoopStats


def record_of(row: dict[str, Any], *, link_secret: bytes | None = None) -> Record:
    """The contact's record; with the case's rating link made again from its id and expiry (the token is
    never stored), when intake signs links."""
    if row["phone"] is None and row.get("agent_id") is None:  # erased
        return str(row["case_id"]).encode(), None
    path, expires = None, None
    if link_secret is not None and row.get("rating_link_id") is not None:
        claims = LinkClaims(link_id=row["rating_link_id"], expires_at=row["rating_link_expires_at"])
        path, expires = PATH_PREFIX + make_token(link_secret, claims), claims.expires_at
    contact = CaseContact(case_id=row["case_id"], township_id=row["township_id"], version=row["version"],
                          recorded_at=row["recorded_at"], applicant_phone=row["phone"], agent_id=row.get("agent_id"),
                          rating_link=path, rating_link_expires_at=expires,
                          rating_round=2 if path and row.get("rating_link_round") == 2 else None)
    return str(row["case_id"]).encode(), contact.to_json_bytes()


def case_contacts(link_secret: bytes | None) -> CompactedTable:
    return CompactedTable(table="case_contacts", key="case_id",
                          record_of=functools.partial(record_of, link_secret=link_secret))


async def contact_loop(runtime: IntakeRuntime, stats: LoopStats | None = None) -> None:
    settings = runtime.settings
    sender = KafkaRecordSender(settings.kafka_servers, settings.kafka_security, topic=INTAKE_CONTACTS,
                               client_id="bianmin-intake-contacts")
    table = case_contacts(link_policy(settings).secret)
    await relay_forever("contact-relay", runtime.pool, sender, table, batch=settings.contact_publish_batch,
                        interval=settings.contact_publish_interval, stats=stats, service=runtime.name)
