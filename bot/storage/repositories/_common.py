"""Helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Reminder, Scan, User
from bot.storage.records import ReminderRecord, ScanRecord, UserRecord

SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` if it carries a time zone, else raise ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def require_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA time zone, else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError("timezone must be an IANA time zone name") from None
    return name


def dialect_name(session: AsyncSession) -> str:
    """Return the session's back end name, refusing anything but SQLite and PostgreSQL."""
    name = session.get_bind().dialect.name
    if name not in SUPPORTED_DIALECTS:
        raise NotImplementedError(f"BoneBot storage supports SQLite and PostgreSQL, not {name}")
    return name


def upsert(session: AsyncSession, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Return the dialect's INSERT that understands ON CONFLICT."""
    return upsert_for(dialect_name(session), model)


def upsert_for(dialect: str, model: Any) -> postgresql.Insert | sqlite.Insert:
    """Return the INSERT into ``model`` (a mapped class or a table) that understands ON CONFLICT on ``dialect``."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def rowcount(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE touched."""
    return cast(CursorResult[Any], result).rowcount


def user_record(row: User) -> UserRecord:
    """Copy a user row into a record."""
    return UserRecord(
        id=row.id,
        chat_id=row.chat_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        consent=row.consent,
        profile=row.profile,
        medicine=row.medicine,
        depth_pref=row.depth_pref,
        date_order=row.date_order,
        timezone=row.timezone,
        reminders_enabled=row.reminders_enabled,
        updates_enabled=row.updates_enabled,
        paused=row.paused,
        blocked=row.blocked,
        lead_days=row.lead_days,
        two_hours_before=row.two_hours_before,
        last_intent=row.last_intent,
        last_level=row.last_level,
        country=row.country,
        alarm_kind=row.alarm_kind,
        alarm_at=row.alarm_at,
        date_order_chosen=row.date_order_chosen,
    )


def scan_record(row: Scan) -> ScanRecord:
    """Copy a scan row into a record."""
    return ScanRecord(
        id=row.id,
        user_id=row.user_id,
        scan_date=row.scan_date,
        scan_time=row.scan_time,
        timezone=row.timezone,
        status=row.status,
        created_at=row.created_at,
    )


def reminder_record(row: Reminder) -> ReminderRecord:
    """Copy a reminder row into a record."""
    return ReminderRecord(
        id=row.id,
        scan_id=row.scan_id,
        user_id=row.user_id,
        kind=row.kind,
        lead_days=row.lead_days,
        due_at=row.due_at,
        status=row.status,
        attempts=row.attempts,
        sent_at=row.sent_at,
        last_error=row.last_error,
        unconfirmed_claims=row.unconfirmed_claims,
    )
