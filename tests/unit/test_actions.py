"""Button actions fit Telegram's callback_data and forged ones decode to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.conversation import MAX_ACTION_BYTES, Action, decode, scrub


def test_round_trip() -> None:
    action = Action("more", ("atac_results", "I"))
    assert decode(action.encode()) == action


def test_encode_refuses_oversized_actions() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Action("topic", ("x" * 80,)).encode()


@pytest.mark.parametrize(
    "data", ["", "nonsense", "more:atac_results", "more:a:b:c", "topic:<script>", "topic:" + "x" * 70, None]
)
def test_forged_or_malformed_data_decodes_to_none(data: str | None) -> None:
    assert decode(data) is None


@given(st.text(max_size=100))
def test_decode_never_raises(data: str) -> None:
    action = decode(data)
    if action is not None:
        assert len(action.encode().encode()) <= MAX_ACTION_BYTES


@pytest.mark.parametrize(
    ("text", "kept", "removed"),
    [
        ("My NHS number is 485 777 3456, why dexa", "why dexa", "485"),
        ("email me at jane.doe@example.org about letrozole", "about letrozole", "example"),
        ("ask @drsmith about my hip", "about my hip", "drsmith"),
        ("record MRN12345 hot flushes", "hot flushes", "mrn12345"),
        ("call +44 7700 900123 tomorrow", "tomorrow", "7700"),
    ],
)
def test_scrub_removes_identifying_details(text: str, kept: str, removed: str) -> None:
    cleaned = scrub(text)
    assert kept in cleaned
    assert removed not in cleaned
