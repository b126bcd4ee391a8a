"""Care teams: teams, their staff and invites, patient join codes and memberships, and counts for /stats."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    AnswerTally,
    JoinAttempt,
    Scan,
    StaffInvite,
    StaffMember,
    Team,
    TeamJoinCode,
    TeamPatient,
    User,
)
from bot.storage.records import CodeLookup, CodeStatus, StaffRecord, TeamRecord
from bot.storage.repositories._common import dialect_name, require_aware, rowcount, upsert, upsert_for

# Telegram's start parameter: at most 64 characters of A-Z, a-z, 0-9, _ and -.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CODE_BYTES = 24  # 32 URL-safe characters: unguessable, and well inside the 64-character limit
MAX_TEAM_NAME = 64
MAX_CONTACT_FIELD = {"contact_phone": 64, "contact_email": 128, "contact_hours": 128}


def new_code() -> str:
    """Return a fresh secret code that fits Telegram's start parameter."""
    code = secrets.token_urlsafe(CODE_BYTES)
    assert CODE_PATTERN.match(code)
    return code


def team_record(row: Team) -> TeamRecord:
    """Copy a team row into a record."""
    return TeamRecord(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        contact_phone=row.contact_phone,
        contact_email=row.contact_email,
        contact_hours=row.contact_hours,
    )


def _staff_record(row: StaffMember) -> StaffRecord:
    return StaffRecord(team_id=row.team_id, user_id=row.user_id, role=row.role, joined_at=row.joined_at)


# -- teams and staff ------------------------------------------------------------------------------


async def create_team(session: AsyncSession, name: str, creator_id: int, now: dt.datetime) -> TeamRecord:
    """Create a team with ``creator_id`` (an existing user) as its owner and a first join code."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_TEAM_NAME:
        raise ValueError(f"a team name needs 1 to {MAX_TEAM_NAME} characters")
    require_aware(now, "now")
    team = Team(name=name, created_at=now)
    session.add(team)
    await session.flush()
    session.add(StaffMember(team_id=team.id, user_id=creator_id, role="owner", joined_at=now))
    session.add(TeamJoinCode(code=new_code(), team_id=team.id, created_at=now))
    await session.flush()
    return team_record(team)


async def get_team(session: AsyncSession, team_id: int) -> TeamRecord | None:
    """Return the team, or None."""
    row = await session.get(Team, team_id, populate_existing=True)
    return None if row is None else team_record(row)


async def get_staff(session: AsyncSession, team_id: int, user_id: int) -> StaffRecord | None:
    """Return the user's staff membership of the team, or None: the check behind every staff action."""
    row = await session.get(StaffMember, (team_id, user_id), populate_existing=True)
    return None if row is None else _staff_record(row)


async def list_staff_teams(session: AsyncSession, user_id: int) -> list[TeamRecord]:
    """Return the teams the user works for, by name."""
    rows = await session.scalars(
        select(Team)
        .join(StaffMember, StaffMember.team_id == Team.id)
        .where(StaffMember.user_id == user_id)
        .order_by(Team.name, Team.id),
        execution_options={"populate_existing": True},
    )
    return [team_record(row) for row in rows]


async def list_staff(session: AsyncSession, team_id: int) -> list[StaffRecord]:
    """Return the team's staff, owners first, then by when they joined."""
    rows = await session.scalars(
        select(StaffMember)
        .where(StaffMember.team_id == team_id)
        .order_by(StaffMember.role, StaffMember.joined_at, StaffMember.user_id)
    )
    return [_staff_record(row) for row in rows]


async def remove_staff(session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Take the user off the team's staff; return whether they were on it."""
    result = await session.execute(
        delete(StaffMember)
        .where(StaffMember.team_id == team_id, StaffMember.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_team_contact(session: AsyncSession, team_id: int, **fields: str | None) -> TeamRecord | None:
    """Change the team's contact route (``contact_phone``, ``contact_email``, ``contact_hours``)."""
    values: dict[str, str | None] = {}
    for name, value in fields.items():
        limit = MAX_CONTACT_FIELD.get(name)
        if limit is None:
            raise TypeError(f"set_team_contact() cannot change {name!r}")
        value = " ".join(value.split()) if value else None
        if value is not None and len(value) > limit:
            raise ValueError(f"{name} must be at most {limit} characters")
        values[name] = value or None
    if values:
        await session.execute(
            update(Team)
            .where(Team.id == team_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return await get_team(session, team_id)


# -- join codes and invites -------------------------------------------------------------------------


async def current_join_code(session: AsyncSession, team_id: int) -> str | None:
    """Return the team's live join code, or None when it was revoked without a replacement."""
    return await session.scalar(
        select(TeamJoinCode.code)
        .where(TeamJoinCode.team_id == team_id, TeamJoinCode.revoked_at.is_(None))
        .order_by(TeamJoinCode.created_at.desc())
        .limit(1)
    )


async def revoke_join_codes(session: AsyncSession, team_id: int, now: dt.datetime) -> int:
    """Revoke every live join code of the team; return how many."""
    result = await session.execute(
        update(TeamJoinCode)
        .where(TeamJoinCode.team_id == team_id, TeamJoinCode.revoked_at.is_(None))
        .values(revoked_at=require_aware(now, "now"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def rotate_join_code(session: AsyncSession, team_id: int, now: dt.datetime) -> str:
    """Revoke the team's join code and return a new one: old links stop working at once."""
    await revoke_join_codes(session, team_id, now)
    code = new_code()
    await session.execute(insert(TeamJoinCode).values(code=code, team_id=team_id, created_at=now))
    return code


async def create_staff_invite(
    session: AsyncSession, team_id: int, created_by: int, now: dt.datetime, valid_for: dt.timedelta
) -> str:
    """Create a single-use staff invite that expires after ``valid_for``; return its code."""
    require_aware(now, "now")
    code = new_code()
    await session.execute(
        insert(StaffInvite).values(
            code=code, team_id=team_id, created_by=created_by, created_at=now, expires_at=now + valid_for
        )
    )
    return code


async def lookup_code(session: AsyncSession, code: str, now: dt.datetime) -> CodeLookup:
    """Tell what a start code is: a live join code or invite, a rotated, expired or used one, or unknown."""
    require_aware(now, "now")
    if not CODE_PATTERN.match(code):
        return CodeLookup(CodeStatus.UNKNOWN)
    join = await session.get(TeamJoinCode, code, populate_existing=True)
    if join is not None:
        team = await get_team(session, join.team_id)
        return CodeLookup(CodeStatus.JOIN if join.revoked_at is None else CodeStatus.ROTATED, team)
    invite = await session.get(StaffInvite, code, populate_existing=True)
    if invite is not None:
        team = await get_team(session, invite.team_id)
        if invite.used_at is not None:
            return CodeLookup(CodeStatus.USED, team)
        if invite.revoked_at is not None or invite.expires_at <= now:
            return CodeLookup(CodeStatus.EXPIRED, team)
        return CodeLookup(CodeStatus.INVITE, team)
    return CodeLookup(CodeStatus.UNKNOWN)


async def use_staff_invite(
    session: AsyncSession, code: str, user_id: int, now: dt.datetime
) -> TeamRecord | None:
    """Spend a live invite on ``user_id`` and make them staff; None if it is used, expired or unknown.

    The conditional UPDATE is the single-use guarantee: of two people opening one invite at once, one wins.
    """
    require_aware(now, "now")
    team_id = await session.scalar(
        update(StaffInvite)
        .where(
            StaffInvite.code == code,
            StaffInvite.used_at.is_(None),
            StaffInvite.revoked_at.is_(None),
            StaffInvite.expires_at > now,
        )
        .values(used_at=now, used_by=user_id)
        .returning(StaffInvite.team_id)
        .execution_options(synchronize_session=False)
    )
    if team_id is None:
        return None
    statement = upsert(session, StaffMember).values(
        team_id=team_id, user_id=user_id, role="staff", joined_at=now
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["team_id", "user_id"]))
    return await get_team(session, team_id)


async def record_join_failure(session: AsyncSession, user_id: int, now: dt.datetime) -> None:
    """Remember a wrong, expired or rotated code from this user (for the guessing limit)."""
    await session.execute(insert(JoinAttempt).values(user_id=user_id, created_at=require_aware(now, "now")))


async def count_join_failures(session: AsyncSession, user_id: int, since: dt.datetime) -> int:
    """Return how many failed codes the user tried since ``since``."""
    count = await session.scalar(
        select(func.count())
        .select_from(JoinAttempt)
        .where(JoinAttempt.user_id == user_id, JoinAttempt.created_at >= require_aware(since, "since"))
    )
    return int(count or 0)


async def purge_join_attempts_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Delete failed-code records older than ``cutoff``; return how many."""
    result = await session.execute(
        delete(JoinAttempt)
        .where(JoinAttempt.created_at < require_aware(cutoff, "cutoff"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


# -- patients ---------------------------------------------------------------------------------------


async def add_patient(session: AsyncSession, team_id: int, user_id: int, now: dt.datetime) -> bool:
    """Make the user a patient of the team; return False if they already were."""
    statement = upsert(session, TeamPatient).values(
        team_id=team_id, user_id=user_id, joined_at=require_aware(now, "now")
    )
    result = await session.execute(statement.on_conflict_do_nothing(index_elements=["team_id", "user_id"]))
    return rowcount(result) == 1


async def remove_patient(session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Take the user out of the team's patients; return whether they were in it."""
    result = await session.execute(
        delete(TeamPatient)
        .where(TeamPatient.team_id == team_id, TeamPatient.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def is_patient(session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Tell whether the user is one of the team's patients."""
    return await session.get(TeamPatient, (team_id, user_id), populate_existing=True) is not None


async def list_patient_teams(session: AsyncSession, user_id: int) -> list[TeamRecord]:
    """Return the teams the user belongs to as a patient, by name."""
    rows = await session.scalars(
        select(Team)
        .join(TeamPatient, TeamPatient.team_id == Team.id)
        .where(TeamPatient.user_id == user_id)
        .order_by(Team.name, Team.id),
        execution_options={"populate_existing": True},
    )
    return [team_record(row) for row in rows]


async def count_patients(session: AsyncSession, team_id: int) -> int:
    """Return how many patients the team has."""
    count = await session.scalar(
        select(func.count()).select_from(TeamPatient).where(TeamPatient.team_id == team_id)
    )
    return int(count or 0)


# -- counts for /stats ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamCounts:
    """A team's patients by state, and their upcoming scans; counts only."""

    patients: int
    active: int
    blocked: int
    paused: int
    scans_30: int
    scans_90: int


async def team_counts(session: AsyncSession, team_id: int, today: dt.date) -> TeamCounts:
    """Count the team's patients (active, blocked, paused) and their scans in the next 30 and 90 days."""
    members = select(TeamPatient.user_id).where(TeamPatient.team_id == team_id)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(and_(User.blocked.is_(False), User.paused.is_(False))),
                func.count().filter(User.blocked.is_(True)),
                func.count().filter(and_(User.blocked.is_(False), User.paused.is_(True))),
            ).where(User.id.in_(members))
        )
    ).one()
    scans = (
        await session.execute(
            select(
                func.count().filter(Scan.scan_date <= today + dt.timedelta(days=30)),
                func.count().filter(Scan.scan_date <= today + dt.timedelta(days=90)),
            ).where(Scan.user_id.in_(members), Scan.status == "upcoming", Scan.scan_date >= today)
        )
    ).one()
    return TeamCounts(
        patients=int(row[0]),
        active=int(row[1]),
        blocked=int(row[2]),
        paused=int(row[3]),
        scans_30=int(scans[0]),
        scans_90=int(scans[1]),
    )


@functools.cache
def _tally_statement(dialect: str) -> Any:
    """Build the tally upsert once per back end: it runs on every answer."""
    table = cast(
        Table, AnswerTally.__table__
    )  # a Core statement: the ORM's bulk-insert path adds nothing to a counter
    statement = upsert_for(dialect, table).values(
        month=bindparam("tally_month"), intent=bindparam("tally_intent"), count=1
    )
    return statement.on_conflict_do_update(
        index_elements=["month", "intent"], set_={"count": table.c.count + 1}
    )


async def tally_answer(session: AsyncSession, month: str, intent: str) -> None:
    """Add one to the month's count of answers on ``intent`` (kept without any link to who asked)."""
    await session.execute(
        _tally_statement(dialect_name(session)), {"tally_month": month, "tally_intent": intent}
    )


async def answers_by_topic(session: AsyncSession, month: str, limit: int = 10) -> list[tuple[str, int]]:
    """Return the month's most answered topics with their counts, commonest first."""
    rows = await session.execute(
        select(AnswerTally.intent, AnswerTally.count)
        .where(AnswerTally.month == month)
        .order_by(AnswerTally.count.desc(), AnswerTally.intent)
        .limit(limit)
    )
    return [(intent, int(count)) for intent, count in rows.all()]
