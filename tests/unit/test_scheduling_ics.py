"""The scan's calendar file is a valid VCALENDAR that calendar apps read back as the same scan."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.scheduling import scan_calendar_file

STAMP = dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def build(scan_date: dt.date, scan_time: dt.time | None, zone: str = "Europe/London") -> bytes:
    return scan_calendar_file(
        scan_date=scan_date, scan_time=scan_time, timezone=zone, uid="scan-42@bonebot", stamp=STAMP
    )


def only_event(data: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["VERSION"] == "2.0"
    assert "BoneBot" in str(calendar["PRODID"])
    (event,) = calendar.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    return event


def test_all_day_event_without_a_time() -> None:
    data = build(dt.date(2027, 3, 15), None)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"DTSTART;VALUE=DATE:20270315\r\n" in data
    assert b"VTIMEZONE" not in data
    event = only_event(data)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is dt.date and start == dt.date(2027, 3, 15)
    assert end == dt.date(2027, 3, 16)
    assert str(event["UID"]) == "scan-42@bonebot"
    assert str(event["SUMMARY"]) == "DEXA bone density scan"
    assert event.decoded("DTSTAMP") == STAMP
    (alarm,) = event.walk("VALARM")
    # 09:00 the day before the (midnight-starting) all-day event.
    assert alarm.decoded("TRIGGER") == dt.timedelta(hours=-15)
    assert str(alarm["ACTION"]) == "DISPLAY"


@pytest.mark.parametrize(
    ("zone", "scan_date", "scan_time", "utc_start"),
    [
        (
            "Europe/London",
            dt.date(2027, 3, 15),
            dt.time(14, 30),
            dt.datetime(2027, 3, 15, 14, 30, tzinfo=dt.UTC),
        ),
        (
            "Europe/London",
            dt.date(2027, 7, 15),
            dt.time(14, 30),
            dt.datetime(2027, 7, 15, 13, 30, tzinfo=dt.UTC),
        ),
        (
            "America/New_York",
            dt.date(2027, 11, 8),
            dt.time(9, 0),
            dt.datetime(2027, 11, 8, 14, 0, tzinfo=dt.UTC),
        ),
        (
            "Australia/Sydney",
            dt.date(2028, 1, 10),
            dt.time(8, 15),
            dt.datetime(2028, 1, 9, 21, 15, tzinfo=dt.UTC),
        ),
    ],
)
def test_timed_event_in_the_patients_zone(
    zone: str, scan_date: dt.date, scan_time: dt.time, utc_start: dt.datetime
) -> None:
    data = build(scan_date, scan_time, zone)
    expected_line = f"DTSTART;TZID={zone}:{scan_date:%Y%m%d}T{scan_time:%H%M}00\r\n"
    assert expected_line.encode() in data
    calendar = icalendar.Calendar.from_ical(data)
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == zone
    event = only_event(data)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == utc_start
    assert start.astimezone(ZoneInfo(zone)).time() == scan_time
    assert end - start == dt.timedelta(hours=1)
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == dt.timedelta(days=-1)


def test_utc_scan_needs_no_timezone_block() -> None:
    data = build(dt.date(2027, 3, 15), dt.time(9, 0), "UTC")
    assert b"DTSTART:20270315T090000Z\r\n" in data
    assert only_event(data).decoded("DTSTART") == dt.datetime(2027, 3, 15, 9, tzinfo=dt.UTC)


def test_summary_and_description_are_escaped_text() -> None:
    data = scan_calendar_file(
        scan_date=dt.date(2027, 3, 15),
        scan_time=None,
        timezone="UTC",
        uid="u1",
        summary="Scan; bring letter, glasses",
        description="Line one\nLine two",
        stamp=STAMP,
    )
    event = only_event(data)
    assert str(event["SUMMARY"]) == "Scan; bring letter, glasses"
    assert str(event["DESCRIPTION"]) == "Line one\nLine two"
    assert b"SUMMARY:Scan\\; bring letter\\, glasses\r\n" in data


def test_the_stamp_defaults_to_now() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    data = scan_calendar_file(scan_date=dt.date(2027, 3, 15), scan_time=None, timezone="UTC", uid="u2")
    stamp = only_event(data).decoded("DTSTAMP")
    assert before <= stamp <= dt.datetime.now(dt.UTC)
