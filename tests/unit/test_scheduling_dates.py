"""Scan dates typed by patients are read strictly, relative to an injected today."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduling import (
    DateProblem,
    ParsedScanDate,
    add_months,
    add_years,
    format_date,
    format_time,
    parse_scan_date,
)

D = dt.date
T = dt.time
# A Sunday, eleven days before New Year: typed days in January and February roll into next year.
SUNDAY = D(2026, 12, 20)


def parsed(text: str, today: dt.date = SUNDAY, order: str = "DMY") -> ParsedScanDate:
    result = parse_scan_date(text, today=today, date_order=order)  # type: ignore[arg-type]
    assert isinstance(result, ParsedScanDate), result
    return result


def problem(text: str, today: dt.date = SUNDAY, order: str = "DMY") -> DateProblem:
    result = parse_scan_date(text, today=today, date_order=order)  # type: ignore[arg-type]
    assert isinstance(result, DateProblem), result
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 March", D(2027, 3, 15)),
        ("March 15", D(2027, 3, 15)),
        ("15th of march", D(2027, 3, 15)),
        ("march 15th", D(2027, 3, 15)),
        ("Mar. 15, 2027", D(2027, 3, 15)),
        ("15-Mar-2027", D(2027, 3, 15)),
        ("1 dec", D(2027, 12, 1)),
        ("15 January", D(2027, 1, 15)),
        ("20 December", SUNDAY),
        ("19 December", D(2027, 12, 19)),
        ("Tuesday 16 March 2027", D(2027, 3, 16)),
        ("2027-03-15", D(2027, 3, 15)),
        ("2027-3-5", D(2027, 3, 5)),
        ("15/03/2027", D(2027, 3, 15)),
        ("15.03.2027", D(2027, 3, 15)),
        ("15-03-27", D(2027, 3, 15)),
        ("5/3/27", D(2027, 3, 5)),
        ("15/03", D(2027, 3, 15)),
        ("21/12", D(2026, 12, 21)),
        ("next Tuesday", D(2026, 12, 22)),
        ("tuesday", D(2026, 12, 22)),
        ("next wed", D(2026, 12, 23)),
        ("tomorrow", D(2026, 12, 21)),
        ("today", SUNDAY),
        ("in 6 months", D(2027, 6, 20)),
        ("in six months", D(2027, 6, 20)),
        ("6 months", D(2027, 6, 20)),
        ("in 3 weeks", D(2027, 1, 10)),
        ("in 10 days", D(2026, 12, 30)),
        ("in a fortnight", D(2027, 1, 3)),
        ("in a week's time", D(2026, 12, 27)),
        ("6 weeks from today", D(2027, 1, 31)),
        ("in 1 year", D(2027, 12, 20)),
        ("the 15th", D(2027, 1, 15)),
        ("on the 31st", D(2026, 12, 31)),
        ("20th", SUNDAY),
    ],
)
def test_reads_dates_day_first(text: str, expected: dt.date) -> None:
    assert parsed(text) == ParsedScanDate(expected, None)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("04/05/2027", "DMY", D(2027, 5, 4)),
        ("04/05/2027", "MDY", D(2027, 4, 5)),
        ("03/15/2027", "MDY", D(2027, 3, 15)),
        ("3/15/27", "MDY", D(2027, 3, 15)),
        ("12.31.2027", "MDY", D(2027, 12, 31)),
        ("03/15", "MDY", D(2027, 3, 15)),
        # Year-first and month-name dates do not depend on the order.
        ("2027-04-05", "MDY", D(2027, 4, 5)),
        ("15 March", "MDY", D(2027, 3, 15)),
        ("March 15", "DMY", D(2027, 3, 15)),
    ],
)
def test_numeric_dates_follow_the_date_order(text: str, order: str, expected: dt.date) -> None:
    assert parsed(text, order=order).date == expected


@pytest.mark.parametrize(
    ("text", "order", "alternative"),
    [
        ("03/15/2027", "DMY", D(2027, 3, 15)),
        ("12/31/2027", "DMY", D(2027, 12, 31)),
        ("03/15", "DMY", D(2027, 3, 15)),
        ("15/03/2027", "MDY", D(2027, 3, 15)),
        ("25.12.27", "MDY", D(2027, 12, 25)),
    ],
)
def test_a_date_invalid_in_the_users_order_is_never_swapped(
    text: str, order: str, alternative: dt.date
) -> None:
    found = problem(text, order=order)
    assert found.kind == "order"
    assert found.alternative == alternative
    assert format_date(alternative) in found.detail


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("29/02/2028", SUNDAY, D(2028, 2, 29)),
        ("29 February 2028", SUNDAY, D(2028, 2, 29)),
        ("2028-02-29", SUNDAY, D(2028, 2, 29)),
        # Without a year: the next 29 February that exists.
        ("29 feb", SUNDAY, D(2028, 2, 29)),
        ("29 feb", D(2028, 2, 29), D(2028, 2, 29)),
        ("29 feb", D(2027, 3, 1), D(2028, 2, 29)),
        # Six months after 31 August is the end of February, leap year or not.
        ("in 6 months", D(2026, 8, 31), D(2027, 2, 28)),
        ("in 6 months", D(2027, 8, 31), D(2028, 2, 29)),
        ("in 1 year", D(2028, 2, 29), D(2029, 2, 28)),
    ],
)
def test_29_february(text: str, today: dt.date, expected: dt.date) -> None:
    assert parsed(text, today=today).date == expected


@pytest.mark.parametrize(
    "text",
    [
        "29/02/2027",
        "29 February 2027",
        "2027-02-29",
        "31/02/2027",
        "30 feb",
        "31 april",
        "2027-13-01",
        "32/01/2027",
    ],
)
def test_impossible_dates_are_invalid(text: str) -> None:
    assert problem(text).kind == "invalid"


def test_29_february_in_a_common_year_says_why() -> None:
    assert "2027" in problem("29/02/2027").detail


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("19/12/2026", "past"),
        ("2026-12-19", "past"),
        ("3 days ago", "past"),
        ("20/12/2029", None),
        ("21/12/2029", "too_far"),
        ("15 March 2030", "too_far"),
        ("in 100 years", "too_far"),
        ("march", "unparseable"),
        ("march 2027", "unparseable"),
        ("next week", "unparseable"),
        ("next month", "unparseable"),
        ("blah blah", "unparseable"),
        ("5", "unparseable"),
        ("2027", "unparseable"),
        ("my dexa scan", "unparseable"),
        ("at 2pm", "unparseable"),
        ("15 March " + "and so on " * 30, "unparseable"),
    ],
)
def test_problems(text: str, kind: str | None) -> None:
    result = parse_scan_date(text, today=SUNDAY)
    if kind is None:
        assert isinstance(result, ParsedScanDate)
    else:
        assert isinstance(result, DateProblem)
        assert result.kind == kind
        assert result.detail


def test_past_and_too_far_carry_the_reading() -> None:
    assert problem("2026-12-19").alternative == D(2026, 12, 19)
    assert problem("2030-01-01").alternative == D(2030, 1, 1)


def test_a_day_without_a_month_rolls_over_months_that_lack_it() -> None:
    # 31 January is past on 1 February; February and April have no 31st.
    assert parsed("the 31st", today=D(2027, 2, 1)).date == D(2027, 3, 31)
    assert parsed("the 30th", today=D(2027, 1, 31)).date == D(2027, 3, 30)


def test_a_weekday_typed_on_that_weekday_means_next_week() -> None:
    tuesday = D(2026, 12, 22)
    assert parsed("tuesday", today=tuesday).date == D(2026, 12, 29)
    assert parsed("wednesday", today=tuesday).date == D(2026, 12, 23)


@pytest.mark.parametrize(
    ("text", "expected_date", "expected_time"),
    [
        ("15 March at 2pm", D(2027, 3, 15), T(14, 0)),
        ("15 March 2pm", D(2027, 3, 15), T(14, 0)),
        ("15 march 14:30", D(2027, 3, 15), T(14, 30)),
        ("15/03/2027 at 14:30", D(2027, 3, 15), T(14, 30)),
        ("15.03.2027 9am", D(2027, 3, 15), T(9, 0)),
        ("15 march 2.30 pm", D(2027, 3, 15), T(14, 30)),
        ("15 march 2:30pm", D(2027, 3, 15), T(14, 30)),
        ("15 march 10.15 a.m.", D(2027, 3, 15), T(10, 15)),
        ("15 march at 12pm", D(2027, 3, 15), T(12, 0)),
        ("15 march at 12am", D(2027, 3, 15), T(0, 0)),
        ("15 march at noon", D(2027, 3, 15), T(12, 0)),
        ("15 march at 14.30", D(2027, 3, 15), T(14, 30)),
        ("15 march 14h30", D(2027, 3, 15), T(14, 30)),
        ("15 march at 9", D(2027, 3, 15), T(9, 0)),
        ("15 march at 16", D(2027, 3, 15), T(16, 0)),
        ("15 march 02:30", D(2027, 3, 15), T(2, 30)),
        ("9am tomorrow", D(2026, 12, 21), T(9, 0)),
        ("next tuesday at 11am", D(2026, 12, 22), T(11, 0)),
        ("in 6 months at 9am", D(2027, 6, 20), T(9, 0)),
        ("2027-03-15 08:45", D(2027, 3, 15), T(8, 45)),
        ("2027-03-15T08:45", D(2027, 3, 15), T(8, 45)),
    ],
)
def test_reads_a_time_of_day(text: str, expected_date: dt.date, expected_time: dt.time) -> None:
    assert parsed(text) == ParsedScanDate(expected_date, expected_time)


@pytest.mark.parametrize("text", ["15 march at 2", "15 march 2:30", "tomorrow at 5 o'clock"])
def test_an_early_hour_without_am_or_pm_is_asked_about(text: str) -> None:
    found = problem(text)
    assert found.kind == "unparseable"
    assert "am or pm" in found.detail


@pytest.mark.parametrize("text", ["15 march at 25:00", "13pm tomorrow", "15 march 10:75"])
def test_impossible_times_are_refused(text: str) -> None:
    assert problem(text).kind == "unparseable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my dexa is on 15 March", ParsedScanDate(D(2027, 3, 15), None)),
        (
            "My DEXA scan is booked for the 15th of March at 2.30pm!",
            ParsedScanDate(D(2027, 3, 15), T(14, 30)),
        ),
        ("remind me tomorrow", ParsedScanDate(D(2026, 12, 21), None)),
        ("scan on 15/03/2027", ParsedScanDate(D(2027, 3, 15), None)),
        ("it's on Tuesday at 10am", ParsedScanDate(D(2026, 12, 22), T(10, 0))),
        ("DXA appointment: 2027-01-04.", ParsedScanDate(D(2027, 1, 4), None)),
        ("bone density scan in 3 weeks please", ParsedScanDate(D(2027, 1, 10), None)),
    ],
)
def test_words_around_the_date_are_ignored(text: str, expected: ParsedScanDate) -> None:
    assert parsed(text) == expected


def test_format_date_and_time() -> None:
    assert format_date(D(2027, 3, 16)) == "Tuesday 16 March 2027"
    assert format_date(D(2028, 2, 29)) == "Tuesday 29 February 2028"
    assert format_time(T(14, 30)) == "14:30"
    assert format_time(T(9, 5)) == "09:05"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2027, 12, 15), 1, D(2028, 1, 15)),
        (D(2027, 3, 31), -1, D(2027, 2, 28)),
        (D(2027, 8, 31), 18, D(2029, 2, 28)),
    ],
)
def test_add_months_clips_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def test_add_years_moves_29_february_to_28() -> None:
    assert add_years(D(2028, 2, 29), 1) == D(2029, 2, 28)
    assert add_years(D(2028, 2, 29), 4) == D(2032, 2, 29)


days_ahead = st.integers(min_value=0, max_value=3 * 365)
todays = st.dates(min_value=D(2025, 1, 1), max_value=D(2035, 12, 31))


@settings(max_examples=150, deadline=None)
@given(today=todays, ahead=days_ahead)
def test_written_dates_read_back(today: dt.date, ahead: int) -> None:
    day = today + dt.timedelta(days=ahead)
    for text, order in (
        (day.isoformat(), "DMY"),
        (format_date(day), "DMY"),
        (f"{day.day}/{day.month}/{day.year}", "DMY"),
        (f"{day.month}/{day.day}/{day.year}", "MDY"),
        (f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}", "DMY"),
    ):
        assert parsed(text, today=today, order=order).date == day, text


@settings(max_examples=150, deadline=None)
@given(today=todays, day=st.integers(1, 31), month=st.integers(1, 12))
def test_a_day_and_month_is_never_in_the_past(today: dt.date, day: int, month: int) -> None:
    result = parse_scan_date(f"{day} {format_date(D(2027, month, 1)).split()[2]}", today=today)
    if isinstance(result, ParsedScanDate):
        assert today <= result.date < add_years(today, 1) or (day, month) == (29, 2)
        assert (result.date.day, result.date.month) == (day, month)
    else:
        assert result.kind in {"invalid", "too_far"}
