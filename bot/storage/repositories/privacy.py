"""Everything stored about one user: export it, or delete it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    BroadcastDelivery,
    DialogStateRow,
    JoinAttempt,
    JournalEntry,
    Reminder,
    SavedQuestion,
    Scan,
    StaffMember,
    Team,
    TeamPatient,
    User,
)
from bot.storage.repositories._common import reminder_record, rowcount, scan_record, user_record

EXPORT_FORMAT = 1

# Children first, so the count is right even where a back end would not cascade.
_USER_TABLES: tuple[Any, ...] = (
    Reminder,
    Scan,
    JournalEntry,
    SavedQuestion,
    DialogStateRow,
    BroadcastDelivery,
    TeamPatient,
    StaffMember,
    JoinAttempt,
)


def _plain(value: Any) -> Any:
    """Turn dates and times into ISO 8601 text so the export is plain JSON."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


async def export_user_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Return everything stored about the user as a JSON-serialisable dict (empty lists if unknown)."""
    user = await session.get(User, user_id, populate_existing=True)
    journal = await session.scalars(
        select(JournalEntry)
        .where(JournalEntry.user_id == user_id)
        .order_by(JournalEntry.created_at, JournalEntry.id)
    )
    questions = await session.scalars(
        select(SavedQuestion)
        .where(SavedQuestion.user_id == user_id)
        .order_by(SavedQuestion.created_at, SavedQuestion.id)
    )
    scans = await session.scalars(
        select(Scan).where(Scan.user_id == user_id).order_by(Scan.created_at, Scan.id),
        execution_options={"populate_existing": True},
    )
    reminders = await session.scalars(
        select(Reminder).where(Reminder.user_id == user_id).order_by(Reminder.due_at, Reminder.id),
        execution_options={"populate_existing": True},
    )
    dialog = await session.get(DialogStateRow, user_id, populate_existing=True)
    teams = await session.execute(
        select(Team.name, TeamPatient.joined_at)
        .join(TeamPatient, TeamPatient.team_id == Team.id)
        .where(TeamPatient.user_id == user_id)
        .order_by(TeamPatient.joined_at)
    )
    staff = await session.execute(
        select(Team.name, StaffMember.role, StaffMember.joined_at)
        .join(StaffMember, StaffMember.team_id == Team.id)
        .where(StaffMember.user_id == user_id)
        .order_by(StaffMember.joined_at)
    )
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "user": None if user is None else asdict(user_record(user)),
        "journal": [
            {"id": row.id, "created_at": row.created_at, "prompt_key": row.prompt_key, "text": row.text}
            for row in journal
        ],
        "saved_questions": [
            {"id": row.id, "created_at": row.created_at, "text": row.text} for row in questions
        ],
        "scans": [asdict(scan_record(row)) for row in scans],
        "reminders": [asdict(reminder_record(row)) for row in reminders],
        "care_teams": [{"team": name, "joined_at": joined} for name, joined in teams.all()],
        "staff_of": [{"team": name, "role": role, "joined_at": joined} for name, role, joined in staff.all()],
        "dialog": None
        if dialog is None
        else {
            "flow": dialog.flow,
            "step": dialog.step,
            "data": json.loads(dialog.data),
            "updated_at": dialog.updated_at,
        },
    }
    return cast(dict[str, Any], _plain(export))


async def delete_user_data(session: AsyncSession, user_id: int) -> int:
    """Delete every row about the user within the session's transaction; return how many rows went."""
    deleted = 0
    for model in (*_USER_TABLES, User):
        column = model.id if model is User else model.user_id
        result = await session.execute(
            delete(model).where(column == user_id).execution_options(synchronize_session=False)
        )
        deleted += rowcount(result)
    # Objects loaded earlier in this session must not be flushed back or served from the identity map.
    session.expunge_all()
    return deleted
