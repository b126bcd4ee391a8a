"""What patients type for their time zone resolves to IANA zones, and zones to countries."""

from __future__ import annotations

import pytest

from bot.scheduling import (
    common_timezones,
    country_for_timezone,
    country_name,
    is_valid_timezone,
    resolve_timezone,
)

US_MAIN = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix"]


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("london", "Europe/London"),
        ("London", "Europe/London"),
        ("LONDON ", "Europe/London"),
        ("New York", "America/New_York"),
        ("new york city", "America/New_York"),
        ("NYC", "America/New_York"),
        ("sydney", "Australia/Sydney"),
        ("berlin", "Europe/Berlin"),
        ("tokyo", "Asia/Tokyo"),
        ("manchester", "Europe/London"),
        ("edinburgh", "Europe/London"),
        ("paris", "Europe/Paris"),
        ("Mumbai", "Asia/Kolkata"),
        ("bombay", "Asia/Kolkata"),
        # Accents, case and punctuation do not matter.
        ("München", "Europe/Berlin"),
        ("munchen", "Europe/Berlin"),
        ("Zürich", "Europe/Zurich"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Saint-Étienne", "Europe/Paris"),
        ("st. john's", "America/St_Johns"),
        # Small typos.
        ("londno", "Europe/London"),
        ("Lodnon", "Europe/London"),
        ("sydny", "Australia/Sydney"),
        ("germny", "Europe/Berlin"),
        # Countries and aliases.
        ("germany", "Europe/Berlin"),
        ("France", "Europe/Paris"),
        ("india", "Asia/Kolkata"),
        ("UK", "Europe/London"),
        ("England", "Europe/London"),
        ("Scotland", "Europe/London"),
        ("ireland", "Europe/Dublin"),
        ("new zealand", "Pacific/Auckland"),
        # Abbreviations.
        ("GMT", "Europe/London"),
        ("BST", "Europe/London"),
        ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("CET", "Europe/Paris"),
        ("AEST", "Australia/Sydney"),
        ("utc", "UTC"),
        # Phrases around the place.
        ("I live in Leeds", "Europe/London"),
        ("my timezone is EST", "America/New_York"),
        ("London, Canada", "America/Toronto"),
    ],
)
def test_best_zone_first(text: str, best: str) -> None:
    zones = resolve_timezone(text)
    assert zones[0] == best
    assert len(zones) == len(set(zones)) <= 5
    assert all(is_valid_timezone(zone) for zone in zones)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Paris", ["Europe/Paris"]),
        ("europe/london", ["Europe/London"]),
        ("America/New York", ["America/New_York"]),
        ("UTC", ["UTC"]),
        ("Etc/UTC", ["UTC"]),
        # Old names lead to today's zone.
        ("US/Eastern", ["America/New_York"]),
        ("Asia/Calcutta", ["Asia/Kolkata"]),
        ("Europe/Belfast", ["Europe/London"]),
        ("tokyo", ["Asia/Tokyo"]),
        ("germany", ["Europe/Berlin"]),
        ("usa", US_MAIN),
        ("United States", US_MAIN),
    ],
)
def test_exact_answers(text: str, expected: list[str]) -> None:
    assert resolve_timezone(text) == expected


def test_cities_sharing_a_name_come_biggest_first() -> None:
    assert resolve_timezone("london")[:2] == ["Europe/London", "America/Toronto"]
    manchester = resolve_timezone("manchester")
    assert manchester[0] == "Europe/London"
    assert "America/New_York" in manchester


def test_a_country_with_several_zones_gives_the_populous_ones() -> None:
    zones = resolve_timezone("australia")
    assert zones[0] == "Australia/Sydney"
    assert {"Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"} <= set(zones)
    assert len(zones) == 5
    assert all(zone.startswith("Australia/") for zone in zones)


@pytest.mark.parametrize(
    "text", ["", "   ", "asdfgh", "xyz", "hello", "the", "time", "qwertyuiop", "!!!", "x" * 500]
)
def test_nothing_fits(text: str) -> None:
    assert resolve_timezone(text) == []


def test_common_timezones_are_valid_one_tap_choices() -> None:
    choices = common_timezones()
    zones = [zone for _, zone in choices]
    labels = [label for label, _ in choices]
    assert 6 <= len(choices) <= 10
    assert len(set(zones)) == len(zones) and len(set(labels)) == len(labels)
    assert all(is_valid_timezone(zone) for zone in zones)
    assert {"Europe/London", "America/New_York", "Australia/Sydney", "UTC"} <= set(zones)
    # The list is a copy: a caller changing it does not change the next call.
    choices.clear()
    assert common_timezones()


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/London", "GB"),
        ("America/New_York", "US"),
        ("Australia/Sydney", "AU"),
        ("Europe/Berlin", "DE"),
        ("Europe/Dublin", "IE"),
        ("Asia/Kolkata", "IN"),
        ("Europe/Oslo", "NO"),
        ("Europe/Belfast", "GB"),
        ("US/Eastern", "US"),
        ("UTC", None),
        ("Etc/GMT+5", None),
        ("Not/AZone", None),
    ],
)
def test_country_for_timezone(zone: str, country: str | None) -> None:
    assert country_for_timezone(zone) == country


def test_country_names() -> None:
    assert country_name("GB") == "Britain (UK)"
    assert country_name("us") == "United States"
    assert country_name("DE") == "Germany"
    assert country_name("ZZ") == "ZZ"


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Europe/London", True),
        ("UTC", True),
        ("America/Argentina/Buenos_Aires", True),
        ("europe/london", False),
        ("Europe/Atlantis", False),
        ("", False),
        (" Europe/London", False),
        ("../../etc/passwd", False),
        ("/etc/localtime", False),
    ],
)
def test_is_valid_timezone(name: str, valid: bool) -> None:
    assert is_valid_timezone(name) is valid
