"""Scans and the reminders scheduled for them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import (
    Database,
    NewReminder,
    add_reminder,
    cancel_reminder,
    cancel_scan,
    claim_due_reminders,
    create_scan,
    get_or_create_user,
    get_scan,
    get_upcoming_scan,
    list_reminders,
    mark_scan_done,
    replace_pending_reminders,
    set_scan_timezone,
)
from bot.storage.models import Reminder, Scan

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SCAN_DAY = date(2027, 3, 15)


def _leads(*days: int) -> list[NewReminder]:
    return [
        NewReminder("lead", day, datetime(2027, 3, 15, 8, 0, tzinfo=UTC) - timedelta(days=day))
        for day in days
    ]


async def _user(session: AsyncSession, user_id: int = 1) -> None:
    await get_or_create_user(session, user_id, user_id * 10, NOW)


async def test_create_scan_stores_the_scan_and_its_reminders(db_session: AsyncSession) -> None:
    await _user(db_session)
    followup = ("followup", None, datetime(2027, 3, 16, 9, 0, tzinfo=UTC))
    scan = await create_scan(
        db_session, 1, SCAN_DAY, time(14, 30), "Europe/London", [*_leads(7, 1), followup], now=NOW
    )
    assert (scan.user_id, scan.scan_date, scan.scan_time, scan.timezone, scan.status, scan.created_at) == (
        1,
        SCAN_DAY,
        time(14, 30),
        "Europe/London",
        "upcoming",
        NOW,
    )
    assert await get_upcoming_scan(db_session, 1) == scan
    assert await get_scan(db_session, 1, scan.id) == scan
    reminders = await list_reminders(db_session, 1)
    assert [(r.kind, r.lead_days, r.due_at) for r in reminders] == [
        ("lead", 7, datetime(2027, 3, 8, 8, 0, tzinfo=UTC)),
        ("lead", 1, datetime(2027, 3, 14, 8, 0, tzinfo=UTC)),
        followup,
    ]
    assert {(r.scan_id, r.user_id, r.status, r.attempts, r.sent_at, r.last_error) for r in reminders} == {
        (scan.id, 1, "pending", 0, None, None)
    }


async def test_scan_time_is_optional(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", [])
    assert scan.scan_time is None
    assert (await get_upcoming_scan(db_session, 1)) == scan


async def test_a_new_scan_cancels_the_previous_one_and_its_reminders(db_session: AsyncSession) -> None:
    await _user(db_session)
    await _user(db_session, 2)
    first = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(7, 1))
    others = await create_scan(db_session, 2, SCAN_DAY, None, "UTC", _leads(7))
    second = await create_scan(db_session, 1, date(2027, 4, 1), None, "UTC", _leads(3))
    assert await get_upcoming_scan(db_session, 1) == second
    old = await get_scan(db_session, 1, first.id)
    assert old is not None and old.status == "cancelled"
    assert [(r.scan_id, r.lead_days) for r in await list_reminders(db_session, 1)] == [(second.id, 3)]
    cancelled = await list_reminders(db_session, 1, ["cancelled"])
    assert [(r.scan_id, r.lead_days) for r in cancelled] == [(first.id, 7), (first.id, 1)]
    assert await get_upcoming_scan(db_session, 2) == others
    assert len(await list_reminders(db_session, 2)) == 1


async def test_the_database_allows_one_upcoming_scan_per_user(database: Database) -> None:
    async with database.session() as session:
        await _user(session)
        scan = await create_scan(session, 1, SCAN_DAY, None, "UTC", [])
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            session.add(
                Scan(user_id=1, scan_date=SCAN_DAY, timezone="UTC", status="upcoming", created_at=NOW)
            )
            await session.flush()
    async with database.session() as session:
        assert await get_upcoming_scan(session, 1) == scan


async def test_cancel_scan_only_for_the_owner_and_only_once(db_session: AsyncSession) -> None:
    await _user(db_session)
    await _user(db_session, 2)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(7, 1))
    assert await cancel_scan(db_session, 2, scan.id) is False
    assert await get_upcoming_scan(db_session, 1) == scan
    assert await cancel_scan(db_session, 1, scan.id) is True
    assert await cancel_scan(db_session, 1, scan.id) is False
    assert await get_upcoming_scan(db_session, 1) is None
    assert await list_reminders(db_session, 1) == []
    assert len(await list_reminders(db_session, 1, ["cancelled"])) == 2


async def test_cancelling_a_scan_also_cancels_in_flight_claims(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(20))
    (claimed,) = await claim_due_reminders(db_session, NOW, 60, 10)
    assert await cancel_scan(db_session, 1, scan.id)
    # The lease runs out, yet nothing comes back for a cancelled scan.
    assert await claim_due_reminders(db_session, NOW + timedelta(hours=1), 60, 10) == []
    assert [r.id for r in await list_reminders(db_session, 1, ["cancelled"])] == [claimed.reminder_id]


async def test_mark_scan_done_keeps_sent_reminders(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(7, 1))
    reminders = await list_reminders(db_session, 1)
    await db_session.execute(update(Reminder).where(Reminder.id == reminders[0].id).values(status="sent"))
    assert await mark_scan_done(db_session, 2, scan.id) is False
    assert await mark_scan_done(db_session, 1, scan.id) is True
    assert await mark_scan_done(db_session, 1, scan.id) is False
    done = await get_scan(db_session, 1, scan.id)
    assert done is not None and done.status == "done"
    statuses = {r.id: r.status for r in await list_reminders(db_session, 1, None)}
    assert statuses == {reminders[0].id: "sent", reminders[1].id: "cancelled"}


async def test_replace_pending_reminders_swaps_only_pending_ones(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(14, 7, 1))
    first = (await list_reminders(db_session, 1))[0]
    await db_session.execute(update(Reminder).where(Reminder.id == first.id).values(status="sent"))
    pending = await replace_pending_reminders(db_session, scan.id, _leads(3))
    assert [(r.lead_days, r.status, r.user_id) for r in pending] == [(3, "pending", 1)]
    everything = await list_reminders(db_session, 1, None)
    assert sorted((r.lead_days, r.status) for r in everything) == [(3, "pending"), (14, "sent")]


async def test_replace_pending_reminders_can_keep_other_kinds(db_session: AsyncSession) -> None:
    await _user(db_session)
    snooze = ("snooze", None, datetime(2027, 3, 10, 9, 0, tzinfo=UTC))
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", [*_leads(7), snooze])
    pending = await replace_pending_reminders(
        db_session,
        scan.id,
        [("two_hours", None, datetime(2027, 3, 15, 6, 0, tzinfo=UTC))],
        kinds=["lead", "two_hours"],
    )
    assert [r.kind for r in pending] == ["snooze", "two_hours"]


async def test_replace_pending_reminders_needs_an_upcoming_scan(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", [])
    await cancel_scan(db_session, 1, scan.id)
    with pytest.raises(LookupError):
        await replace_pending_reminders(db_session, scan.id, _leads(1))
    with pytest.raises(LookupError):
        await replace_pending_reminders(db_session, 999_999, _leads(1))


async def test_set_scan_timezone_moves_only_an_upcoming_scan(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, time(9, 0), "Europe/London", [])
    assert await set_scan_timezone(db_session, scan.id, "America/New_York") is True
    moved = await get_upcoming_scan(db_session, 1)
    assert moved is not None
    assert (moved.timezone, moved.scan_date, moved.scan_time) == ("America/New_York", SCAN_DAY, time(9, 0))
    with pytest.raises(ValueError):
        await set_scan_timezone(db_session, scan.id, "Atlantis/Capital")
    await cancel_scan(db_session, 1, scan.id)
    assert await set_scan_timezone(db_session, scan.id, "Asia/Tokyo") is False
    cancelled = await get_scan(db_session, 1, scan.id)
    assert cancelled is not None and cancelled.timezone == "America/New_York"


async def test_add_reminder_schedules_a_snooze(db_session: AsyncSession) -> None:
    await _user(db_session)
    scan = await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(1))
    snooze = await add_reminder(db_session, scan.id, "snooze", NOW + timedelta(hours=3))
    assert (snooze.kind, snooze.lead_days, snooze.due_at, snooze.status, snooze.user_id) == (
        "snooze",
        None,
        NOW + timedelta(hours=3),
        "pending",
        1,
    )
    assert (await list_reminders(db_session, 1))[0].id == snooze.id
    await cancel_scan(db_session, 1, scan.id)
    with pytest.raises(LookupError):
        await add_reminder(db_session, scan.id, "snooze", NOW)


async def test_cancel_reminder_only_for_the_owner(db_session: AsyncSession) -> None:
    await _user(db_session)
    await _user(db_session, 2)
    await create_scan(db_session, 1, SCAN_DAY, None, "UTC", _leads(7, 1))
    seven, one = await list_reminders(db_session, 1)
    assert await cancel_reminder(db_session, 2, seven.id) is False
    assert await cancel_reminder(db_session, 1, seven.id) is True
    assert await cancel_reminder(db_session, 1, seven.id) is False
    assert [r.id for r in await list_reminders(db_session, 1)] == [one.id]


@pytest.mark.parametrize(
    "reminder",
    [
        ("lead", None, datetime(2027, 3, 8, tzinfo=UTC)),
        ("nag", None, datetime(2027, 3, 8, tzinfo=UTC)),
        ("lead", 7, datetime(2027, 3, 8)),
    ],
)
async def test_create_scan_refuses_malformed_reminders(
    db_session: AsyncSession, reminder: tuple[str, int | None, datetime]
) -> None:
    await _user(db_session)
    with pytest.raises(ValueError):
        await create_scan(db_session, 1, SCAN_DAY, None, "UTC", [reminder])


async def test_create_scan_refuses_unknown_time_zones(db_session: AsyncSession) -> None:
    await _user(db_session)
    with pytest.raises(ValueError):
        await create_scan(db_session, 1, SCAN_DAY, None, "Europe/Atlantis", [])


async def test_list_reminders_refuses_unknown_statuses(db_session: AsyncSession) -> None:
    with pytest.raises(ValueError):
        await list_reminders(db_session, 1, ["lost"])
