"""Reminder moments: local wall-clock rules turned into UTC instants, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduling import (
    STALE_AFTER,
    PlannedReminder,
    format_lead_days,
    is_stale,
    next_scan_suggestions,
    parse_lead_days,
    plan_scan_reminders,
    retry_backoff,
    snooze_until,
)

D = dt.date
T = dt.time
UTC = dt.UTC


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


EARLY = utc(2027, 1, 1)


def plan(scan_date: dt.date, zone: str, **kwargs: object) -> list[PlannedReminder]:
    options: dict[str, object] = {"scan_time": None, "now": EARLY, **kwargs}
    return plan_scan_reminders(scan_date=scan_date, timezone=zone, **options)  # type: ignore[arg-type]


def due(reminders: list[PlannedReminder], kind: str, lead: int | None = None) -> dt.datetime:
    (found,) = [r.due_at for r in reminders if r.kind == kind and r.lead_days == lead]
    return found


# 2027: the UK changes clocks on Sunday 28 March and Sunday 31 October, the US on 14 March and 7 November.
@pytest.mark.parametrize(
    ("zone", "scan_date", "seven_days", "one_day", "followup"),
    [
        # Monday after the UK spring change: 7 days before is still GMT, the day before is BST.
        ("Europe/London", D(2027, 3, 29), utc(2027, 3, 22, 9), utc(2027, 3, 28, 8), utc(2027, 3, 30, 9)),
        # Monday after the UK autumn change: 7 days before is BST, the day before is GMT.
        ("Europe/London", D(2027, 11, 1), utc(2027, 10, 25, 8), utc(2027, 10, 31, 9), utc(2027, 11, 2, 10)),
        ("America/New_York", D(2027, 3, 15), utc(2027, 3, 8, 14), utc(2027, 3, 14, 13), utc(2027, 3, 16, 14)),
        (
            "America/New_York",
            D(2027, 11, 8),
            utc(2027, 11, 1, 13),
            utc(2027, 11, 7, 14),
            utc(2027, 11, 9, 15),
        ),
        # Southern hemisphere: Sydney leaves summer time on Sunday 4 April 2027.
        ("Australia/Sydney", D(2027, 4, 5), utc(2027, 3, 28, 22), utc(2027, 4, 3, 23), utc(2027, 4, 6, 0)),
        ("UTC", D(2027, 6, 15), utc(2027, 6, 8, 9), utc(2027, 6, 14, 9), utc(2027, 6, 16, 10)),
    ],
)
def test_lead_reminders_stay_at_9_local_across_clock_changes(
    zone: str, scan_date: dt.date, seven_days: dt.datetime, one_day: dt.datetime, followup: dt.datetime
) -> None:
    reminders = plan(scan_date, zone)
    assert [r.kind for r in reminders] == ["lead", "lead", "followup"]
    assert due(reminders, "lead", 7) == seven_days
    assert due(reminders, "lead", 1) == one_day
    assert due(reminders, "followup") == followup
    local = ZoneInfo(zone)
    assert [r.due_at.astimezone(local).time() for r in reminders] == [T(9), T(9), T(10)]
    assert all(r.due_at.tzinfo is UTC for r in reminders)


def test_two_hours_before_a_timed_scan() -> None:
    reminders = plan(D(2027, 3, 29), "Europe/London", scan_time=T(11, 0), two_hours_before=True)
    assert [r.kind for r in reminders] == ["lead", "lead", "two_hours", "followup"]
    # 11:00 BST is 10:00 UTC.
    assert due(reminders, "two_hours") == utc(2027, 3, 29, 8)


def test_two_hours_before_a_scan_in_the_spring_forward_gap() -> None:
    # 02:30 does not exist in New York on 14 March 2027; it is read as 02:30 EST = 03:30 EDT = 07:30 UTC.
    reminders = plan(D(2027, 3, 14), "America/New_York", scan_time=T(2, 30), two_hours_before=True)
    assert due(reminders, "two_hours") == utc(2027, 3, 14, 5, 30)


def test_two_hours_before_an_ambiguous_scan_time_uses_the_first_one() -> None:
    # 01:30 happens twice in New York on 7 November 2027; the first (EDT, 05:30 UTC) is taken.
    reminders = plan(D(2027, 11, 7), "America/New_York", scan_time=T(1, 30), two_hours_before=True)
    assert due(reminders, "two_hours") == utc(2027, 11, 7, 3, 30)


@pytest.mark.parametrize(("scan_time", "two_hours_before"), [(None, True), (T(11, 0), False), (None, False)])
def test_no_two_hours_reminder_without_a_time_or_the_setting(
    scan_time: dt.time | None, two_hours_before: bool
) -> None:
    reminders = plan(D(2027, 6, 15), "Europe/London", scan_time=scan_time, two_hours_before=two_hours_before)
    assert "two_hours" not in {r.kind for r in reminders}


@pytest.mark.parametrize(
    ("now", "kinds"),
    [
        (utc(2027, 6, 1), ["lead:14", "lead:7", "lead:1", "followup"]),
        # Exactly at the 14-day moment (09:00 BST = 08:00 UTC) it is still due.
        (utc(2027, 6, 1, 8), ["lead:14", "lead:7", "lead:1", "followup"]),
        (utc(2027, 6, 1, 8, 0, 1), ["lead:7", "lead:1", "followup"]),
        (utc(2027, 6, 10), ["lead:1", "followup"]),
        (utc(2027, 6, 15, 12), ["followup"]),
        (utc(2027, 6, 16, 9), ["followup"]),
        (utc(2027, 6, 16, 9, 0, 1), []),
    ],
)
def test_moments_already_past_are_dropped(now: dt.datetime, kinds: list[str]) -> None:
    reminders = plan(D(2027, 6, 15), "Europe/London", lead_days=(1, 14, 7), now=now)
    assert [f"{r.kind}:{r.lead_days}" if r.lead_days else r.kind for r in reminders] == kinds


def test_reminders_come_sorted() -> None:
    # A scan at 08:00: the two-hours reminder (06:00) comes before the follow-up, after the leads.
    reminders = plan(
        D(2027, 6, 15), "Europe/London", scan_time=T(8, 0), two_hours_before=True, lead_days=(1, 30, 3)
    )
    assert [r.due_at for r in reminders] == sorted(r.due_at for r in reminders)
    assert [r.lead_days for r in reminders] == [30, 3, 1, None, None]


@pytest.mark.parametrize("lead_days", [(), (0,), (61,), (7, 7), (1, 2, 3, 4, 5)])
def test_bad_lead_days_are_refused(lead_days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        plan(D(2027, 6, 15), "Europe/London", lead_days=lead_days)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        plan(D(2027, 6, 15), "Europe/London", now=dt.datetime(2027, 1, 1))


zones = st.sampled_from(
    ["Europe/London", "America/New_York", "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata"]
)


@settings(max_examples=200, deadline=None)
@given(zone=zones, scan_date=st.dates(min_value=D(2027, 1, 1), max_value=D(2035, 12, 31)))
def test_every_lead_is_at_9_local_on_the_right_day(zone: str, scan_date: dt.date) -> None:
    local = ZoneInfo(zone)
    for reminder in plan(scan_date, zone, lead_days=(30, 7, 2, 1), now=utc(2026, 1, 1)):
        moment = reminder.due_at.astimezone(local)
        if reminder.kind == "lead":
            assert reminder.lead_days is not None
            assert moment.date() == scan_date - dt.timedelta(days=reminder.lead_days)
            assert moment.time() == T(9)
        else:
            assert (moment.date(), moment.time()) == (scan_date + dt.timedelta(days=1), T(10))


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # 23:30 GMT on the night the clocks go forward: 09:00 BST the next morning.
        (utc(2027, 3, 27, 23, 30), "Europe/London", utc(2027, 3, 28, 8)),
        # Already the next morning in Sydney (10:30 AEDT on the 28th): 09:00 on the 29th.
        (utc(2027, 3, 27, 23, 30), "Australia/Sydney", utc(2027, 3, 28, 22)),
        # 20:00 in New York is 01:00 UTC the next day; tomorrow is still counted from the local date.
        (utc(2027, 6, 2, 1), "America/New_York", utc(2027, 6, 2, 13)),
    ],
)
def test_snooze_until_tomorrow_is_9_local(now: dt.datetime, zone: str, expected: dt.datetime) -> None:
    assert snooze_until("tomorrow", now=now, timezone=zone) == expected


def test_snooze_three_hours() -> None:
    now = dt.datetime(2027, 3, 28, 0, 30, tzinfo=ZoneInfo("Europe/London"))
    later = snooze_until("3h", now=now, timezone="Europe/London")
    assert later == utc(2027, 3, 28, 3, 30)
    assert later.tzinfo is UTC


def test_snooze_refuses_unknown_choices() -> None:
    with pytest.raises(ValueError):
        snooze_until("1w", now=EARLY, timezone="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("late_by", "stale"),
    [
        (dt.timedelta(hours=-1), False),
        (dt.timedelta(0), False),
        (dt.timedelta(hours=11, minutes=59), False),
        (STALE_AFTER, False),
        (STALE_AFTER + dt.timedelta(seconds=1), True),
        (dt.timedelta(days=3), True),
    ],
)
def test_stale_after_twelve_hours(late_by: dt.timedelta, stale: bool) -> None:
    due_at = utc(2027, 6, 1, 9)
    assert is_stale(due_at, due_at + late_by) is stale


def test_stale_counts_real_hours_across_a_clock_change() -> None:
    london = ZoneInfo("Europe/London")
    # 20:00 GMT to 09:00 BST next morning is 12 real hours (13 on the wall clock): not yet stale.
    due_at = dt.datetime(2027, 3, 27, 20, 0, tzinfo=london)
    assert not is_stale(due_at, dt.datetime(2027, 3, 28, 9, 0, tzinfo=london))
    assert is_stale(due_at, dt.datetime(2027, 3, 28, 9, 1, tzinfo=london))
    with pytest.raises(ValueError):
        is_stale(dt.datetime(2027, 3, 27, 20, 0), dt.datetime(2027, 3, 28, 9, 0))


@pytest.mark.parametrize(
    ("scan", "one_year", "two_years"),
    [
        (D(2027, 3, 15), D(2028, 3, 15), D(2029, 3, 15)),
        (D(2028, 2, 29), D(2029, 2, 28), D(2030, 2, 28)),
        (D(2027, 12, 31), D(2028, 12, 31), D(2029, 12, 31)),
    ],
)
def test_next_scan_suggestions(scan: dt.date, one_year: dt.date, two_years: dt.date) -> None:
    assert next_scan_suggestions(scan) == {"in 1 year": one_year, "in 2 years": two_years}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7,1", (7, 1)),
        ("1,7", (7, 1)),
        (" 14, 7 ,1 ", (14, 7, 1)),
        ("14 7 1", (14, 7, 1)),
        ("30", (30,)),
        ("60,1,2,3", (60, 3, 2, 1)),
    ],
)
def test_parse_lead_days(text: str, expected: tuple[int, ...]) -> None:
    assert parse_lead_days(text) == expected
    assert parse_lead_days(format_lead_days(expected)) == expected


@pytest.mark.parametrize("text", ["", " , ", "0", "61", "7,7", "1,2,3,4,5", "a", "-1", "7.5", "7,x", "٣"])
def test_parse_lead_days_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_lead_days(text)


def test_format_lead_days() -> None:
    assert format_lead_days((1, 7)) == "7,1"
    assert format_lead_days((7,)) == "7"
    with pytest.raises(ValueError):
        format_lead_days((7, 7))


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1800), (8, 1800), (10_000, 1800)],
)
def test_retry_backoff(attempt: int, seconds: int) -> None:
    assert retry_backoff(attempt) == dt.timedelta(seconds=seconds)


def test_retry_backoff_counts_from_one() -> None:
    with pytest.raises(ValueError):
        retry_backoff(0)
