"""A calendar file (.ics) for the patient's DEXA scan, to add it to their phone's calendar."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import icalendar

logger = logging.getLogger(__name__)

PRODID = "-//BoneBot//DEXA scan reminder//EN"
DEFAULT_SUMMARY = "DEXA bone density scan"
DEFAULT_DESCRIPTION = (
    "Your DEXA bone density scan. Added by BoneBot. Check the time and place with your clinic's letter."
)
SCAN_DURATION = dt.timedelta(hours=1)
#: Alarm for a timed scan: the same time the day before.
TIMED_ALARM = dt.timedelta(days=-1)
# An all-day event starts at midnight, so "one day before" would ring at midnight; 09:00 the day before
# (15 hours before the start) is the day-before alarm calendar apps use for all-day events.
ALL_DAY_ALARM = dt.timedelta(hours=-15)


def scan_calendar_file(
    *,
    scan_date: dt.date,
    scan_time: dt.time | None,
    timezone: str,
    uid: str,
    summary: str = DEFAULT_SUMMARY,
    description: str = DEFAULT_DESCRIPTION,
    stamp: dt.datetime | None = None,
) -> bytes:
    """Build a VCALENDAR with the scan (all-day without a time, else one hour in its zone) and a day-before alarm."""
    if stamp is None:
        stamp = dt.datetime.now(dt.UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("description", description)
    if scan_time is None:
        event.add("dtstart", scan_date)
        event.add("dtend", scan_date + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        trigger = ALL_DAY_ALARM
    else:
        start = dt.datetime.combine(scan_date, scan_time.replace(tzinfo=None), tzinfo=ZoneInfo(timezone))
        event.add("dtstart", start)
        event.add("dtend", start + SCAN_DURATION)
        trigger = TIMED_ALARM
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", trigger)
    event.add_component(alarm)
    calendar.add_component(event)
    if scan_time is not None:
        # A TZID must be defined in the file; a window around the scan keeps the VTIMEZONE short.
        calendar.add_missing_timezones(
            first_date=dt.date(scan_date.year - 1, 1, 1), last_date=dt.date(scan_date.year + 1, 12, 31)
        )
    data: bytes = calendar.to_ical()
    return data
