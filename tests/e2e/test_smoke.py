"""A first conversation through the whole application."""

from __future__ import annotations

from tests.e2e.conftest import Harness


async def test_question_gets_an_answer_with_buttons(harness: Harness) -> None:
    replies = await harness.say("what is a dexa scan?")
    assert len(replies) == 1
    assert "DEXA" in replies[0].text
    assert "Source:" in replies[0].text
    more = await harness.press(replies[0], "Tell me more: Intermediate")
    assert "dual-energy X-ray absorptiometry" in more[0].text
