"""Read the DEXA scan date (and optional time of day) a patient typed."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import dateparser

logger = logging.getLogger(__name__)

DateOrder = Literal["DMY", "MDY"]
ProblemKind = Literal["empty", "unparseable", "past", "too_far", "order", "invalid"]

#: Countries whose people write numeric dates month first (ISO 3166 codes): the US and its territories,
#: and the Pacific states that follow its custom. Their time zones read 3/4 as March 4 until a patient
#: chooses otherwise.
MONTH_FIRST_COUNTRIES = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"})

#: How far ahead a scan date may be; later dates are almost always typing slips.
MAX_YEARS_AHEAD = 3
MAX_INPUT_LENGTH = 200

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class ParsedScanDate:
    """A scan date the patient typed, with the time of day when they gave one."""

    date: dt.date
    time: dt.time | None = None


@dataclass(frozen=True)
class DateProblem:
    """Why a typed date cannot be used; ``detail`` is a plain-English sentence safe to show the patient."""

    kind: ProblemKind
    detail: str
    #: For ``order``: the date the text means in the other date order; for ``too_far``/``past``: the reading.
    alternative: dt.date | None = None


def format_date(d: dt.date) -> str:
    """Format a date the way the bot shows it: ``Tuesday 16 March 2027``."""
    # Own name tables rather than strftime, whose names follow the process locale.
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def format_time(t: dt.time) -> str:
    """Format a time of day on the 24-hour clock: ``14:30``."""
    return f"{t.hour:02d}:{t.minute:02d}"


def add_months(d: dt.date, months: int) -> dt.date:
    """Return the date ``months`` later, clipping the day to the end of a shorter month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def add_years(d: dt.date, years: int) -> dt.date:
    """Return the date ``years`` later; 29 February becomes 28 February in a common year."""
    return add_months(d, 12 * years)


# --- text clean-up ----------------------------------------------------------------------------------------

_MONTH_NUMBERS: dict[str, int] = {}
for _number, _name in enumerate(_MONTHS, start=1):
    _MONTH_NUMBERS[_name.lower()] = _number
    _MONTH_NUMBERS[_name.lower()[:3]] = _number
_MONTH_NUMBERS["sept"] = 9
# Longest first so that "march" wins over "mar" in the alternation.
_MONTH_RE = "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True))

_WEEKDAY_ABBREVIATIONS = {
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}

# Words patients wrap around a date ("my dexa scan is booked for ..."); dropped before parsing.
_FILLER_WORDS = frozenset(
    [
        "my",
        "dexa",
        "dxa",
        "dexascan",
        "bone",
        "density",
        "bmd",
        "scan",
        "scans",
        "scanning",
        "appointment",
        "appt",
        "appointments",
        "is",
        "it",
        "it's",
        "its",
        "will",
        "be",
        "on",
        "for",
        "remind",
        "reminder",
        "me",
        "please",
        "about",
        "booked",
        "scheduled",
        "set",
        "date",
        "i",
        "i'm",
        "im",
        "have",
        "got",
        "has",
        "been",
        "that",
        "should",
        "and",
        "so",
        "morning",
        "afternoon",
        "evening",
        "around",
        "approximately",
        "approx",
        "roughly",
    ]
)

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty": 20,
}

_TIME_12H = re.compile(r"\b(?:at\s+)?(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\b\.?")
_TIME_24H = re.compile(r"\b(?:at\s+)?(\d{1,2})[:h](\d{2})\b(?:\s*(?:hrs|hours|h)\b)?")
_TIME_AT_DOT = re.compile(r"\bat\s+(\d{1,2})\.(\d{2})\b")
_TIME_NOON = re.compile(r"\b(?:at\s+)?(?:12\s+)?(?:noon|midday)\b")
_TIME_AT_BARE = re.compile(r"\bat\s+(\d{1,2})(?:\s*o'?\s*clock)?(?![\d/.\-:])")

_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})\b")
_NUMERIC_NO_YEAR = re.compile(r"^(\d{1,2})[/.](\d{1,2})$")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s\-/.]*({_MONTH_RE})\b\.?(?:,?[\s\-/]+(\d{{4}}|\d{{2}})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_RE})\b\.?[\s\-/]+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"
)
_DAY_ONLY = re.compile(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)$|^the\s+(\d{1,2})$")
_NUMBER_RE = r"\d{1,3}|" + "|".join(_NUMBER_WORDS)
_RELATIVE = re.compile(
    rf"^(?:(?:in|after)\s+)?({_NUMBER_RE})\s+(day|week|fortnight|month|year)(?:s|'s|s')?"
    r"(?:\s+(?:time|from\s+(?:now|today)))?$"
)
_NO_DAY = re.compile(
    rf"^(?:(?:in|next|this|the|of|end|start|mid|early|late)\s+)*(?:(?:{_MONTH_RE})\b\.?|week|month|year)"
    r"(?:\s+\d{4})?$"
)

_PROBLEM_TEXT: dict[str, str] = {
    "empty": "Please type the date of your scan, for example 15 March or 2027-03-15.",
    "unparseable": "I couldn't read that as a date. Try 15 March, 15/03/2027 or in 6 months.",
    "no_day": "Which day is it? Please add the day, for example 15 March.",
    "time_am_pm": "Is that morning or afternoon? Please add am or pm, for example at 2pm or at 14:00.",
    "bad_time": "That time of day doesn't exist. Try at 2pm or 14:30.",
}


def _problem(kind: ProblemKind, detail: str, alternative: dt.date | None = None) -> DateProblem:
    logger.debug("scan date rejected: %s", kind)
    return DateProblem(kind=kind, detail=detail, alternative=alternative)


def _normalise(text: str) -> str:
    text = text.casefold()
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    text = re.sub(r"\s+", " ", text).strip()
    # ISO date-times ("2027-03-15T14:30") become a date and a time.
    text = re.sub(r"(\d)t(\d)", r"\1 \2", text)
    # Sentence punctuation at the end, but not the dot of "15.03.2027" (it is followed by nothing there).
    return re.sub(r"[\s,;:!?]+$|\.+$", "", text).strip()


class _TimeProblem(Exception):
    """A time of day was given but cannot be used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _clock(hour: int, minute: int, *, leading_zero: bool) -> dt.time:
    """Build a time from a clock reading without am/pm, refusing the readings that could be either."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _TimeProblem("bad_time")
    # A scan is not booked between 01:00 and 06:59, so "2:30" almost surely means the afternoon; ask.
    if 1 <= hour <= 6 and not leading_zero:
        raise _TimeProblem("time_am_pm")
    return dt.time(hour, minute)


def _extract_time(text: str) -> tuple[str, dt.time | None]:
    """Take the time of day out of the text; return the rest and the time (or None)."""
    match = _TIME_12H.search(text)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if not (1 <= hour <= 12 and 0 <= minute <= 59):
            raise _TimeProblem("bad_time")
        hour = hour % 12 + (12 if match[3] == "p" else 0)
        return _cut(text, match), dt.time(hour, minute)
    match = _TIME_24H.search(text) or _TIME_AT_DOT.search(text)
    if match:
        found = _clock(int(match[1]), int(match[2]), leading_zero=match[1].startswith("0"))
        return _cut(text, match), found
    match = _TIME_NOON.search(text)
    if match:
        return _cut(text, match), dt.time(12, 0)
    match = _TIME_AT_BARE.search(text)
    if match:
        return _cut(text, match), _clock(int(match[1]), 0, leading_zero=match[1].startswith("0"))
    return text, None


def _cut(text: str, match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", text[: match.start()] + " " + text[match.end() :]).strip()


def _strip_fillers(text: str) -> str:
    words = []
    for word in text.split():
        bare = word.strip(',;:!?()"')
        if bare in _FILLER_WORDS or not bare:
            continue
        words.append(_WEEKDAY_ABBREVIATIONS.get(bare, bare))
    return " ".join(words)


# --- date readings ----------------------------------------------------------------------------------------


def _next_day_month(day: int, month: int, today: dt.date) -> dt.date | None:
    """The next date (today included) falling on this day and month; None if no year has it."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _next_day_of_month(day: int, today: dt.date) -> dt.date | None:
    """The next date (today included) whose day of the month is ``day``."""
    for offset in range(13):
        year, month = divmod(today.year * 12 + today.month - 1 + offset, 12)
        try:
            candidate = dt.date(year, month + 1, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _full_year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _invalid(day: int, month: int, year: int | None) -> DateProblem:
    if 1 <= month <= 12 and day == 29 and month == 2 and year is not None:
        return _problem("invalid", f"{year} is not a leap year, so it has no 29 February.")
    if 1 <= month <= 12:
        return _problem("invalid", f"{_MONTHS[month - 1]} has no day {day}.")
    return _problem("invalid", "That date doesn't exist. Please check the day and the month.")


def _numeric(
    first: int, second: int, year: int | None, order: DateOrder, today: dt.date
) -> dt.date | DateProblem:
    """Read a numeric day/month pair strictly in the patient's order; name the other reading if it fits."""
    day, month = (first, second) if order == "DMY" else (second, first)
    if year is None:
        found = _next_day_month(day, month, today) if 1 <= month <= 12 else None
    else:
        found = _make_date(year, month, day)
    if found is not None:
        return found
    other_day, other_month = month, day
    if year is None:
        other = _next_day_month(other_day, other_month, today) if 1 <= other_month <= 12 else None
    else:
        other = _make_date(year, other_month, other_day)
    if other is not None and not 1 <= month <= 12:
        mine, theirs = ("day-first", "month-first") if order == "DMY" else ("month-first", "day-first")
        return _problem(
            "order",
            f"I read dates {mine}, and there is no month {month}. Read {theirs}, it would be "
            f"{format_date(other)}. You can switch the date order in /settings.",
            alternative=other,
        )
    return _invalid(day, month, year)


def _relative(amount: int, unit: str, today: dt.date) -> dt.date:
    if unit == "day":
        return today + dt.timedelta(days=amount)
    if unit == "week":
        return today + dt.timedelta(weeks=amount)
    if unit == "fortnight":
        return today + dt.timedelta(weeks=2 * amount)
    if unit == "month":
        return add_months(today, amount)
    return add_years(today, amount)


def _read_date(text: str, today: dt.date, order: DateOrder) -> dt.date | DateProblem:
    """Read the date part of the cleaned text."""
    match = _ISO.search(text)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        return _make_date(year, month, day) or _invalid(day, month, year)
    match = _NUMERIC.search(text)
    if match:
        return _numeric(int(match[1]), int(match[3]), _full_year(match[4]), order, today)
    match = _NUMERIC_NO_YEAR.match(text)
    if match:
        return _numeric(int(match[1]), int(match[2]), None, order, today)
    for pattern, day_group, month_group in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        match = pattern.search(text)
        if match:
            day, month = int(match[day_group]), _MONTH_NUMBERS[match[month_group]]
            if match[3]:
                year = _full_year(match[3])
                return _make_date(year, month, day) or _invalid(day, month, year)
            return _next_day_month(day, month, today) or _invalid(day, month, None)
    match = _RELATIVE.match(text)
    if match:
        return _relative(_NUMBER_WORDS.get(match[1]) or int(match[1]), match[2], today)
    if _NO_DAY.match(text):
        return _problem("unparseable", _PROBLEM_TEXT["no_day"])
    match = _DAY_ONLY.match(text)
    if match:
        day = int(match[1] or match[2])
        found = _next_day_of_month(day, today)
        return found or _problem("invalid", f"No month has a day {day}.")
    if not re.search(r"[a-z]", text):
        # Bare numbers ("5", "2027") are not dates; dateparser would guess a day or a year.
        return _problem("unparseable", _PROBLEM_TEXT["unparseable"])
    return _dateparser(text, today, order)


def _dateparser(text: str, today: dt.date, order: DateOrder) -> dt.date | DateProblem:
    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": dt.datetime.combine(today, dt.time(0, 0)),
        "DATE_ORDER": order,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return _problem("unparseable", _PROBLEM_TEXT["unparseable"])
    # dateparser echoes the base's time of day; the time was taken out beforehand, so keep only the date.
    result: dt.date = parsed.date()
    return result


def parse_scan_date(
    text: str, *, today: dt.date, date_order: DateOrder = "DMY"
) -> ParsedScanDate | DateProblem:
    """Read a scan date typed by a patient, relative to ``today`` in the patient's time zone."""
    cleaned = _normalise(text)
    if not cleaned:
        return _problem("empty", _PROBLEM_TEXT["empty"])
    if len(cleaned) > MAX_INPUT_LENGTH:
        # A date fits in a line; long text is a message sent to the wrong step, and dateparser is slow on it.
        return _problem("unparseable", _PROBLEM_TEXT["unparseable"])
    try:
        rest, time_of_day = _extract_time(cleaned)
    except _TimeProblem as problem:
        return _problem("unparseable", _PROBLEM_TEXT[problem.reason])
    rest = _strip_fillers(rest)
    if not rest:
        return _problem("unparseable", _PROBLEM_TEXT["no_day"] if time_of_day else _PROBLEM_TEXT["empty"])
    found = _read_date(rest, today, date_order)
    if isinstance(found, DateProblem):
        return found
    if found < today:
        return _problem(
            "past", f"{format_date(found)} has already passed. Please give the date of your next scan.", found
        )
    if found > add_years(today, MAX_YEARS_AHEAD):
        return _problem(
            "too_far",
            f"{format_date(found)} is more than {MAX_YEARS_AHEAD} years away. Please check the year.",
            found,
        )
    return ParsedScanDate(date=found, time=time_of_day)
