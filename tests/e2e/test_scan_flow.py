"""Setting a DEXA scan through the real application: /scan, time zones, date checks, reminders, calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.scheduling import PlannedReminder, format_date, format_time, plan_scan_reminders
from bot.storage.records import ReminderRecord
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage

LONDON = "Europe/London"
PARIS = "Europe/Paris"
# The harness clock starts on Monday 11 January 2027; 15 March 2027 is a Monday, before either zone's DST.
SCAN_DAY = dt.date(2027, 3, 15)
SCAN_TEXT = "Monday 15 March 2027"


def local_text(moment: dt.datetime, zone: str) -> str:
    """Describe an instant as the patient sees it: ``Monday 8 March 2027 at 09:00``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_date(local.date())} at {format_time(local.time())}"


def planned_for(
    harness: Harness, zone: str, *, scan_time: dt.time | None = None, lead_days: tuple[int, ...] = (7, 1)
) -> list[PlannedReminder]:
    return plan_scan_reminders(
        scan_date=SCAN_DAY, scan_time=scan_time, timezone=zone, lead_days=lead_days, now=harness.clock()
    )


def as_plan(reminders: list[ReminderRecord]) -> list[tuple[str, int | None, dt.datetime]]:
    return [(r.kind, r.lead_days, r.due_at) for r in reminders]


def text(message: SentMessage) -> str:
    """Return a message's visible text, failing if it has none (a document)."""
    assert message.text is not None, f"message {message.message_id} has no text"
    return message.text


def labels(message: SentMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


async def set_zone(harness: Harness, zone: str) -> None:
    replies = await harness.say(f"/timezone {zone}")
    assert f"Your time zone is now {zone}" in text(replies[-1])


async def scan_saved(harness: Harness, zone: str = LONDON, date_text: str = "15 March") -> SentMessage:
    """Consent, choose ``zone`` and save a scan; return the confirmation."""
    await harness.consent()
    await set_zone(harness, zone)
    replies = await harness.say(f"/scan {date_text}")
    assert text(replies[-1]).startswith("Saved: your DEXA scan is on"), text(replies[-1])
    return replies[-1]


async def open_date_question(harness: Harness) -> SentMessage:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan")
    assert "When is your DEXA scan?" in text(replies[-1])
    return replies[-1]


@pytest.fixture(autouse=True)
async def no_handler_errors(harness: Harness) -> AsyncIterator[None]:
    """Fail the test if any handler raised: a crash answered politely is still a crash."""
    yield
    assert harness.errors == [], f"handlers raised: {harness.errors!r}"


# -- the flow ------------------------------------------------------------------------------------------


async def test_scan_asks_the_time_zone_first_then_the_date_and_confirms(harness: Harness) -> None:
    await harness.consent()
    asked = await harness.say("/scan")
    assert len(asked) == 1
    assert "which time zone are you in?" in text(asked[0])
    assert {"London", "Paris", "New York", "Skip (use UTC)"} <= set(labels(asked[0]))
    assert await harness.db_scan() is None

    after_zone = await harness.press(asked[0], "London")
    assert "Your time zone is now Europe/London" in text(after_zone[0])
    assert "When is your DEXA scan?" in text(after_zone[-1])
    user = await harness.db_user()
    assert user is not None and user.timezone == LONDON

    confirmed = await harness.say("15 March")
    assert len(confirmed) == 1
    shown = text(confirmed[0])
    assert f"Saved: your DEXA scan is on {SCAN_TEXT} (Europe/London time)" in shown
    planned = planned_for(harness, LONDON)
    assert [p.kind for p in planned] == ["lead", "lead", "followup"]
    for reminder in planned:
        if reminder.kind == "lead":
            assert reminder.due_at.astimezone(ZoneInfo(LONDON)).time() == dt.time(9, 0)
        assert local_text(reminder.due_at, LONDON) in shown
    assert "Monday 8 March 2027 at 09:00 (7 days before)" in shown
    assert "Sunday 14 March 2027 at 09:00 (1 day before)" in shown
    assert {"Add to my calendar", "Change date", "Cancel scan"} <= set(labels(confirmed[0]))

    scan = await harness.db_scan()
    assert scan is not None
    assert (scan.scan_date, scan.scan_time, scan.timezone) == (SCAN_DAY, None, LONDON)
    assert as_plan(await harness.db_reminders()) == [(p.kind, p.lead_days, p.due_at) for p in planned]
    assert await harness.db_dialog() is None


async def test_confirmation_lists_one_reminder_per_line(harness: Harness) -> None:
    confirmation = await scan_saved(harness)
    lines = [line for line in text(confirmation).splitlines() if line.startswith("•")]
    assert len(lines) == 3
    listed = await harness.say("/reminders")
    assert len([line for line in text(listed[0]).splitlines() if line.startswith("•")]) == 3


async def test_skipping_the_time_zone_uses_the_default(harness: Harness) -> None:
    await harness.consent()
    asked = await harness.say("/scan 15 March")
    assert "which time zone are you in?" in text(asked[0])
    # The date given with the command is kept while the zone is asked, so no second question follows.
    after = await harness.press(asked[0], "Skip (use UTC)")
    assert "I'll use UTC for now" in text(after[0])
    assert f"Saved: your DEXA scan is on {SCAN_TEXT} (UTC time)" in text(after[-1])
    scan = await harness.db_scan()
    assert scan is not None and scan.timezone == "UTC"
    user = await harness.db_user()
    assert user is not None and user.timezone is None  # skipping is not choosing
    assert as_plan(await harness.db_reminders()) == [
        (p.kind, p.lead_days, p.due_at) for p in planned_for(harness, "UTC")
    ]


async def test_typing_a_city_answers_the_time_zone_question(harness: Harness) -> None:
    await harness.consent()
    await harness.say("/scan")
    replies = await harness.say("Tokyo")
    assert "Your time zone is now Asia/Tokyo" in text(replies[0])
    assert "When is your DEXA scan?" in text(replies[-1])


async def test_an_ambiguous_city_offers_choices_and_the_flow_continues(harness: Harness) -> None:
    await harness.consent()
    await harness.say("/scan 15 March")
    # Birmingham, England and Birmingham, Alabama: the patient taps theirs.
    choices = await harness.say("Birmingham")
    assert {"Europe/London", "America/Chicago"} <= set(labels(choices[-1]))
    assert await harness.db_scan() is None
    replies = await harness.press(choices[-1], "America/Chicago")
    assert "Your time zone is now America/Chicago" in text(replies[0])
    assert f"Saved: your DEXA scan is on {SCAN_TEXT} (America/Chicago time)" in text(replies[-1])


async def test_a_city_among_the_one_tap_choices_is_taken_as_that_city(harness: Harness) -> None:
    await harness.consent()
    await harness.say("/scan 15 March")
    # "Paris" also names towns in Texas and Ontario; typed where the one-tap choices offer Paris, it is Paris.
    replies = await harness.say("paris")
    assert "Your time zone is now Europe/Paris" in text(replies[0])
    assert f"Saved: your DEXA scan is on {SCAN_TEXT} (Europe/Paris time)" in text(replies[-1])


async def test_inline_iso_date_is_saved_at_once(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan 2027-03-15")
    assert len(replies) == 1
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(replies[0])
    assert as_plan(await harness.db_reminders()) == [
        (p.kind, p.lead_days, p.due_at) for p in planned_for(harness, LONDON)
    ]


async def test_inline_date_with_a_time(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan 15 March at 2pm")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT} at 14:00" in text(replies[0])
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_time == dt.time(14, 0)


async def test_a_scan_today_is_allowed_with_only_the_follow_up(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan today")
    assert "Saved: your DEXA scan is on Monday 11 January 2027" in text(replies[0])
    reminders = await harness.db_reminders()
    assert [r.kind for r in reminders] == ["followup"]
    assert local_text(reminders[0].due_at, LONDON) == "Tuesday 12 January 2027 at 10:00"


async def test_month_first_date_is_questioned_when_day_first_and_the_button_saves_it(
    harness: Harness,
) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan 03/15/2027")
    assert len(replies) == 1
    assert f"Did you mean {SCAN_TEXT}?" in text(replies[0])
    assert "Yes, Monday 15 March 2027" in labels(replies[0])
    assert await harness.db_scan() is None
    saved = await harness.press(replies[0], "Yes, Monday 15 March 2027")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(saved[-1])
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_date == SCAN_DAY


async def test_month_first_date_is_never_swapped_silently(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan 03/15/2027")
    assert not any("Saved:" in text(m) for m in replies)
    assert await harness.db_scan() is None


async def test_month_first_setting_accepts_the_same_input(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    menu = await harness.say("/settings")
    await harness.press(menu[-1], "Date format")
    formats = harness.last()
    assert {"Day first (15/03/2027)", "Month first (03/15/2027)"} <= {
        label.removeprefix("✓ ") for label in labels(formats)
    }
    await harness.press(formats, "Month first (03/15/2027)")
    user = await harness.db_user()
    assert user is not None and user.date_order == "MDY"
    replies = await harness.say("/scan 03/15/2027")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(replies[-1])
    # Month first, 05/03 is May, not March.
    replies = await harness.say("/scan 05/03/2027")
    assert "Saved: your DEXA scan is on Monday 3 May 2027" in text(replies[-1])


BAD_DATES = [
    pytest.param("banana pancakes", "couldn't read that as a date", id="garbage"),
    pytest.param("2026-12-01", "has already passed", id="past"),
    pytest.param("15 March 2032", "more than three years away", id="five-years-ahead"),
    pytest.param(" ", "couldn't read that as a date", id="empty"),
]


@pytest.mark.parametrize(("bad", "_explanation"), BAD_DATES)
async def test_bad_date_saves_nothing_and_a_valid_date_still_completes(
    harness: Harness, bad: str, _explanation: str
) -> None:
    await open_date_question(harness)
    await harness.say(bad)
    assert await harness.db_scan() is None
    assert await harness.db_reminders(None) == []
    replies = await harness.say("15 March")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(replies[-1])
    assert len(await harness.db_reminders()) == 3


@pytest.mark.parametrize(("bad", "explanation"), BAD_DATES)
async def test_bad_date_is_explained_with_a_second_chance(
    harness: Harness, bad: str, explanation: str
) -> None:
    await open_date_question(harness)
    replies = await harness.say(bad)
    assert len(replies) == 1
    assert explanation in text(replies[0])
    assert "Try again" in text(replies[0])
    assert "Cancel" in labels(replies[0])
    dialog = await harness.db_dialog()
    assert dialog is not None and (dialog.flow, dialog.step) == ("scan", "await_date")


async def test_bad_inline_date_opens_the_question(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("/scan 2026-12-01")
    assert "has already passed" in text(replies[0])
    dialog = await harness.db_dialog()
    assert dialog is not None and (dialog.flow, dialog.step) == ("scan", "await_date")


async def test_typing_cancel_leaves_the_flow(harness: Harness) -> None:
    await open_date_question(harness)
    replies = await harness.say("cancel")
    assert "OK, cancelled" in text(replies[0])
    assert await harness.db_dialog() is None
    # A date typed now is not taken as the scan date.
    await harness.say("15 March")
    assert await harness.db_scan() is None


async def test_the_cancel_button_leaves_the_flow(harness: Harness) -> None:
    question = await open_date_question(harness)
    await harness.press(question, "Cancel")
    assert "OK, cancelled" in text(harness.last())
    assert await harness.db_dialog() is None
    await harness.say("15 March")
    assert await harness.db_scan() is None


async def test_cancel_keeps_an_existing_scan(harness: Harness) -> None:
    await scan_saved(harness)
    await harness.say("/scan")
    await harness.say("cancel")
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_date == SCAN_DAY
    assert len(await harness.db_reminders()) == 3


async def test_changing_the_date_replaces_the_scan_and_its_reminders(harness: Harness) -> None:
    confirmation = await scan_saved(harness)
    question = await harness.press(confirmation, "Change date")
    assert "When is your DEXA scan?" in text(question[-1])
    replies = await harness.say("2027-04-20")
    assert "Saved: your DEXA scan is on Tuesday 20 April 2027" in text(replies[-1])
    pending = await harness.db_reminders()
    assert {r.scan_id for r in pending} == {(await harness.db_scan()).id}  # type: ignore[union-attr]
    assert len(await harness.db_reminders(("cancelled",))) == 3


# -- other ways in -------------------------------------------------------------------------------------


async def test_set_reminder_intent_starts_the_flow(harness: Harness) -> None:
    await harness.consent()
    replies = await harness.say("remind me about my dexa scan")
    assert "which time zone are you in?" in text(replies[-1])
    await harness.press(replies[-1], "London")
    replies = await harness.say("15 March")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(replies[-1])


async def test_set_reminder_intent_with_a_zone_asks_the_date(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    replies = await harness.say("remind me about my dexa scan")
    assert "When is your DEXA scan?" in text(replies[-1])
    dialog = await harness.db_dialog()
    assert dialog is not None and (dialog.flow, dialog.step) == ("scan", "await_date")


async def test_button_under_a_dexa_answer_starts_the_flow(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    answer = await harness.say("what is a dexa scan?")
    assert "Set a scan reminder" in labels(answer[0])
    question = await harness.press(answer[0], "Set a scan reminder")
    assert "When is your DEXA scan?" in text(question[-1])
    replies = await harness.say("15 March")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(replies[-1])


async def test_scan_needs_consent_first_and_resumes_after_it(harness: Harness) -> None:
    replies = await harness.say("/scan 2027-03-15")
    assert "Is it OK for me to save it?" in text(replies[0])
    assert await harness.db_scan() is None
    resumed = await harness.press(replies[0], "Yes, save what I choose")
    # No zone chosen yet: the flow asks for it, keeping the date that came with the command.
    assert "which time zone are you in?" in text(resumed[-1])
    after = await harness.press(resumed[-1], "London")
    assert f"Saved: your DEXA scan is on {SCAN_TEXT}" in text(after[-1])


# -- changing zone and lead times ----------------------------------------------------------------------


async def test_new_time_zone_moves_pending_reminders(harness: Harness) -> None:
    await scan_saved(harness, LONDON)
    london = await harness.db_reminders()
    replies = await harness.say(f"/timezone {PARIS}")
    assert "I moved your scan reminders to match" in text(replies[0])
    scan = await harness.db_scan()
    assert scan is not None and (scan.scan_date, scan.timezone) == (SCAN_DAY, PARIS)
    paris = await harness.db_reminders()
    assert as_plan(paris) == [(p.kind, p.lead_days, p.due_at) for p in planned_for(harness, PARIS)]
    for reminder in paris:
        if reminder.kind == "lead":
            assert reminder.due_at.astimezone(ZoneInfo(PARIS)).time() == dt.time(9, 0)
    # Paris is an hour ahead of London in March: every reminder moves one hour earlier.
    assert [r.due_at for r in paris] == [r.due_at - dt.timedelta(hours=1) for r in london]


async def test_time_zone_change_across_dst_keeps_nine_local(harness: Harness) -> None:
    # 15 April is after both Europe's (28 March) and New York's (14 March) clock change; 8 April too.
    await scan_saved(harness, LONDON, "15 April")
    await set_zone(harness, "America/New_York")
    reminders = await harness.db_reminders()
    leads = [r for r in reminders if r.kind == "lead"]
    assert [local_text(r.due_at, "America/New_York") for r in leads] == [
        "Thursday 8 April 2027 at 09:00",
        "Wednesday 14 April 2027 at 09:00",
    ]
    assert leads[0].due_at == dt.datetime(2027, 4, 8, 13, 0, tzinfo=dt.UTC)  # EDT is UTC-4


async def test_new_lead_times_replan_the_reminders(harness: Harness) -> None:
    await scan_saved(harness)
    menu = await harness.say("/settings")
    await harness.press(menu[-1], "Reminder timing")
    await harness.press(harness.last(), "14, 7 and 1 day before")
    user = await harness.db_user()
    assert user is not None and user.lead_days_list == (14, 7, 1)
    reminders = await harness.db_reminders()
    assert as_plan(reminders) == [
        (p.kind, p.lead_days, p.due_at) for p in planned_for(harness, LONDON, lead_days=(14, 7, 1))
    ]
    listed = await harness.say("/reminders")
    assert "Monday 1 March 2027 at 09:00 (14 days before)" in text(listed[0])


async def test_lead_time_already_past_is_not_scheduled(harness: Harness) -> None:
    await harness.consent()
    await set_zone(harness, LONDON)
    # Five days ahead: the 7-day reminder's moment has gone, the 1-day one has not.
    replies = await harness.say("/scan 16 January")
    assert "(7 days before)" not in text(replies[0])
    reminders = await harness.db_reminders()
    assert [(r.kind, r.lead_days) for r in reminders] == [("lead", 1), ("followup", None)]


async def test_two_hours_before_is_optional_for_a_timed_scan(harness: Harness) -> None:
    await scan_saved(harness, LONDON, "15 March at 2pm")
    menu = await harness.say("/settings")
    await harness.press(menu[-1], "Reminder timing")
    await harness.press(harness.last(), "Also 2 hours before")
    two_hours = [r for r in await harness.db_reminders() if r.kind == "two_hours"]
    assert [local_text(r.due_at, LONDON) for r in two_hours] == [f"{SCAN_TEXT} at 12:00"]


# -- listing, cancelling, calendar ---------------------------------------------------------------------


async def test_reminders_lists_the_scan_and_its_reminders(harness: Harness) -> None:
    await scan_saved(harness)
    listed = await harness.say("/reminders")
    assert f"Your next DEXA scan: {SCAN_TEXT}" in text(listed[0])
    reminders = await harness.db_reminders()
    assert len(reminders) == 3
    for reminder in reminders:
        assert local_text(reminder.due_at, LONDON) in text(listed[0])
    assert {"Change date", "Cancel scan", "Add to my calendar", "Reminder timing"} <= set(labels(listed[0]))


async def test_reminders_without_a_scan_offers_to_set_one(harness: Harness) -> None:
    await harness.consent()
    replies = await harness.say("/reminders")
    assert "You have no DEXA scan saved" in text(replies[0])
    assert "Set a scan reminder" in labels(replies[0])


async def test_cancel_scan_button_cancels_the_scan_and_its_pending_reminders(harness: Harness) -> None:
    await scan_saved(harness)
    listed = await harness.say("/reminders")
    cancelled = await harness.press(listed[0], "Cancel scan")
    assert "That scan and its reminders are cancelled" in text(cancelled[-1])
    assert await harness.db_scan() is None
    assert await harness.db_reminders() == []
    assert [r.status for r in await harness.db_reminders(None)] == ["cancelled"] * 3
    assert listed[0].buttons == []  # the list it was pressed on lost its buttons
    none = await harness.say("/reminders")
    assert "You have no DEXA scan saved" in text(none[0])


async def test_add_to_calendar_sends_an_all_day_ics(harness: Harness) -> None:
    confirmation = await scan_saved(harness)
    replies = await harness.press(confirmation, "Add to my calendar")
    document = replies[-1].document
    assert document is not None and not isinstance(document, str)
    assert document.filename == "dexa-scan.ics"
    calendar = icalendar.Calendar.from_ical(document.data)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == SCAN_DAY
    assert "DEXA" in str(event.get("SUMMARY"))
    assert SCAN_TEXT in (replies[-1].caption or "")


async def test_add_to_calendar_for_a_timed_scan_has_its_local_start(harness: Harness) -> None:
    confirmation = await scan_saved(harness, PARIS, "15 March at 2pm")
    replies = await harness.press(confirmation, "Add to my calendar")
    document = replies[-1].document
    assert document is not None and not isinstance(document, str)
    (event,) = icalendar.Calendar.from_ical(document.data).walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2027, 3, 15, 14, 0, tzinfo=ZoneInfo(PARIS))
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 3, 15, 13, 0, tzinfo=dt.UTC)
