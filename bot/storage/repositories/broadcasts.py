"""Broadcast jobs: drafts, their audience, one delivery row per recipient, and leased delivery claims.

Recipients are copied into delivery rows by the database itself (INSERT … SELECT), a chunk of user ids
per transaction, so no process ever holds the audience in memory and any process can carry on after a
crash. Deliveries are then claimed exactly like reminders: leased, race-safe across processes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    AUDIENCES,
    Broadcast,
    BroadcastDelivery,
    Reminder,
    Scan,
    Team,
    TeamPatient,
    User,
)
from bot.storage.records import BroadcastRecord, ClaimedDelivery, DeliveryCounts
from bot.storage.repositories._common import dialect_name, require_aware, rowcount

logger = logging.getLogger(__name__)

_PENDING: ColumnElement[str] = literal_column("'pending'")
_CLAIMED: ColumnElement[str] = literal_column("'claimed'")
SCAN_WINDOW = dt.timedelta(days=30)
POPULATE_CHUNK = 5000
MAX_BROADCAST_CHARS = 3500  # room for the team's header within Telegram's 4096
FINAL_DELIVERY_STATUSES = ("sent", "blocked", "failed", "skipped", "cancelled")
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
LIVE_STATUSES = ("populating", "sending")


def _record(row: Broadcast) -> BroadcastRecord:
    return BroadcastRecord(
        id=row.id,
        team_id=row.team_id,
        created_by=row.created_by,
        created_at=row.created_at,
        status=row.status,
        audience=row.audience,
        text=row.text,
        formatted=row.formatted,
        link_preview=row.link_preview,
        population_cursor=row.population_cursor,
        scan_before=row.scan_before,
        total=row.total,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
        progress_at=row.progress_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        reported_at=row.reported_at,
    )


# -- drafts -----------------------------------------------------------------------------------------


async def create_draft(
    session: AsyncSession, team_id: int, created_by: int, text: str, now: dt.datetime
) -> BroadcastRecord:
    """Create a broadcast draft holding the staff member's text."""
    if not text.strip():
        raise ValueError("a broadcast needs text")
    if len(text) > MAX_BROADCAST_CHARS:
        raise ValueError(f"a broadcast is at most {MAX_BROADCAST_CHARS} characters")
    row = Broadcast(team_id=team_id, created_by=created_by, created_at=require_aware(now, "now"), text=text)
    session.add(row)
    await session.flush()
    return _record(row)


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> BroadcastRecord | None:
    """Return the broadcast, or None."""
    row = await session.get(Broadcast, broadcast_id, populate_existing=True)
    return None if row is None else _record(row)


async def update_draft(session: AsyncSession, broadcast_id: int, **fields: Any) -> BroadcastRecord | None:
    """Change a draft's ``audience``, ``formatted`` or ``link_preview``; None unless it is still a draft."""
    allowed = {"audience", "formatted", "link_preview"}
    if not fields or set(fields) - allowed:
        raise TypeError(f"update_draft() changes only {', '.join(sorted(allowed))}")
    if "audience" in fields and fields["audience"] not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "draft")
        .values(**fields)
        .execution_options(synchronize_session=False)
    )
    return await get_broadcast(session, broadcast_id) if rowcount(result) == 1 else None


def _audience_filter(audience: str, scan_before: dt.date) -> list[ColumnElement[bool]]:
    if audience == "all":
        return []
    if audience == "scan30":
        return [
            exists().where(
                Scan.user_id == TeamPatient.user_id,
                Scan.status == "upcoming",
                Scan.scan_date >= scan_before - SCAN_WINDOW,
                Scan.scan_date <= scan_before,
            )
        ]
    if audience in AUDIENCES:
        return [User.profile == audience]
    raise ValueError(f"unknown audience {audience!r}")


def _audience_query(team_id: int, audience: str, scan_before: dt.date) -> Select[Any]:
    """Select the team's patients in the audience (their user ids), joined to their users."""
    return (
        select(TeamPatient.user_id)
        .join(User, User.id == TeamPatient.user_id)
        .where(TeamPatient.team_id == team_id, *_audience_filter(audience, scan_before))
    )


async def count_audience(session: AsyncSession, team_id: int, audience: str, today: dt.date) -> int:
    """Return how many of the team's patients the audience holds (paused ones included: they are skipped)."""
    query = _audience_query(team_id, audience, today + SCAN_WINDOW).subquery()
    return int(await session.scalar(select(func.count()).select_from(query)) or 0)


async def start_broadcast(
    session: AsyncSession,
    broadcast_id: int,
    now: dt.datetime,
    today: dt.date,
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> bool:
    """Turn a draft with an audience into a job whose recipients are being copied; False if not a draft."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "draft", Broadcast.audience.is_not(None))
        .values(
            status="populating",
            started_at=require_aware(now, "now"),
            scan_before=today + SCAN_WINDOW,
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember the message the sender sees the broadcast's progress in."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
        .execution_options(synchronize_session=False)
    )


# -- population -------------------------------------------------------------------------------------


async def broadcasts_to_populate(session: AsyncSession, limit: int = 10) -> list[int]:
    """Return broadcasts whose recipients are still being copied, oldest first."""
    rows = await session.scalars(
        select(Broadcast.id)
        .where(Broadcast.status == "populating")
        .order_by(Broadcast.started_at, Broadcast.id)
        .limit(limit)
    )
    return list(rows.all())


async def populate_step(
    session: AsyncSession, broadcast_id: int, now: dt.datetime, chunk: int = POPULATE_CHUNK
) -> int:
    """Copy the next ``chunk`` recipients into delivery rows; return how many (0 once all are copied).

    The cursor moves by compare-and-set in the same transaction as the copy, so two processes stepping
    one job at once copy each recipient exactly once; the loser copies nothing.
    """
    require_aware(now, "now")
    row = await session.get(Broadcast, broadcast_id, populate_existing=True)
    if row is None or row.status != "populating" or row.audience is None or row.scan_before is None:
        return 0
    cursor = row.population_cursor
    audience = _audience_query(row.team_id, row.audience, row.scan_before)
    upper = await session.scalar(
        select(func.max(literal_column("user_id"))).select_from(
            audience.where(TeamPatient.user_id > cursor).order_by(TeamPatient.user_id).limit(chunk).subquery()
        )
    )
    if upper is None:
        result = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == "populating",
                Broadcast.population_cursor == cursor,
            )
            .values(status="sending")
            .execution_options(synchronize_session=False)
        )
        return 0 if rowcount(result) == 1 else -1
    # Move the cursor first: on PostgreSQL this locks the job row, so a second stepper waits and then
    # finds the cursor moved; on SQLite the write lock does the same.
    moved = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == "populating",
            Broadcast.population_cursor == cursor,
        )
        .values(population_cursor=upper)
        .execution_options(synchronize_session=False)
    )
    if rowcount(moved) != 1:
        return -1
    chosen = audience.where(TeamPatient.user_id > cursor, TeamPatient.user_id <= upper)
    source = chosen.with_only_columns(
        literal(broadcast_id).label("broadcast_id"),
        TeamPatient.user_id,
        literal("pending").label("status"),
        literal(now, type_=BroadcastDelivery.due_at.type).label("due_at"),
        literal(0).label("attempts"),
    )
    result = await session.execute(
        insert(BroadcastDelivery).from_select(
            ["broadcast_id", "user_id", "status", "due_at", "attempts"], source
        )
    )
    copied = rowcount(result)
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(total=Broadcast.total + copied)
        .execution_options(synchronize_session=False)
    )
    return copied


# -- claims -----------------------------------------------------------------------------------------


def _pending_due(now: dt.datetime, limit: int) -> Select[int, str, int]:
    return (
        select(BroadcastDelivery.id, BroadcastDelivery.status, BroadcastDelivery.attempts)
        .where(BroadcastDelivery.status == _PENDING, BroadcastDelivery.due_at <= now)
        .order_by(BroadcastDelivery.due_at, BroadcastDelivery.id)
        .limit(limit)
    )


def _expired_claims(now: dt.datetime, limit: int) -> Select[int, str, int]:
    return (
        select(BroadcastDelivery.id, BroadcastDelivery.status, BroadcastDelivery.attempts)
        .where(BroadcastDelivery.status == _CLAIMED, BroadcastDelivery.lease_until <= now)
        .order_by(BroadcastDelivery.lease_until, BroadcastDelivery.id)
        .limit(limit)
    )


def _claim_values(token: str, lease_until: dt.datetime) -> dict[str, Any]:
    return {
        "status": "claimed",
        "claim_token": token,
        "lease_until": lease_until,
        "attempts": BroadcastDelivery.attempts + 1,
    }


async def _claim_ids(
    session: AsyncSession, now: dt.datetime, lease_until: dt.datetime, limit: int, token: str
) -> list[int]:
    claimed: list[int] = []
    postgresql = dialect_name(session) == "postgresql"
    # Stale claims first: they were due before anything still pending.
    for query in (_expired_claims, _pending_due):
        remaining = limit - len(claimed)
        if remaining <= 0:
            break
        candidates = query(now, remaining).with_only_columns(BroadcastDelivery.id)
        if postgresql:
            # Rows another transaction is claiming are skipped, not waited for.
            chosen: Any = candidates.with_for_update(skip_locked=True).cte("candidates")
            where = BroadcastDelivery.id == chosen.c.id
        else:
            # One statement: SQLite runs it under its single write lock, so the rows it picks cannot be
            # taken by another process between the choice and the update.
            where = BroadcastDelivery.id.in_(candidates.scalar_subquery())
        statement = (
            update(BroadcastDelivery)
            .where(where)
            .values(**_claim_values(token, lease_until))
            .returning(BroadcastDelivery.id)
            .execution_options(synchronize_session=False)
        )
        claimed.extend((await session.scalars(statement)).all())
    return claimed


async def claim_deliveries(
    session: AsyncSession, now: dt.datetime, lease_seconds: float, limit: int
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due deliveries (and ones whose lease expired) to this caller, oldest first.

    Commit the session before sending: the claim protects the deliveries only once other processes see it.
    """
    require_aware(now, "now")
    if limit <= 0 or lease_seconds <= 0:
        raise ValueError("limit and lease_seconds must be positive")
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    token = secrets.token_urlsafe(18)
    ids = await _claim_ids(session, now, lease_until, limit, token)
    if not ids:
        return []
    rows = (
        await session.execute(
            select(BroadcastDelivery, Broadcast, Team, User)
            .join(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
            .join(Team, Team.id == Broadcast.team_id)
            .join(User, User.id == BroadcastDelivery.user_id)
            .where(BroadcastDelivery.id.in_(ids))
            .order_by(BroadcastDelivery.due_at, BroadcastDelivery.id),
            execution_options={"populate_existing": True},
        )
    ).all()
    return [
        ClaimedDelivery(
            delivery_id=delivery.id,
            claim_token=token,
            attempts=delivery.attempts,
            broadcast_id=broadcast.id,
            broadcast_status=broadcast.status,
            team_id=team.id,
            team_name=team.name,
            text=broadcast.text,
            formatted=broadcast.formatted,
            link_preview=broadcast.link_preview,
            user_id=user.id,
            chat_id=user.chat_id,
            paused=user.paused,
            updates_enabled=user.updates_enabled,
            blocked=user.blocked,
        )
        for delivery, broadcast, team, user in rows
    ]


def _owned(delivery_id: int, claim_token: str) -> tuple[ColumnElement[bool], ...]:
    return (
        BroadcastDelivery.id == delivery_id,
        BroadcastDelivery.claim_token == claim_token,
        BroadcastDelivery.status == "claimed",
    )


async def close_delivery(
    session: AsyncSession,
    delivery_id: int,
    claim_token: str,
    status: str,
    now: dt.datetime,
    error_code: str | None = None,
) -> bool:
    """Settle a claimed delivery as sent, blocked, failed, skipped or cancelled; False if no longer ours."""
    if status not in FINAL_DELIVERY_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FINAL_DELIVERY_STATUSES)}")
    if error_code is not None and not _ERROR_CODE.match(error_code):
        raise ValueError("error_code must be a short code such as 'forbidden'")
    result = await session.execute(
        update(BroadcastDelivery)
        .where(*_owned(delivery_id, claim_token))
        .values(
            status=status,
            sent_at=require_aware(now, "now") if status == "sent" else None,
            lease_until=None,
            last_error=error_code,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def release_delivery(
    session: AsyncSession, delivery_id: int, claim_token: str, retry_at: dt.datetime, error_code: str
) -> bool:
    """Hand a claimed delivery back as pending, due again at ``retry_at`` (backoff, 429 retry_after)."""
    if not _ERROR_CODE.match(error_code):
        raise ValueError("error_code must be a short code such as 'retry_after'")
    result = await session.execute(
        update(BroadcastDelivery)
        .where(*_owned(delivery_id, claim_token))
        .values(
            status="pending",
            due_at=require_aware(retry_at, "retry_at"),
            claim_token=None,
            lease_until=None,
            last_error=error_code,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


# -- progress, cancel, finish -----------------------------------------------------------------------


async def delivery_counts(session: AsyncSession, broadcast_id: int) -> DeliveryCounts:
    """Count the broadcast's deliveries by status."""
    rows = await session.execute(
        select(BroadcastDelivery.status, func.count())
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .group_by(BroadcastDelivery.status)
    )
    return DeliveryCounts(**{status: int(n) for status, n in rows.all()})


async def cancel_broadcast(session: AsyncSession, broadcast_id: int, now: dt.datetime) -> bool:
    """Cancel a draft or running broadcast: every delivery not yet claimed is cancelled; False if over."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status.in_(("draft", *LIVE_STATUSES)))
        .values(status="cancelled", finished_at=require_aware(now, "now"))
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    await session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "pending")
        .values(status="cancelled", last_error="cancelled")
        .execution_options(synchronize_session=False)
    )
    return True


async def finish_if_done(session: AsyncSession, broadcast_id: int, now: dt.datetime) -> bool:
    """Mark a sending broadcast done once every delivery is settled; True for the one caller that does."""
    open_deliveries = exists().where(
        BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(("pending", "claimed"))
    )
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == "sending", ~open_deliveries)
        .values(status="done", finished_at=require_aware(now, "now"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def claim_progress_update(
    session: AsyncSession, broadcast_id: int, now: dt.datetime, every: dt.timedelta
) -> bool:
    """Take the turn to refresh the progress message, at most once per ``every`` across processes."""
    require_aware(now, "now")
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.progress_message_id.is_not(None),
            (Broadcast.progress_at.is_(None)) | (Broadcast.progress_at <= now - every),
        )
        .values(progress_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def running_broadcasts(session: AsyncSession, team_ids: list[int]) -> list[BroadcastRecord]:
    """Return the teams' broadcasts still being copied or sent, oldest first."""
    if not team_ids:
        return []
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.team_id.in_(team_ids), Broadcast.status.in_(LIVE_STATUSES))
        .order_by(Broadcast.created_at, Broadcast.id),
        execution_options={"populate_existing": True},
    )
    return [_record(row) for row in rows]


async def sending_broadcasts(session: AsyncSession, limit: int = 20) -> list[int]:
    """Return broadcasts being sent, to check whether they are finished."""
    rows = await session.scalars(
        select(Broadcast.id).where(Broadcast.status == "sending").order_by(Broadcast.id).limit(limit)
    )
    return list(rows.all())


async def reminders_waiting(session: AsyncSession, now: dt.datetime) -> bool:
    """Tell whether a reminder is due and unclaimed: broadcasts then wait, reminders go first."""
    found = await session.scalar(
        select(Reminder.id)
        .where(Reminder.status == _PENDING, Reminder.due_at <= require_aware(now, "now"))
        .limit(1)
    )
    return found is not None


async def reports_due(session: AsyncSession, limit: int = 20) -> list[int]:
    """Return started broadcasts that are over (done or cancelled) and whose sender has no report yet."""
    rows = await session.scalars(
        select(Broadcast.id)
        .where(
            Broadcast.status.in_(("done", "cancelled")),
            Broadcast.started_at.is_not(None),
            Broadcast.reported_at.is_(None),
        )
        .order_by(Broadcast.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim_report(session: AsyncSession, broadcast_id: int, now: dt.datetime) -> bool:
    """Take the one turn to send the final report, once no delivery is still open; False otherwise."""
    open_deliveries = exists().where(
        BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status.in_(("pending", "claimed"))
    )
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status.in_(("done", "cancelled")),
            Broadcast.started_at.is_not(None),
            Broadcast.reported_at.is_(None),
            ~open_deliveries,
        )
        .values(reported_at=require_aware(now, "now"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def next_delivery_due(session: AsyncSession) -> dt.datetime | None:
    """Return when the earliest pending delivery is due, or None (an ordered scan of a partial index)."""
    return await session.scalar(
        select(BroadcastDelivery.due_at)
        .where(BroadcastDelivery.status == _PENDING)
        .order_by(BroadcastDelivery.due_at, BroadcastDelivery.id)
        .limit(1)
    )
