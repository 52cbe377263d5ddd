"""The second rating's use cases (整改后再评价): routing's rectification asking for it opens the round and issues
its SMS link; the one rating of round 2 is recorded beside the first. Each runs in its caller's transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from contracts.envelope import Source
from contracts.events import CaseRated, RatingChannel
from contracts.rating_events import RectificationRecorded
from services.intake import rating_links, rating_store, ratings, second_rating, second_rating_store
from services.intake.domain import CaseNotFound
from services.kit.clock import Clock
from services.kit.eventstore import Origin, append
from services.kit.inbox import Apply

log = logging.getLogger(__name__)
SOURCE: Source = "intake"
SYSTEM = "system"


async def rate_again(conn: asyncpg.Connection, case_id: UUID, rating: ratings.Rating, channel: RatingChannel, *,
                     now: datetime) -> CaseRated:
    """Round 2: CaseRated following the first rating; the first stays as it was."""
    found = await second_rating_store.lock_second_round(conn, case_id)
    if found is None:
        raise CaseNotFound()
    case, township_id = found
    events = second_rating.decide_second_rating(case, rating, channel)
    [rated] = await append(conn, source=SOURCE, case_id=case_id, township_id=township_id,
                           origin=Origin(actor=ratings.ANONYMOUS_RATER), events=events, now=now)
    await second_rating_store.mark_rated_again(conn, case_id, score=rating.score, channel=channel, at=now)
    assert isinstance(rated, CaseRated)
    return rated


def on_rectification(secret: bytes | None, ttl: timedelta, clock: Clock) -> Apply:
    """Routing's RectificationRecorded: with rate_again, the case may be rated once more, through a new SMS link
    (handed to notify on the contact record like the first) and on the status page."""

    async def handle(conn: asyncpg.Connection, event: RectificationRecorded) -> None:
        if not event.payload.rate_again:
            return
        found = await second_rating_store.lock_second_round(conn, event.case_id)
        extra = {"case_id": str(event.case_id)}
        if found is None or not second_rating.may_ask(found[0]):
            log.warning("rate-again asked for a case not rated once, or rated again already; ignored", extra=extra)
            return
        await second_rating_store.mark_asked(conn, event.case_id, at=event.occurred_at)
        # The link's life counts from the rectification: a replayed old one issues nothing a resident would get late.
        expires_at = event.occurred_at + ttl
        if secret is None or clock.now() >= expires_at:
            return
        claims = rating_links.new_claims(event.occurred_at, ttl)
        token = rating_links.make_token(secret, claims)
        await rating_store.save_link(conn, event.case_id, claims, token_hash=rating_links.token_hash(token),
                                     issued_by=SYSTEM, at=clock.now(), replace=True,
                                     rating_round=second_rating.SECOND_ROUND)
        log.info("rate-again link issued after a rectification", extra=extra)

    return handle
