"""Leasing due reminders to dispatchers, race-safe across processes."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Reminder, Scan, User
from bot.storage.records import ClaimedReminder
from bot.storage.repositories._common import dialect_name, require_aware, rowcount

logger = logging.getLogger(__name__)

# Statuses are spelled as SQL literals so the planner can match the partial indexes' predicates.
_PENDING: ColumnElement[str] = literal_column("'pending'")
_CLAIMED: ColumnElement[str] = literal_column("'claimed'")
# On SQLite a candidate can be taken by another process between the SELECT and the conditional UPDATE;
# a few more looks fill the batch, and after the first successful UPDATE this connection holds the write lock.
_SQLITE_ROUNDS = 3
FINAL_STATUSES = ("missed", "failed", "cancelled")
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def pending_due_query(now: datetime, limit: int) -> Select[int, str, int]:
    """Select pending reminders due by ``now``, earliest first (an ordered scan of a partial index)."""
    return (
        select(Reminder.id, Reminder.status, Reminder.attempts)
        .where(Reminder.status == _PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )


def expired_claims_query(now: datetime, limit: int) -> Select[int, str, int]:
    """Select claimed reminders whose lease ran out by ``now``, oldest lease first."""
    return (
        select(Reminder.id, Reminder.status, Reminder.attempts)
        .where(Reminder.status == _CLAIMED, Reminder.lease_until <= now)
        .order_by(Reminder.lease_until, Reminder.id)
        .limit(limit)
    )


def _still_claimable(status: str, now: datetime) -> ColumnElement[bool]:
    if status == "pending":
        return and_(Reminder.status == _PENDING, Reminder.due_at <= now)
    return and_(Reminder.status == _CLAIMED, Reminder.lease_until <= now)


def _claim_values(token: str, lease_until: datetime, status: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": "claimed",
        "claim_token": token,
        "lease_until": lease_until,
        "attempts": Reminder.attempts + 1,
    }
    if status == "claimed":
        # The lease ran out with nothing recorded: the holder may have sent it before it died.
        values["unconfirmed_claims"] = Reminder.unconfirmed_claims + 1
    return values


def postgresql_claim_statement(
    candidates: Select[int, str, int], token: str, lease_until: datetime, status: str = "pending"
) -> Any:
    """Return the UPDATE … RETURNING that claims the candidates (in ``status``) others have not locked."""
    locked = candidates.with_only_columns(Reminder.id).with_for_update(skip_locked=True).cte("candidates")
    return (
        update(Reminder)
        .where(Reminder.id == locked.c.id)
        .values(**_claim_values(token, lease_until, status))
        .returning(Reminder.id)
        .execution_options(synchronize_session=False)
    )


async def _claim_postgresql(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int, token: str
) -> list[int]:
    claimed: list[int] = []
    # Stale claims first: they were due before anything still pending.
    for query, status in ((expired_claims_query, "claimed"), (pending_due_query, "pending")):
        remaining = limit - len(claimed)
        if remaining <= 0:
            break
        statement = postgresql_claim_statement(query(now, remaining), token, lease_until, status)
        claimed.extend((await session.scalars(statement)).all())
    return claimed


async def _claim_sqlite(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int, token: str
) -> list[int]:
    claimed: list[int] = []
    for query in (expired_claims_query, pending_due_query):
        for _ in range(_SQLITE_ROUNDS):
            remaining = limit - len(claimed)
            if remaining <= 0:
                return claimed
            candidates = (await session.execute(query(now, remaining))).all()
            lost = 0
            for reminder_id, status, attempts in candidates:
                # Compare-and-set: attempts grows on every claim, so it doubles as the row's version.
                result = await session.execute(
                    update(Reminder)
                    .where(
                        Reminder.id == reminder_id,
                        Reminder.attempts == attempts,
                        _still_claimable(status, now),
                    )
                    .values(**_claim_values(token, lease_until, status))
                    .execution_options(synchronize_session=False)
                )
                if rowcount(result) == 1:
                    claimed.append(reminder_id)
                else:
                    lost += 1
            if lost == 0:
                break
    return claimed


async def claim_due_reminders(
    session: AsyncSession, now: datetime, lease_seconds: float, limit: int
) -> list[ClaimedReminder]:
    """Lease up to ``limit`` due reminders (and ones whose lease expired) to this caller, by due time.

    Commit the session before sending: the claim protects the reminders only once other processes see it.
    """
    require_aware(now, "now")
    if limit <= 0 or lease_seconds <= 0:
        raise ValueError("limit and lease_seconds must be positive")
    lease_until = now + timedelta(seconds=lease_seconds)
    token = secrets.token_urlsafe(18)
    if dialect_name(session) == "postgresql":
        ids = await _claim_postgresql(session, now, lease_until, limit, token)
    else:
        ids = await _claim_sqlite(session, now, lease_until, limit, token)
    if not ids:
        return []
    rows = (
        await session.execute(
            select(Reminder, Scan, User)
            .join(Scan, Scan.id == Reminder.scan_id)
            .join(User, User.id == Reminder.user_id)
            .where(Reminder.id.in_(ids))
            .order_by(Reminder.due_at, Reminder.id),
            execution_options={"populate_existing": True},
        )
    ).all()
    claimed = [
        ClaimedReminder(
            reminder_id=reminder.id,
            claim_token=token,
            kind=reminder.kind,
            lead_days=reminder.lead_days,
            due_at=reminder.due_at,
            lease_until=lease_until,
            attempts=reminder.attempts,
            user_id=user.id,
            chat_id=user.chat_id,
            scan_id=scan.id,
            scan_date=scan.scan_date,
            scan_time=scan.scan_time,
            timezone=scan.timezone,
            scan_status=scan.status,
            paused=user.paused,
            reminders_enabled=user.reminders_enabled,
            blocked=user.blocked,
            unconfirmed_claims=reminder.unconfirmed_claims,
        )
        for reminder, scan, user in rows
    ]
    logger.debug("claimed %d reminders", len(claimed))
    return claimed


def _owned_claim(reminder_id: int, claim_token: str) -> tuple[ColumnElement[bool], ...]:
    return (Reminder.id == reminder_id, Reminder.claim_token == claim_token, Reminder.status == "claimed")


async def mark_reminder_sent(
    session: AsyncSession, reminder_id: int, claim_token: str, now: datetime
) -> bool:
    """Record delivery; False if the claim is no longer this caller's (lease expired and re-claimed)."""
    result = await session.execute(
        update(Reminder)
        .where(*_owned_claim(reminder_id, claim_token))
        .values(status="sent", sent_at=require_aware(now, "now"), lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def mark_reminder(
    session: AsyncSession,
    reminder_id: int,
    claim_token: str,
    status: str,
    error_code: str | None = None,
    *,
    unconfirmed: bool = False,
) -> bool:
    """Close a claimed reminder as missed, failed or cancelled with a short error code (never text).

    With ``unconfirmed``, the last send may have arrived: it is counted in the row's unconfirmed claims.
    """
    if status not in FINAL_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}")
    if error_code is not None and not _ERROR_CODE.match(error_code):
        raise ValueError("error_code must be a short code such as 'forbidden' or 'bad_request'")
    values: dict[str, Any] = {"status": status, "last_error": error_code, "lease_until": None}
    if unconfirmed:
        values["unconfirmed_claims"] = Reminder.unconfirmed_claims + 1
    result = await session.execute(
        update(Reminder)
        .where(*_owned_claim(reminder_id, claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def release_reminder(
    session: AsyncSession,
    reminder_id: int,
    claim_token: str,
    retry_at: datetime,
    error_code: str | None = None,
    *,
    unconfirmed: bool = False,
    unsent: bool = False,
) -> bool:
    """Hand a claimed reminder back as pending, due again at ``retry_at`` (backoff, 429 retry_after).

    With ``unconfirmed``, the send may have arrived: it counts against the row's unconfirmed retries.
    With ``unsent``, nothing was tried: the claim does not count as an attempt.
    """
    if error_code is not None and not _ERROR_CODE.match(error_code):
        raise ValueError("error_code must be a short code such as 'retry_after'")
    values: dict[str, Any] = {
        "status": "pending",
        "due_at": require_aware(retry_at, "retry_at"),
        "claim_token": None,
        "lease_until": None,
        "last_error": error_code,
    }
    if unconfirmed:
        values["unconfirmed_claims"] = Reminder.unconfirmed_claims + 1
    if unsent:
        values["attempts"] = Reminder.attempts - 1
    result = await session.execute(
        update(Reminder)
        .where(*_owned_claim(reminder_id, claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
