"""DEXA scans and the reminders scheduled for them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import REMINDER_KINDS, REMINDER_STATUSES, Reminder, Scan
from bot.storage.records import NewReminder, ReminderRecord, ScanRecord
from bot.storage.repositories._common import (
    reminder_record,
    require_aware,
    require_timezone,
    rowcount,
    scan_record,
    utcnow,
)

# A cancelled or finished scan must not be reminded of: in-flight claims are cancelled too, so an expired
# lease is not picked up again, and the sender's mark_reminder_sent finds the claim gone.
_LIVE_REMINDER_STATUSES = ("pending", "claimed")

ReminderSpec = NewReminder | tuple[str, int | None, datetime]


def _reminder_rows(scan_id: int, user_id: int, reminders: Iterable[ReminderSpec]) -> list[Reminder]:
    rows = []
    for kind, lead_days, due_at in reminders:
        if kind not in REMINDER_KINDS:
            raise ValueError(f"unknown reminder kind {kind!r}")
        if kind == "lead" and lead_days is None:
            raise ValueError("a lead reminder needs lead_days")
        rows.append(
            Reminder(
                scan_id=scan_id,
                user_id=user_id,
                kind=kind,
                lead_days=lead_days,
                due_at=require_aware(due_at, "due_at"),
                status="pending",
                attempts=0,
            )
        )
    return rows


async def _cancel_live_reminders(session: AsyncSession, scan_ids: Sequence[int]) -> int:
    if not scan_ids:
        return 0
    result = await session.execute(
        update(Reminder)
        .where(Reminder.scan_id.in_(scan_ids), Reminder.status.in_(_LIVE_REMINDER_STATUSES))
        .values(status="cancelled", claim_token=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def create_scan(
    session: AsyncSession,
    user_id: int,
    scan_date: date,
    scan_time: time | None,
    timezone: str,
    reminders: Iterable[ReminderSpec] = (),
    *,
    now: datetime | None = None,
) -> ScanRecord:
    """Record the user's next scan with its reminders, cancelling the previous upcoming scan."""
    created_at = require_aware(now, "now") if now is not None else utcnow()
    previous = (
        await session.scalars(
            update(Scan)
            .where(Scan.user_id == user_id, Scan.status == "upcoming")
            .values(status="cancelled")
            .returning(Scan.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await _cancel_live_reminders(session, previous)
    scan = Scan(
        user_id=user_id,
        scan_date=scan_date,
        scan_time=scan_time,
        timezone=require_timezone(timezone),
        status="upcoming",
        created_at=created_at,
    )
    session.add(scan)
    await session.flush()
    session.add_all(_reminder_rows(scan.id, user_id, reminders))
    await session.flush()
    return scan_record(scan)


# Read on every message: built once, since building and keying a statement costs more than running it.
_UPCOMING_SCAN = select(Scan).where(Scan.user_id == bindparam("scan_owner"), Scan.status == "upcoming")


async def get_upcoming_scan(session: AsyncSession, user_id: int) -> ScanRecord | None:
    """Return the user's upcoming scan, if any."""
    row = await session.scalar(
        _UPCOMING_SCAN, {"scan_owner": user_id}, execution_options={"populate_existing": True}
    )
    return None if row is None else scan_record(row)


async def get_scan(session: AsyncSession, user_id: int, scan_id: int) -> ScanRecord | None:
    """Return one of the user's scans whatever its status; another user's id gives None."""
    row = await session.scalar(
        select(Scan).where(Scan.id == scan_id, Scan.user_id == user_id),
        execution_options={"populate_existing": True},
    )
    return None if row is None else scan_record(row)


async def list_reminders(
    session: AsyncSession, user_id: int, statuses: Iterable[str] | None = ("pending",)
) -> list[ReminderRecord]:
    """Return the user's reminders in the given statuses (all when None), earliest due first."""
    statement = select(Reminder).where(Reminder.user_id == user_id)
    if statuses is not None:
        wanted = tuple(statuses)
        unknown = set(wanted) - set(REMINDER_STATUSES)
        if unknown:
            raise ValueError(f"unknown reminder status {sorted(unknown)[0]!r}")
        statement = statement.where(Reminder.status.in_(wanted))
    statement = statement.order_by(Reminder.due_at, Reminder.id)
    rows = await session.scalars(statement, execution_options={"populate_existing": True})
    return [reminder_record(row) for row in rows]


async def _finish_scan(session: AsyncSession, user_id: int, scan_id: int, status: str) -> bool:
    scan_ids = (
        await session.scalars(
            update(Scan)
            .where(Scan.id == scan_id, Scan.user_id == user_id, Scan.status == "upcoming")
            .values(status=status)
            .returning(Scan.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await _cancel_live_reminders(session, scan_ids)
    return bool(scan_ids)


async def cancel_scan(session: AsyncSession, user_id: int, scan_id: int) -> bool:
    """Cancel the user's upcoming scan and its remaining reminders; False if not theirs or not upcoming."""
    return await _finish_scan(session, user_id, scan_id, "cancelled")


async def mark_scan_done(session: AsyncSession, user_id: int, scan_id: int) -> bool:
    """Record that the user had the scan and cancel its remaining reminders; False if not upcoming."""
    return await _finish_scan(session, user_id, scan_id, "done")


async def set_scan_timezone(session: AsyncSession, scan_id: int, timezone: str) -> bool:
    """Move an upcoming scan to another IANA time zone (its local date and time stay); False if not upcoming.

    Re-plan its reminders with ``replace_pending_reminders`` in the same transaction.
    """
    result = await session.execute(
        update(Scan)
        .where(Scan.id == scan_id, Scan.status == "upcoming")
        .values(timezone=require_timezone(timezone))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def replace_pending_reminders(
    session: AsyncSession,
    scan_id: int,
    reminders: Iterable[ReminderSpec],
    *,
    kinds: Iterable[str] | None = None,
) -> list[ReminderRecord]:
    """Swap the scan's pending reminders (of ``kinds``, all when None) for new ones; return the pending list.

    Used when the user changes time zone or lead times. Raises LookupError unless the scan is upcoming.
    """
    user_id = await session.scalar(
        select(Scan.user_id).where(Scan.id == scan_id, Scan.status == "upcoming").with_for_update()
    )
    if user_id is None:
        raise LookupError("no upcoming scan with this id")
    rows = _reminder_rows(scan_id, user_id, reminders)
    statement = delete(Reminder).where(Reminder.scan_id == scan_id, Reminder.status == "pending")
    if kinds is not None:
        statement = statement.where(Reminder.kind.in_(tuple(kinds)))
    await session.execute(statement.execution_options(synchronize_session=False))
    session.add_all(rows)
    await session.flush()
    pending = await session.scalars(
        select(Reminder)
        .where(Reminder.scan_id == scan_id, Reminder.status == "pending")
        .order_by(Reminder.due_at, Reminder.id),
        execution_options={"populate_existing": True},
    )
    return [reminder_record(row) for row in pending]


async def add_reminder(
    session: AsyncSession, scan_id: int, kind: str, due_at: datetime, *, lead_days: int | None = None
) -> ReminderRecord:
    """Schedule one more reminder for an upcoming scan (a snooze or a follow-up); LookupError otherwise."""
    user_id = await session.scalar(select(Scan.user_id).where(Scan.id == scan_id, Scan.status == "upcoming"))
    if user_id is None:
        raise LookupError("no upcoming scan with this id")
    (row,) = _reminder_rows(scan_id, user_id, [(kind, lead_days, due_at)])
    session.add(row)
    await session.flush()
    return reminder_record(row)


async def cancel_reminder(session: AsyncSession, user_id: int, reminder_id: int) -> bool:
    """Cancel one of the user's pending reminders; False if not theirs or no longer pending."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.user_id == user_id, Reminder.status == "pending")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
