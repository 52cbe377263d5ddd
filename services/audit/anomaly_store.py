"""The anomalies' SQL: each kind's candidates from the read model, by township and period, in keyset
pages on (the moment the anomaly arose, its id); the ranking of staff by breaches in offset pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.audit.anomalies import Limits
from services.audit.periods import Period


@dataclass(frozen=True)
class Spec:
    select: str
    source: str
    where: str
    at: str  # the moment the anomaly arose: sorts the list and is what the period filters
    id: str
    township: str


_CASES = Spec(select="c.*", source="audit_cases c", where="", at="", id="c.case_id::text", township="c.township_id")
# A bad rating (ADR 37) under the names the rating rules read; the case's department and holder until
# FollowUpOpened names the owner.
_BAD_RATINGS = Spec(
    select="b.rating_event_id, b.case_id, coalesce(b.case_no, c.case_no) AS case_no, b.township_id,"
           " coalesce(b.department_code, c.department_code) AS department_code,"
           " coalesce(b.owner_staff_id, c.staff_id) AS staff_id, b.score AS rating_score, b.rated_at,"
           " coalesce(b.appeal_upheld, false) AS rating_excluded, b.visited_at AS followed_up_at, b.rectified_at,"
           " b.visit_due, b.rectification_due, b.complaint_holds, b.opened_event_id",
    source="audit_bad_ratings b LEFT JOIN audit_cases c ON c.case_id = b.case_id", where="", at="b.rated_at",
    id="b.rating_event_id::text", township="b.township_id")
SPECS: dict[str, Spec] = {
    "overdue_case": Spec(**{**_CASES.__dict__, "at": "coalesce(c.promised_deadline, c.breached_at)", "where": (
        "(c.breached_at IS NOT NULL OR c.on_time = false"
        " OR (c.completed_at IS NULL AND c.rejected_at IS NULL AND c.promised_deadline < :now))")}),
    "ping_pong": Spec(**{**_CASES.__dict__, "at": "c.ping_pong_at", "where": "c.ping_pong_at IS NOT NULL"}),
    "second_notice": Spec(**{**_CASES.__dict__, "at": "c.second_notice_at", "where": "c.second_notices > 0"}),
    "refusal_without_centre_head": Spec(
        select="c.*, s.role AS approver_role, s.township_id AS approver_township",
        source="audit_cases c LEFT JOIN audit_staff s ON s.staff_id = c.rejection_approved_by",
        where="c.rejected_at IS NOT NULL AND (s.role IS DISTINCT FROM 'centre_head'"
              " OR s.township_id IS DISTINCT FROM c.township_id)",
        at="c.rejected_at", id="c.case_id::text", township="c.township_id"),
    "bad_rating_without_follow_up": Spec(**{**_BAD_RATINGS.__dict__, "where": (
        "b.score IS NOT NULL AND b.appeal_upheld IS NOT TRUE"
        " AND (b.visit_due < :now OR (b.visit_due IS NULL AND b.rated_at < :follow_up_cutoff))")}),
    "rectification_overdue": Spec(**{**_BAD_RATINGS.__dict__, "where": (
        "b.score IS NOT NULL AND b.appeal_upheld IS NOT TRUE AND b.complaint_holds IS NOT FALSE"
        " AND (b.rectification_due < :now OR (b.rectification_due IS NULL AND b.rated_at < :rectification_cutoff))")}),
    "completed_without_resident_told": Spec(**{**_CASES.__dict__, "at": "c.completed_at", "where": (
        "c.completed_at < :told_cutoff AND c.resident_told_at IS NULL")}),
    "absent_on_market_day": Spec(
        select="a.*, r.day_kind, s.department_code",
        source="audit_absences a JOIN audit_roster_days r ON r.township_id = a.township_id AND r.duty_date = a.duty_date"
               " LEFT JOIN audit_staff s ON s.staff_id = a.staff_id",
        where="r.day_kind IN ('market_day', 'office_day')", at="a.noticed_at", id="a.event_id::text",
        township="a.township_id"),
    "complaint_unanswered": Spec(select="k.*", source="audit_complaints k",
                                 where="k.answered_at IS NULL AND k.answer_due < :now", at="k.answer_due",
                                 id="k.complaint_id::text", township="k.township_id"),
}
_NAMED = re.compile(r":([a-z_]+)")


def _positional(sql: str, named: dict[str, Any], args: list[Any]) -> str:
    """`:name` placeholders as $n, appending their values to args."""
    def number(match: re.Match[str]) -> str:
        args.append(named[match.group(1)])
        return f"${len(args)}"
    return _NAMED.sub(number, sql)


def _cutoffs(now: datetime, limits: Limits) -> dict[str, Any]:
    # A limit of n working days ends no earlier than n calendar days later: a superset the rule narrows.
    return {"now": now, "follow_up_cutoff": now - timedelta(days=limits.follow_up_working_days),
            "rectification_cutoff": now - timedelta(days=limits.rectification_working_days),
            "told_cutoff": now - timedelta(hours=limits.resident_told_hours)}


async def candidates(conn: asyncpg.Connection, kind: str, *, now: datetime, limits: Limits, township_id: str | None,
                     period: Period, after: tuple[datetime, str] | None, limit: int) -> list[asyncpg.Record]:
    """One page of a kind's candidates, each with `sort_at` and `sort_id` for the next cursor."""
    spec = SPECS[kind]
    named = {**_cutoffs(now, limits), "township": township_id, "start": period.start, "end": period.end}
    clauses = [spec.where]
    if township_id is not None:
        clauses.append(f"{spec.township} = :township")
    if period.start:
        clauses.append(f"{spec.at} >= :start")
    if period.end:
        clauses.append(f"{spec.at} < :end")
    if after:
        named |= {"after_at": after[0], "after_id": after[1]}
        clauses.append(f"({spec.at}, {spec.id}) > (:after_at, :after_id)")
    args: list[Any] = []
    where = _positional(" AND ".join(clauses), named, args)
    return await conn.fetch(f"SELECT {spec.select}, {spec.at} AS sort_at, {spec.id} AS sort_id FROM {spec.source}"
                            f" WHERE {where} ORDER BY {spec.at}, {spec.id} LIMIT {int(limit)}", *args)


async def top_breaching_staff(conn: asyncpg.Connection, *, township_id: str | None, period: Period, offset: int,
                              limit: int) -> list[asyncpg.Record]:
    """Staff ranked by breaches: overdue cases they held, absences, upheld complaints about them."""
    named: dict[str, Any] = {"township": township_id, "start": period.start, "end": period.end}
    clauses = ["b.staff_id IS NOT NULL"]
    if township_id is not None:
        clauses.append("b.township_id = :township")
    if period.start:
        clauses.append("b.at >= :start")
    if period.end:
        clauses.append("b.at < :end")
    args: list[Any] = []
    where = _positional(" AND ".join(clauses), named, args)
    return await conn.fetch(
        "WITH b AS ("
        " SELECT coalesce(c.breached_staff_id, c.staff_id) AS staff_id, c.township_id, 'overdue' AS what,"
        "  coalesce(c.breached_event_id, c.completed_event_id) AS event_id, c.promised_deadline AS at"
        "  FROM audit_cases c WHERE c.breached_at IS NOT NULL OR c.on_time = false"
        " UNION ALL SELECT a.staff_id, a.township_id, 'absence', a.event_id, a.noticed_at FROM audit_absences a"
        " UNION ALL SELECT k.about_staff_id, k.township_id, 'complaint', k.answered_event_id, k.answered_at"
        "  FROM audit_complaints k WHERE k.upheld)"
        " SELECT b.staff_id, min(b.township_id) AS township_id, min(s.name) AS name,"
        "  min(s.department_code) AS department_code, count(*) AS total,"
        "  count(*) FILTER (WHERE b.what = 'overdue') AS overdue, count(*) FILTER (WHERE b.what = 'absence') AS absences,"
        "  count(*) FILTER (WHERE b.what = 'complaint') AS upheld_complaints, max(b.at) AS latest,"
        "  (array_agg(b.event_id ORDER BY b.at DESC))[1:20] AS event_ids"
        f" FROM b LEFT JOIN audit_staff s ON s.staff_id = b.staff_id WHERE {where}"
        f" GROUP BY b.staff_id ORDER BY total DESC, b.staff_id LIMIT {int(limit)} OFFSET {int(offset)}", *args)


async def evidence(conn: asyncpg.Connection, event_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """The audit records behind the findings: seq, type, time and who acted."""
    if not event_ids:
        return {}
    rows = await conn.fetch("SELECT seq, event_id, event_type, occurred_at, envelope FROM audit_log"
                            " WHERE event_id = ANY($1::uuid[])", list(set(event_ids)))
    return {r["event_id"]: {"event_id": r["event_id"], "seq": r["seq"], "event_type": r["event_type"],
                            "occurred_at": r["occurred_at"], "actor": json.loads(r["envelope"]).get("actor")}
            for r in rows}
