"""States, provinces and regions at the time-zone step."""

from __future__ import annotations

import pytest

from bot.scheduling import resolve_timezone


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("ohio", "America/New_York"),
        ("Ohio", "America/New_York"),
        ("OH", "America/New_York"),
        ("I live in Texas", "America/Chicago"),
        ("illinois", "America/Chicago"),
        ("California", "America/Los_Angeles"),
        ("BC", "America/Vancouver"),
        ("ontario", "America/Toronto"),
        ("Quebec", "America/Toronto"),
        ("the midwest", "America/Chicago"),
        ("west coast", "America/Los_Angeles"),
        ("queensland", "Australia/Brisbane"),
    ],
)
def test_states_provinces_and_regions_are_places(text: str, first: str) -> None:
    assert resolve_timezone(text)[0] == first


def test_a_state_across_two_zones_offers_both() -> None:
    assert resolve_timezone("texas") == ["America/Chicago", "America/Denver"]


@pytest.mark.parametrize("text", ["in", "me", "ok", "or", "hi"])
def test_lower_case_words_that_are_state_codes_are_not_places(text: str) -> None:
    assert resolve_timezone(text) == []


def test_a_date_is_not_a_place() -> None:
    assert resolve_timezone("3/24/2027") == []
