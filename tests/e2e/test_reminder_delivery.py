"""Reminders delivered through the real application: the dispatcher, PTB and the fake Bot API."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.storage.models import Reminder, Scan
from bot.telegram.app import start_dispatcher, stop_dispatcher
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage

LONDON = ZoneInfo("Europe/London")
# With the scan on Monday 15 March 2027 in London (UTC+0 until 28 March):
SEVEN_DAYS = dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)
ONE_DAY = dt.datetime(2027, 3, 14, 9, 0, tzinfo=dt.UTC)
FOLLOW_UP = dt.datetime(2027, 3, 16, 10, 0, tzinfo=dt.UTC)
REMINDER_BUTTONS = ["Got it", "Snooze 3 hours", "Tomorrow 09:00", "Change date", "Cancel"]


def text(message: SentMessage) -> str:
    assert message.text is not None, f"message {message.message_id} has no text"
    return message.text


def labels(message: SentMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


@pytest.fixture(autouse=True)
async def no_handler_errors(harness: Harness) -> AsyncIterator[None]:
    """Fail the test if any handler raised: a crash answered politely is still a crash."""
    yield
    assert harness.errors == [], f"handlers raised: {harness.errors!r}"


@pytest.fixture
async def scan_set(harness: Harness) -> Harness:
    """A consenting patient in London with a scan on 15 March 2027 and its three reminders."""
    await harness.consent()
    await harness.say("/timezone Europe/London")
    saved = await harness.say("/scan 15 March")
    assert "Saved: your DEXA scan is on Monday 15 March 2027" in text(saved[-1])
    assert [r.due_at for r in await harness.db_reminders()] == [SEVEN_DAYS, ONE_DAY, FOLLOW_UP]
    return harness


async def deliver_at(harness: Harness, moment: dt.datetime) -> list[SentMessage]:
    """Move the clock to ``moment``, run one dispatch tick and return the new messages to the patient."""
    harness.clock.now = moment
    before = len(harness.fake.messages_to(harness.user["id"]))
    await harness.dispatch()
    return harness.fake.messages_to(harness.user["id"])[before:]


async def statuses(harness: Harness) -> list[tuple[str, str, str | None]]:
    return [(r.kind, r.status, r.last_error) for r in await harness.db_reminders(None)]


# -- delivery and the reminder's buttons ---------------------------------------------------------------


async def test_seven_day_reminder_arrives_on_time_with_its_buttons(scan_set: Harness) -> None:
    harness = scan_set
    assert await deliver_at(harness, SEVEN_DAYS - dt.timedelta(minutes=1)) == []
    (reminder,) = await deliver_at(harness, SEVEN_DAYS)
    assert text(reminder).startswith("Reminder: your DEXA scan is in 7 days, on Monday 15 March 2027")
    assert labels(reminder) == REMINDER_BUTTONS
    assert (await statuses(harness))[0] == ("lead", "sent", None)
    assert await deliver_at(harness, SEVEN_DAYS + dt.timedelta(hours=1)) == []  # sent once


async def test_got_it_removes_the_buttons(scan_set: Harness) -> None:
    harness = scan_set
    (reminder,) = await deliver_at(harness, SEVEN_DAYS)
    new = await harness.press(reminder, "Got it")
    assert new == []
    assert reminder.buttons == []
    assert list(harness.fake.callback_answers.values())[-1].get("text") == "Got it 👍"


async def test_snooze_three_hours_brings_the_reminder_back(scan_set: Harness) -> None:
    harness = scan_set
    (reminder,) = await deliver_at(harness, SEVEN_DAYS)
    harness.clock.advance(minutes=5)
    (snoozed,) = await harness.press(reminder, "Snooze 3 hours")
    assert text(snoozed) == "OK, I'll remind you again on Monday 8 March 2027 at 12:05."
    assert reminder.buttons == []
    back_at = SEVEN_DAYS + dt.timedelta(hours=3, minutes=5)
    assert [(r.kind, r.due_at) for r in await harness.db_reminders() if r.kind == "snooze"] == [
        ("snooze", back_at)
    ]
    assert await deliver_at(harness, back_at - dt.timedelta(seconds=1)) == []
    (again,) = await deliver_at(harness, back_at)
    assert text(again).startswith("Reminder: your DEXA scan is on Monday 15 March 2027")
    assert labels(again) == REMINDER_BUTTONS


async def test_snooze_until_tomorrow_is_nine_local(harness: Harness) -> None:
    await harness.consent()
    await harness.say("/timezone America/New_York")
    await harness.say("/scan 15 March")
    seven_days = dt.datetime(2027, 3, 8, 14, 0, tzinfo=dt.UTC)  # 09:00 EST
    (reminder,) = await deliver_at(harness, seven_days)
    (snoozed,) = await harness.press(reminder, "Tomorrow 09:00")
    assert text(snoozed) == "OK, I'll remind you again on Tuesday 9 March 2027 at 09:00."
    (snooze,) = [r for r in await harness.db_reminders() if r.kind == "snooze"]
    assert snooze.due_at == dt.datetime(2027, 3, 9, 14, 0, tzinfo=dt.UTC)


async def test_change_date_from_a_reminder_replaces_the_scan(scan_set: Harness) -> None:
    harness = scan_set
    (reminder,) = await deliver_at(harness, SEVEN_DAYS)
    question = await harness.press(reminder, "Change date")
    assert "When is your DEXA scan?" in text(question[-1])
    saved = await harness.say("22 March")
    assert "Saved: your DEXA scan is on Monday 22 March 2027" in text(saved[-1])
    pending = await harness.db_reminders()
    assert [local.astimezone(LONDON).date() for local in (r.due_at for r in pending)] == [
        dt.date(2027, 3, 15),
        dt.date(2027, 3, 21),
        dt.date(2027, 3, 23),
    ]


async def test_cancel_from_a_reminder_cancels_the_scan(scan_set: Harness) -> None:
    harness = scan_set
    (reminder,) = await deliver_at(harness, SEVEN_DAYS)
    (cancelled,) = await harness.press(reminder, "Cancel")
    assert "That scan and its reminders are cancelled" in text(cancelled)
    assert reminder.buttons == []
    assert await harness.db_scan() is None
    assert await harness.db_reminders() == []
    assert await deliver_at(harness, ONE_DAY) == []


async def test_follow_up_after_the_scan_asks_how_it_went(scan_set: Harness) -> None:
    harness = scan_set
    await deliver_at(harness, SEVEN_DAYS)
    await deliver_at(harness, ONE_DAY)
    (follow_up,) = await deliver_at(harness, FOLLOW_UP)
    assert text(follow_up).startswith("How did your DEXA scan go?")
    assert "Monday 15 March 2027" in text(follow_up)
    assert labels(follow_up) == ["In 1 year", "In 2 years", "Pick a date"]


@pytest.mark.parametrize(
    ("label", "next_day", "next_text"),
    [
        ("In 1 year", dt.date(2028, 3, 15), "Wednesday 15 March 2028"),
        ("In 2 years", dt.date(2029, 3, 15), "Thursday 15 March 2029"),
    ],
)
async def test_follow_up_button_saves_the_next_scan(
    scan_set: Harness, label: str, next_day: dt.date, next_text: str
) -> None:
    harness = scan_set
    old = await harness.db_scan()
    assert old is not None
    (follow_up,) = [m for m in await deliver_at(harness, FOLLOW_UP) if m.buttons]
    saved = await harness.press(follow_up, label)
    assert saved, "the button was answered with a toast only"
    assert f"Saved: your DEXA scan is on {next_text}" in text(saved[-1])
    assert follow_up.buttons == []
    async with harness.session() as session:
        finished = await session.scalar(select(Scan.status).where(Scan.id == old.id))
    assert finished == "done"
    upcoming = await harness.db_scan()
    assert upcoming is not None and upcoming.scan_date == next_day
    assert [r.kind for r in await harness.db_reminders()] == ["lead", "lead", "followup"]


async def test_follow_up_pick_a_date_asks_for_it(scan_set: Harness) -> None:
    harness = scan_set
    (follow_up,) = [m for m in await deliver_at(harness, FOLLOW_UP) if m.buttons]
    question = await harness.press(follow_up, "Pick a date")
    assert question, "the button was answered with a toast only"
    assert "When is your DEXA scan?" in text(question[-1])
    saved = await harness.say("2028-09-01")
    assert "Saved: your DEXA scan is on Friday 1 September 2028" in text(saved[-1])


async def test_reminders_missed_while_down_are_sent_only_if_recent(scan_set: Harness) -> None:
    harness = scan_set
    # Down from before the 7-day reminder until 11 hours after the 1-day one.
    delivered = await deliver_at(harness, ONE_DAY + dt.timedelta(hours=11))
    assert [text(m).split(",")[0] for m in delivered] == ["Reminder: your DEXA scan is tomorrow"]
    assert await statuses(harness) == [
        ("lead", "missed", "stale"),
        ("lead", "sent", None),
        ("followup", "pending", None),
    ]


async def test_moving_west_after_a_reminder_was_sent_does_not_send_it_again(scan_set: Harness) -> None:
    harness = scan_set
    await deliver_at(harness, SEVEN_DAYS)
    harness.clock.advance(minutes=30)
    await harness.say("/timezone America/New_York")
    pending = await harness.db_reminders()
    assert [(r.kind, r.lead_days) for r in pending] == [("lead", 1), ("followup", None)]
    # 09:00 in New York on 8 March, five hours after the London reminder: nothing more to send.
    assert await deliver_at(harness, dt.datetime(2027, 3, 8, 14, 0, tzinfo=dt.UTC)) == []


async def test_moving_east_before_a_reminder_keeps_nine_local(scan_set: Harness) -> None:
    harness = scan_set
    await harness.say("/timezone Asia/Tokyo")
    tokyo = [r.due_at for r in await harness.db_reminders()]
    assert tokyo == [
        dt.datetime(2027, 3, 8, 0, 0, tzinfo=dt.UTC),  # 09:00 JST
        dt.datetime(2027, 3, 14, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 3, 16, 1, 0, tzinfo=dt.UTC),  # 10:00 JST the day after
    ]
    (reminder,) = await deliver_at(harness, tokyo[0])
    assert "in 7 days" in text(reminder)


# -- failures reported by Telegram ---------------------------------------------------------------------


async def test_blocked_user_is_marked_and_welcomed_back_when_they_write(scan_set: Harness) -> None:
    harness = scan_set
    harness.fake.fail_next("sendMessage", error_code=403, chat_id=harness.user["id"])
    assert await deliver_at(harness, SEVEN_DAYS) == []
    user = await harness.db_user()
    assert user is not None and user.blocked
    assert (await statuses(harness))[0] == ("lead", "failed", "forbidden")

    harness.clock.advance(hours=2)
    replies = await harness.say("hello")
    assert text(replies[0]).startswith(
        "Good to see you again. Your next DEXA scan is saved for Monday 15 March 2027, "
        "with 2 reminders still set."
    )
    user = await harness.db_user()
    assert user is not None and not user.blocked
    (tomorrow,) = await deliver_at(harness, ONE_DAY)
    assert "tomorrow" in text(tomorrow)


async def test_blocked_user_coming_back_with_start_is_told_their_reminders(scan_set: Harness) -> None:
    harness = scan_set
    harness.fake.fail_next("sendMessage", error_code=403, chat_id=harness.user["id"])
    await deliver_at(harness, SEVEN_DAYS)
    replies = await harness.say("/start")
    user = await harness.db_user()
    assert user is not None and not user.blocked
    assert any("Good to see you again" in text(m) and "2 reminders still set" in text(m) for m in replies)


async def test_blocked_user_is_not_tried_again_until_they_write(scan_set: Harness) -> None:
    harness = scan_set
    harness.fake.block(harness.user)
    await deliver_at(harness, SEVEN_DAYS)
    mark = harness.fake.mark()
    await deliver_at(harness, ONE_DAY)
    assert harness.fake.calls("sendMessage", since=mark) == []
    assert [s for _, s, _ in await statuses(harness)] == ["failed", "failed", "pending"]


async def test_too_many_requests_is_retried_after_retry_after(scan_set: Harness) -> None:
    harness = scan_set
    # PTB's rate limiter retries one 429 itself after retry_after; the dispatcher sees the second one.
    harness.fake.fail_next("sendMessage", error_code=429, retry_after=1, times=2)
    assert await deliver_at(harness, SEVEN_DAYS) == []
    (released,) = [r for r in await harness.db_reminders() if r.lead_days == 7]
    assert (released.status, released.due_at, released.last_error) == (
        "pending",
        SEVEN_DAYS + dt.timedelta(seconds=1),
        "retry_after",
    )
    (reminder,) = await deliver_at(harness, SEVEN_DAYS + dt.timedelta(seconds=1))
    assert "in 7 days" in text(reminder)
    refused = [r for r in harness.fake.calls("sendMessage") if r.error_code == 429]
    assert len(refused) == 2


async def test_network_failure_is_retried_with_backoff(scan_set: Harness) -> None:
    harness = scan_set
    harness.fake.fail_next("sendMessage", error_code=502, times=1)
    assert await deliver_at(harness, SEVEN_DAYS) == []
    (released,) = [r for r in await harness.db_reminders() if r.lead_days == 7]
    # A 5xx answers a request that went out: it may have been delivered, so it counts as unconfirmed.
    assert (released.status, released.last_error, released.unconfirmed_claims) == (
        "pending",
        "unconfirmed",
        1,
    )
    assert released.due_at > SEVEN_DAYS
    (reminder,) = await deliver_at(harness, released.due_at)
    assert "in 7 days" in text(reminder)


# -- pausing and forgetting ----------------------------------------------------------------------------


async def test_stop_pauses_reminders_and_start_resumes_them(scan_set: Harness) -> None:
    harness = scan_set
    paused = await harness.say("/stop")
    assert "Paused." in text(paused[0]) and "you have 3 set" in text(paused[0])
    assert await deliver_at(harness, SEVEN_DAYS) == []
    assert (await statuses(harness))[0] == ("lead", "cancelled", "paused")

    resumed = await harness.say("/start")
    assert any("switched on again" in text(m) for m in resumed)
    (tomorrow,) = await deliver_at(harness, ONE_DAY)
    assert "tomorrow" in text(tomorrow)


async def test_forget_removes_scans_and_reminders(scan_set: Harness) -> None:
    harness = scan_set
    confirm = await harness.say("/forget")
    await harness.press(confirm[0], "Yes, delete everything")
    assert "Everything I stored about you has been deleted" in text(harness.last())
    assert await harness.db_user() is None
    async with harness.session() as session:
        scans = await session.scalar(select(func.count()).select_from(Scan))
        reminders = await session.scalar(select(func.count()).select_from(Reminder))
    assert (scans, reminders) == (0, 0)
    assert await deliver_at(harness, SEVEN_DAYS) == []


# -- the application's own dispatcher ------------------------------------------------------------------


async def test_the_applications_dispatcher_delivers_due_reminders(scan_set: Harness) -> None:
    harness = scan_set
    harness.clock.now = SEVEN_DAYS
    mark = harness.fake.mark()
    start_dispatcher(harness.app, harness.clock)
    try:
        # The first tick runs at once; the next would wait the harness's hour-long interval.
        await harness.fake.wait_for("sendMessage", since=mark, chat_id=harness.user["id"])
    finally:
        await stop_dispatcher(harness.app)
    await harness.fake.settle()
    assert "in 7 days" in text(harness.last())
    assert (await statuses(harness))[0] == ("lead", "sent", None)
