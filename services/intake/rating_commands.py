"""Rating use cases: each channel's way in, one transaction each; and what intake does when routing
tells it a case moved (the department's name for the status page, a rating link on completion)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from contracts.envelope import Envelope, Source
from contracts.events import CaseCompleted, CaseRated, RatingChannel
from services.intake import rating_links, rating_store, ratings, second_rating, second_rating_commands
from services.intake.case_status import StatusFacts
from services.intake.domain import CaseNotFound
from services.intake.settings import IntakeSettings
from services.kit.auth import MIN_SECRET_LENGTH, ConfigurationError
from services.kit.clock import Clock
from services.kit.errors import ApiError
from services.kit.eventstore import Origin, append
from services.kit.inbox import Apply

log = logging.getLogger(__name__)
SOURCE: Source = "intake"
SYSTEM = "system"


class ApplicantCaseNotFound(CaseNotFound):
    """An unknown case, another number, an erased number: one answer, so a caller learns nothing."""

    message = "未找到该办件：请核对办件编号和申请时登记的手机号码"


@dataclass(frozen=True)
class LinkPolicy:
    """How rating links are signed and how long they live; without a secret there are none."""

    secret: bytes | None
    ttl: timedelta

    def require(self) -> bytes:
        if self.secret is None:
            raise ApiError(503, "RATING_LINKS_DISABLED", "短信评价链接未启用，请通过评价器或办件查询页评价")
        return self.secret


def link_policy(settings: IntakeSettings) -> LinkPolicy:
    secret = settings.rating_link_secret.get_secret_value() if settings.rating_link_secret else ""
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"INTAKE_RATING_LINK_SECRET is too short: {len(secret)} characters, "
                                 f"at least {MIN_SECRET_LENGTH} required")
    return LinkPolicy(secret=secret.encode() or None, ttl=timedelta(days=settings.rating_link_ttl_days))


async def _rate(conn: asyncpg.Connection, case_id: UUID, rating: ratings.Rating, channel: RatingChannel, *,
                now: datetime, may_see: Callable[[str], None] | None = None) -> CaseRated:
    found = await rating_store.lock_rated_case(conn, case_id)
    if found is None:
        raise CaseNotFound()
    case, township_id = found
    if may_see:
        may_see(township_id)
    events = ratings.decide_rating(case, rating, channel)
    [rated] = await append(conn, source=SOURCE, case_id=case_id, township_id=township_id,
                           origin=Origin(actor=ratings.ANONYMOUS_RATER), events=events, now=now)
    assert isinstance(rated, CaseRated)
    await rating_store.mark_rated(conn, case_id, score=rating.score, channel=channel, at=now, event_id=rated.event_id)
    return rated


async def rate_in_person(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, rating: ratings.Rating, role: str,
                         may_see: Callable[[str], None]) -> CaseRated:
    """The window pad, or the village agent as the resident tells them."""
    channel = ratings.channel_of(role)
    ratings.check_rating(rating, channel)
    async with pool.acquire() as conn, conn.transaction():
        return await _rate(conn, case_id, rating, channel, now=clock.now(), may_see=may_see)


async def rate_by_status(pool: asyncpg.Pool, clock: Clock, *, case_no: str, phone: str,
                         rating: ratings.Rating) -> CaseRated:
    ratings.check_rating(rating, "status_page")
    async with pool.acquire() as conn, conn.transaction():
        case_id = await rating_store.case_of_applicant(conn, case_no, phone)
        if case_id is None:
            raise ApplicantCaseNotFound()
        return await _rate(conn, case_id, rating, "status_page", now=clock.now())


async def rate_again_in_person(pool: asyncpg.Pool, clock: Clock, *, case_id: UUID, rating: ratings.Rating, role: str,
                               may_see: Callable[[str], None]) -> CaseRated:
    """The second rating (整改后再评价) at the window pad, or by the village agent as the resident tells them."""
    channel = ratings.channel_of(role)
    ratings.check_rating(rating, channel)
    async with pool.acquire() as conn, conn.transaction():
        township_id = await conn.fetchval("SELECT township_id FROM cases WHERE case_id = $1", case_id)
        if township_id is None:
            raise CaseNotFound()
        may_see(township_id)
        return await second_rating_commands.rate_again(conn, case_id, rating, channel, now=clock.now())


async def rate_again_by_status(pool: asyncpg.Pool, clock: Clock, *, case_no: str, phone: str,
                               rating: ratings.Rating) -> CaseRated:
    """The second rating (整改后再评价) from the status page, once a rectification asked for it."""
    ratings.check_rating(rating, "status_page")
    async with pool.acquire() as conn, conn.transaction():
        case_id = await rating_store.case_of_applicant(conn, case_no, phone)
        if case_id is None:
            raise ApplicantCaseNotFound()
        return await second_rating_commands.rate_again(conn, case_id, rating, "status_page", now=clock.now())


async def case_status(pool: asyncpg.Pool, *, case_no: str, phone: str) -> StatusFacts:
    async with pool.acquire() as conn:
        case_id = await rating_store.case_of_applicant(conn, case_no, phone)
        if case_id is None:
            raise ApplicantCaseNotFound()
        return await rating_store.status_facts(conn, case_id)


async def issue_link(pool: asyncpg.Pool, clock: Clock, links: LinkPolicy, *, case_id: UUID, issued_by: str,
                     may_see: Callable[[str], None]) -> tuple[str, rating_links.LinkClaims]:
    """A new link for a completed case not yet rated; an earlier link of the case stops working."""
    secret, now = links.require(), clock.now()
    async with pool.acquire() as conn, conn.transaction():
        found = await rating_store.lock_rated_case(conn, case_id)
        if found is None:
            raise CaseNotFound()
        may_see(found[1])
        ratings.check_rateable(found[0])
        claims = rating_links.new_claims(now, links.ttl)
        token = rating_links.make_token(secret, claims)
        await rating_store.save_link(conn, case_id, claims, token_hash=rating_links.token_hash(token),
                                     issued_by=issued_by, at=now, replace=True)
    return token, claims


async def link_facts(pool: asyncpg.Pool, clock: Clock, links: LinkPolicy, *, token: str) -> asyncpg.Record:
    """What a link rates, once it is genuine, current and unused."""
    now = clock.now()
    rating_links.read_token(links.require(), token, now=now)
    async with pool.acquire() as conn:
        facts = await rating_store.link_facts(conn, rating_links.token_hash(token))
    _check_link(facts, now)
    assert facts is not None
    return facts


async def rate_by_link(pool: asyncpg.Pool, clock: Clock, links: LinkPolicy, *, token: str,
                       rating: ratings.Rating) -> CaseRated:
    ratings.check_rating(rating, "sms_link")
    now = clock.now()
    rating_links.read_token(links.require(), token, now=now)
    digest = rating_links.token_hash(token)
    async with pool.acquire() as conn, conn.transaction():
        case_id = await rating_store.case_of_link(conn, digest)
        if case_id is None:
            raise rating_links.LinkInvalid()
        # Case first, then link, as every path locks them, so two uses of one link wait for each other.
        await rating_store.lock_rated_case(conn, case_id)
        link = await rating_store.lock_link(conn, digest)
        _check_link(link, now)
        assert link is not None
        rated = (await second_rating_commands.rate_again(conn, case_id, rating, "sms_link", now=now)
                 if link["rating_round"] == second_rating.SECOND_ROUND
                 else await _rate(conn, case_id, rating, "sms_link", now=now))
        await rating_store.mark_link_used(conn, case_id, at=now)
    return rated


def _check_link(link: asyncpg.Record | None, now: datetime) -> None:
    if link is None:  # never issued, or replaced by a newer link of its case
        raise rating_links.LinkInvalid()
    if link["used_at"] is not None:
        raise rating_links.LinkUsed()
    if link["expires_at"] <= now:
        raise rating_links.LinkExpired()


def with_link_on_completion(apply: Apply, links: LinkPolicy, clock: Clock) -> Apply:
    """Routing's handler, then in the same transaction a rating link when the event completes the case."""

    async def handle(conn: asyncpg.Connection, event: Envelope) -> None:
        await apply(conn, event)
        if isinstance(event, CaseCompleted):
            await _link_on_completion(conn, event, links, clock)

    return handle


async def _link_on_completion(conn: asyncpg.Connection, event: CaseCompleted, links: LinkPolicy, clock: Clock) -> None:
    """Stores a link for the SMS sender to send. Its life counts from the completion, so a replayed old
    completion issues nothing that would reach a resident months later."""
    if links.secret is None:
        return
    expires_at = event.occurred_at + links.ttl
    found = await rating_store.lock_rated_case(conn, event.case_id)
    if found is None or not ratings.can_rate(found[0]) or clock.now() >= expires_at:
        return
    claims = rating_links.new_claims(event.occurred_at, links.ttl)
    token = rating_links.make_token(links.secret, claims)
    if await rating_store.save_link(conn, event.case_id, claims, token_hash=rating_links.token_hash(token),
                                    issued_by=SYSTEM, at=clock.now(), replace=False):
        log.info("rating link issued on completion", extra={"case_id": str(event.case_id)})
