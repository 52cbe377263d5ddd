"""Routing's SQL of who is there: staff rows and presence, office lines, staff contacts, rosters, absences."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts.staff_events import RosterDay
from services.routing.assignment import Candidate
from services.routing.staff import Absence, OfficeLines, PresenceChange, Staff, StaffRecord

_STAFF_COLUMNS = ("staff_id, township_id, department_code, role, name, window_no, skills, active, presence,"
                  " away_reason, away_note, away_until")


def _staff(row: Any) -> Staff:
    values = dict(row)
    return Staff(**{**values, "skills": tuple(values["skills"])})


async def save_office_lines(conn: asyncpg.Connection, township_id: str, *, enquiry_line: str,
                            office_lines: dict[str, str]) -> None:
    """The centre's enquiry line (department '') and the departments' office lines, as the file says."""
    rows = [(township_id, "", enquiry_line), *((township_id, d, p) for d, p in office_lines.items())]
    await conn.execute("DELETE FROM office_lines WHERE township_id = $1", township_id)
    await conn.executemany("INSERT INTO office_lines (township_id, department_code, phone) VALUES ($1, $2, $3)", rows)


async def known_townships(conn: asyncpg.Connection) -> set[str]:
    return {r["township_id"] for r in await conn.fetch("SELECT township_id FROM office_lines WHERE department_code = ''")}


async def load_office_lines(conn: asyncpg.Connection, township_id: str) -> OfficeLines | None:
    lines = {r["department_code"]: r["phone"] for r in await conn.fetch(
        "SELECT department_code, phone FROM office_lines WHERE township_id = $1", township_id)}
    if "" not in lines:
        return None
    enquiry = lines.pop("")
    return OfficeLines(enquiry_line=enquiry, by_department=lines)


async def department_names(conn: asyncpg.Connection) -> dict[str, str]:
    return {r["department_code"]: r["name"] for r in await conn.fetch("SELECT department_code, name FROM departments")}


async def lock_staff_id(conn: asyncpg.Connection, staff_id: str) -> None:
    """Serialises recording one staff id, even before its row exists (two instances seeding at once)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('bianmin-staff:' || $1, 0))", staff_id)


async def lock_record(conn: asyncpg.Connection, staff_id: str) -> StaffRecord | None:
    """What county IT last recorded of a staff member (with the phone of their contact), row locked."""
    row = await conn.fetchrow(
        "SELECT s.staff_id, s.township_id, s.department_code, s.role, s.name, s.window_no, s.skills, s.active, c.phone"
        " FROM staff s LEFT JOIN staff_contacts c USING (staff_id) WHERE s.staff_id = $1 FOR UPDATE OF s", staff_id)
    if row is None:
        return None
    values = dict(row)
    return StaffRecord(**{**values, "skills": tuple(values["skills"])})


async def save_record(conn: asyncpg.Connection, record: StaffRecord) -> None:
    """Inserts or changes the directory part; presence is left as staff set it."""
    await conn.execute(
        "INSERT INTO staff (staff_id, township_id, department_code, role, name, window_no, skills, active)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (staff_id) DO UPDATE SET"
        " township_id = excluded.township_id, department_code = excluded.department_code, role = excluded.role,"
        " name = excluded.name, window_no = excluded.window_no, skills = excluded.skills, active = excluded.active",
        record.staff_id, record.township_id, record.department_code, record.role, record.name, record.window_no,
        list(record.skills), record.active)


async def save_contact(conn: asyncpg.Connection, record: StaffRecord, *, at: datetime) -> None:
    """A new version of the staff contact for the relay; no phone (or inactive) is a tombstone."""
    await conn.execute(
        "INSERT INTO staff_contacts (staff_id, township_id, department_code, role, name, phone, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (staff_id) DO UPDATE SET"
        " township_id = excluded.township_id, department_code = excluded.department_code, role = excluded.role,"
        " name = excluded.name, phone = excluded.phone, recorded_at = excluded.recorded_at,"
        " version = staff_contacts.version + 1",
        record.staff_id, record.township_id, record.department_code, record.role, record.name,
        record.phone if record.active else None, at)


async def get_staff(conn: asyncpg.Connection, staff_id: str) -> Staff | None:
    row = await conn.fetchrow(f"SELECT {_STAFF_COLUMNS} FROM staff WHERE staff_id = $1", staff_id)
    return _staff(row) if row else None


async def township_staff(conn: asyncpg.Connection, township_id: str) -> list[Staff]:
    rows = await conn.fetch(f"SELECT {_STAFF_COLUMNS} FROM staff WHERE township_id = $1 ORDER BY staff_id", township_id)
    return [_staff(r) for r in rows]


async def lock_township_staff(conn: asyncpg.Connection, township_id: str) -> list[Staff]:
    """Every staff row of a township, locked in staff_id order: the order every assignment locks them in."""
    rows = await conn.fetch(f"SELECT {_STAFF_COLUMNS} FROM staff WHERE township_id = $1 ORDER BY staff_id FOR UPDATE",
                            township_id)
    return [_staff(r) for r in rows]


async def active_staff(conn: asyncpg.Connection) -> list[Staff]:
    rows = await conn.fetch(f"SELECT {_STAFF_COLUMNS} FROM staff WHERE active ORDER BY staff_id")
    return [_staff(r) for r in rows]


async def open_counts(conn: asyncpg.Connection, staff_ids: list[str]) -> dict[str, int]:
    counts = dict(await conn.fetch(
        "SELECT staff_id, count(*) FROM cases WHERE status = 'assigned' AND staff_id = ANY($1::text[])"
        " GROUP BY staff_id", staff_ids))
    return {staff_id: counts.get(staff_id, 0) for staff_id in staff_ids}


async def lock_able_staff(conn: asyncpg.Connection, *, township_id: str, department_code: str,
                          item_code: str) -> list[Candidate]:
    """Active staff at their post in the township, of the department or skilled in the item, with open cases.

    The rows stay locked until commit (in staff_id order), so two concurrent assignments count each
    other's case instead of both picking the same person.
    """
    rows = await conn.fetch(
        "SELECT staff_id, department_code, skills FROM staff WHERE township_id = $1 AND active AND role = 'staff'"
        " AND presence = 'on_duty' AND (department_code = $2 OR $3 = ANY(skills)) ORDER BY staff_id FOR UPDATE",
        township_id, department_code, item_code)
    counts = await open_counts(conn, [r["staff_id"] for r in rows])
    return [Candidate(staff_id=r["staff_id"], department_code=r["department_code"], skills=frozenset(r["skills"]),
                      open_cases=counts[r["staff_id"]]) for r in rows]


async def save_presence(conn: asyncpg.Connection, staff_id: str, change: PresenceChange, *, at: datetime) -> None:
    await conn.execute(
        "UPDATE staff SET presence = $2, away_reason = $3, away_until = $4, away_note = $5, presence_at = $6"
        " WHERE staff_id = $1", staff_id, change.status, change.reason, change.away_until,
        change.note if change.status == "away" else "", at)


async def open_case_ids(conn: asyncpg.Connection, staff_id: str) -> list[UUID]:
    rows = await conn.fetch("SELECT case_id FROM cases WHERE status = 'assigned' AND staff_id = $1"
                            " ORDER BY promised_deadline, case_id", staff_id)
    return [r["case_id"] for r in rows]


async def held_case_ids(conn: asyncpg.Connection, *, township_id: str, department_code: str, skills: list[str],
                        limit: int) -> list[UUID]:
    """Cases the general window holds that a staff member of this department and skills is able for, oldest first."""
    rows = await conn.fetch(
        "SELECT case_id FROM cases WHERE status = 'assigned' AND held_by_general_window AND township_id = $1"
        " AND (department_code = $2 OR item_code = ANY($3::text[])) ORDER BY promised_deadline, case_id LIMIT $4",
        township_id, department_code, skills, limit)
    return [r["case_id"] for r in rows]


async def save_roster(conn: asyncpg.Connection, township_id: str, week_of: date, days: list[RosterDay]) -> None:
    """The week's roster replaces whatever was set for that week."""
    await conn.execute("DELETE FROM roster_days WHERE township_id = $1 AND week_of = $2", township_id, week_of)
    await conn.executemany(
        "INSERT INTO roster_days (township_id, duty_date, week_of, day_kind, staff_ids) VALUES ($1, $2, $3, $4, $5)",
        [(township_id, d.duty_date, week_of, d.day_kind, list(d.staff_ids)) for d in days])


async def roster_week(conn: asyncpg.Connection, township_id: str, week_of: date) -> list[RosterDay]:
    rows = await conn.fetch("SELECT duty_date, day_kind, staff_ids FROM roster_days WHERE township_id = $1"
                            " AND week_of = $2 ORDER BY duty_date", township_id, week_of)
    return [RosterDay(duty_date=r["duty_date"], day_kind=r["day_kind"], staff_ids=list(r["staff_ids"])) for r in rows]


async def roster_days_on(conn: asyncpg.Connection, day: date) -> dict[str, RosterDay]:
    """Each township's roster of `day`, where one was set."""
    rows = await conn.fetch("SELECT township_id, duty_date, day_kind, staff_ids FROM roster_days WHERE duty_date = $1",
                            day)
    return {r["township_id"]: RosterDay(duty_date=r["duty_date"], day_kind=r["day_kind"],
                                        staff_ids=list(r["staff_ids"])) for r in rows}


async def claim_absence(conn: asyncpg.Connection, absence: Absence, *, at: datetime) -> bool:
    """Records the absence unless this staff member, day and kind already has one; True when it is new."""
    return await conn.fetchval(
        "INSERT INTO staff_absences (staff_id, duty_date, kind, township_id, noticed_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING RETURNING true", absence.staff.staff_id, absence.duty_date, absence.kind,
        absence.staff.township_id, at) or False


async def list_absences(conn: asyncpg.Connection, *, township_id: str, since: date, limit: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT a.staff_id, s.name, s.department_code, a.duty_date, a.kind, a.noticed_at FROM staff_absences a"
        " JOIN staff s USING (staff_id) WHERE a.township_id = $1 AND a.duty_date >= $2"
        " ORDER BY a.duty_date DESC, a.noticed_at DESC LIMIT $3", township_id, since, limit)
    return [dict(r) for r in rows]
