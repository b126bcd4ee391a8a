"""The metrics the Grafana dashboard plots move when the bot does the thing they count."""

from __future__ import annotations

from bot.metrics import REGISTRY
from tests.e2e.conftest import Harness


def _value(name: str, **labels: str) -> float:
    """Return the sum of the samples of ``name`` carrying ``labels`` (any values for the other labels)."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def test_a_question_counts_one_update_its_replies_and_its_handling_time(harness: Harness) -> None:
    updates = _value("bonebot_updates_total", kind="text")
    replies = _value("bonebot_replies_total")
    timed = _value("bonebot_handler_seconds_count", kind="message")
    mark = harness.fake.mark()
    await harness.say("what is a dexa scan?")
    sent = len(harness.fake.calls("sendMessage", since=mark))
    assert sent >= 1
    assert _value("bonebot_updates_total", kind="text") == updates + 1
    assert _value("bonebot_replies_total") == replies + sent
    assert _value("bonebot_handler_seconds_count", kind="message") == timed + 1
    assert _value("bonebot_handler_seconds_sum", kind="message") > 0


async def test_a_button_press_is_timed_as_a_callback_query(harness: Harness) -> None:
    replies = await harness.say("what is a dexa scan?")
    timed = _value("bonebot_handler_seconds_count", kind="callback_query")
    edits_and_sends = _value("bonebot_replies_total")
    more = await harness.press(replies[0], "Tell me more: Intermediate")
    assert _value("bonebot_handler_seconds_count", kind="callback_query") == timed + 1
    assert _value("bonebot_replies_total") >= edits_and_sends + max(len(more), 1)


async def test_an_urgent_message_counts_a_safety_reply(harness: Harness) -> None:
    before = _value("bonebot_safety_replies_total", kind="urgent")
    answers = _value("bonebot_answers_total", intent="dexa_scan", level="short")
    await harness.say("i fell and cant get up")
    assert _value("bonebot_safety_replies_total", kind="urgent") == before + 1
    await harness.say("what is a dexa scan?")
    assert _value("bonebot_safety_replies_total", kind="urgent") == before + 1
    assert _value("bonebot_answers_total", intent="dexa_scan", level="short") == answers + 1


async def test_a_refused_bot_api_call_is_counted_by_method_and_error(harness: Harness) -> None:
    before = _value("bonebot_bot_api_errors_total", method="sendMessage", error="BadRequest")
    harness.fake.fail_next("sendMessage", error_code=400, description="Bad Request: message text is empty")
    await harness.say("what is a dexa scan?")
    assert _value("bonebot_bot_api_errors_total", method="sendMessage", error="BadRequest") == before + 1
