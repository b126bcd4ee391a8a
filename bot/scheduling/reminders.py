"""When DEXA reminders go out: every instant here is an aware UTC datetime.

Local wall-clock times are turned into instants with zoneinfo's ``fold=0`` everywhere:

- an ambiguous time (it happens twice when clocks go back) is the first of the two, so a reminder is never
  later than the patient expects;
- a time that does not exist (skipped when clocks go forward, e.g. 02:30 in New York on the spring-forward
  day) is read with the offset in force before the jump, which lands the same distance after the gap
  (02:30 EST = 03:30 EDT) — the wall-clock time the patient's phone shows once the clocks have moved.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from bot.scheduling.dates import add_years

logger = logging.getLogger(__name__)

ReminderKind = Literal["lead", "two_hours", "followup", "snooze"]
SnoozeChoice = Literal["3h", "tomorrow"]

DEFAULT_LEAD_DAYS: tuple[int, ...] = (7, 1)
LEAD_REMINDER_TIME = dt.time(9, 0)
FOLLOWUP_TIME = dt.time(10, 0)
SNOOZE_TOMORROW_TIME = dt.time(9, 0)
SNOOZE_DELAY = dt.timedelta(hours=3)
TWO_HOURS = dt.timedelta(hours=2)

MIN_LEAD_DAYS = 1
MAX_LEAD_DAYS = 60
MAX_LEAD_VALUES = 4

#: A reminder later than this is skipped and recorded as missed instead of being sent late.
STALE_AFTER = dt.timedelta(hours=12)

RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(minutes=30)

# Labels of next_scan_suggestions(); the article says follow-up scans come "every one to two years".
NEXT_SCAN_IN_1_YEAR = "in 1 year"
NEXT_SCAN_IN_2_YEARS = "in 2 years"

_ORDER: dict[str, int] = {"lead": 0, "two_hours": 1, "snooze": 2, "followup": 3}


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder to send: what it is and when (aware UTC)."""

    kind: ReminderKind
    due_at: dt.datetime
    lead_days: int | None = None


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """Return an aware moment in UTC; refuse naive ones."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    # Arithmetic on datetimes sharing a local tzinfo is wall-clock arithmetic, wrong across a clock change.
    return moment.astimezone(dt.UTC)


def local_to_utc(day: dt.date, time_of_day: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Turn a local wall-clock moment into UTC, resolving gaps and overlaps with ``fold=0``."""
    local = dt.datetime.combine(day, time_of_day.replace(tzinfo=None, fold=0), tzinfo=zone)
    return local.astimezone(dt.UTC)


def plan_scan_reminders(
    *,
    scan_date: dt.date,
    scan_time: dt.time | None,
    timezone: str,
    lead_days: Iterable[int] = DEFAULT_LEAD_DAYS,
    two_hours_before: bool = False,
    now: dt.datetime,
) -> list[PlannedReminder]:
    """Plan the reminders for one scan: 09:00 local ``lead_days`` before, optionally 2 h before, follow-up."""
    now = _as_utc(now)
    zone = ZoneInfo(timezone)
    leads = validate_lead_days(tuple(lead_days))
    planned: list[PlannedReminder] = []
    for lead in leads:
        due = local_to_utc(scan_date - dt.timedelta(days=lead), LEAD_REMINDER_TIME, zone)
        planned.append(PlannedReminder("lead", due, lead))
    if two_hours_before and scan_time is not None:
        planned.append(PlannedReminder("two_hours", local_to_utc(scan_date, scan_time, zone) - TWO_HOURS))
    planned.append(
        PlannedReminder("followup", local_to_utc(scan_date + dt.timedelta(days=1), FOLLOWUP_TIME, zone))
    )
    # A moment already gone is dropped rather than sent at once: "your scan is in 7 days" would be wrong.
    kept = [reminder for reminder in planned if reminder.due_at >= now]
    logger.debug("planned %d reminders, dropped %d already past", len(kept), len(planned) - len(kept))
    return sorted(kept, key=lambda reminder: (reminder.due_at, _ORDER[reminder.kind]))


def snooze_until(choice: SnoozeChoice, *, now: dt.datetime, timezone: str) -> dt.datetime:
    """Return when a snoozed reminder comes back: 3 hours later, or 09:00 local tomorrow."""
    now = _as_utc(now)
    if choice == "3h":
        return now + SNOOZE_DELAY
    if choice == "tomorrow":
        zone = ZoneInfo(timezone)
        tomorrow = now.astimezone(zone).date() + dt.timedelta(days=1)
        return local_to_utc(tomorrow, SNOOZE_TOMORROW_TIME, zone)
    raise ValueError(f"unknown snooze choice: {choice!r}")


def is_stale(due_at: dt.datetime, now: dt.datetime) -> bool:
    """Tell whether a reminder is more than ``STALE_AFTER`` late and must be recorded as missed."""
    return _as_utc(now) - _as_utc(due_at) > STALE_AFTER


def next_scan_suggestions(scan_date: dt.date) -> dict[str, dt.date]:
    """Suggest the following scan one and two years on (29 February becomes 28 February)."""
    return {
        NEXT_SCAN_IN_1_YEAR: add_years(scan_date, 1),
        NEXT_SCAN_IN_2_YEARS: add_years(scan_date, 2),
    }


def validate_lead_days(values: tuple[int, ...]) -> tuple[int, ...]:
    """Check lead times (1–60 days, 1–4 distinct values) and return them largest first."""
    if not values:
        raise ValueError("give at least one number of days")
    if len(values) > MAX_LEAD_VALUES:
        raise ValueError(f"give at most {MAX_LEAD_VALUES} numbers of days")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("lead times must be whole numbers of days")
        if not MIN_LEAD_DAYS <= value <= MAX_LEAD_DAYS:
            raise ValueError(f"each lead time must be between {MIN_LEAD_DAYS} and {MAX_LEAD_DAYS} days")
    if len(set(values)) != len(values):
        raise ValueError("each lead time may appear only once")
    return tuple(sorted(values, reverse=True))


def parse_lead_days(text: str) -> tuple[int, ...]:
    """Read lead times such as ``7,1`` or ``14 7 1``; raise ValueError with a readable reason."""
    parts = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise ValueError("lead times must be whole numbers of days, such as 7,1")
    return validate_lead_days(tuple(int(part) for part in parts))


def format_lead_days(values: tuple[int, ...]) -> str:
    """Write lead times in the stored form, largest first: ``(1, 7)`` → ``7,1``."""
    return ",".join(str(value) for value in validate_lead_days(values))


def retry_backoff(attempt: int) -> dt.timedelta:
    """Return the wait before retry ``attempt`` (1-based) after a network error: 30 s doubling, capped at 30 min."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    # Past 2**6 the cap applies anyway; bounding the exponent keeps huge attempt numbers cheap.
    delay = RETRY_FIRST * (1 << min(attempt - 1, 16))
    return min(delay, RETRY_CAP)
