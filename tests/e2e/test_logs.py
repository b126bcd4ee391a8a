"""Logs: one JSON event per update with who (hashed), kind, intent, level, latency and outcome — and never
the words a patient wrote, their name, or the token, at any log level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logs import configure_logging
from tests.e2e.conftest import Harness
from tests.factories import make_user
from tests.fakes.bot_api import TEST_TOKEN

NAME = "Zebediah"
SURNAME = "Quillfeather"
QUESTION = "what is a dexa scan, Quokka-7731?"
JOURNAL = "Journal words Marmalade-1123 about my sister"
SAVED = "Question Pineapple-9981 for my oncologist"
OUT_OF_SCOPE = "Xylophone-4412 what is the capital of peru"
CRISIS = "I want to end my life tonight Heron-5520"
CITY = "Europe/London"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Configure logging exactly as `bonebot run -v --log-format json` does, into a buffer; restore after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    quiet = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    buffer = io.StringIO()
    configure_logging("json", logging.DEBUG, secrets=(TEST_TOKEN, "webhook-secret-xyz"), stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


async def test_every_update_logs_one_event_and_no_words_names_or_token(
    harness: Harness, log_lines: io.StringIO
) -> None:
    patient: dict[str, Any] = make_user(733001, NAME)
    patient["last_name"] = SURNAME
    patient["username"] = "zeb_quill"
    updates = 0

    async def say(text: str) -> None:
        nonlocal updates
        updates += 1
        await harness.say(text, patient)

    await say("/start")
    welcome = next(m for m in harness.fake.messages_to(patient["id"]) if m.buttons)
    updates += 1
    await harness.press(welcome, "Yes, save what I choose", patient)
    await say(QUESTION)
    await say("tell me more")
    await say(OUT_OF_SCOPE)
    await say(CRISIS)
    await say("/reflect")
    await say(JOURNAL)
    await say(f"/questions {SAVED}")
    await say(f"/timezone {CITY}")
    await say("/mydata")

    text = log_lines.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for secret in (QUESTION, JOURNAL, SAVED, OUT_OF_SCOPE, CRISIS, NAME, SURNAME, "zeb_quill", TEST_TOKEN):
        assert secret not in text, f"{secret!r} reached the log"
    for fragment in ("Quokka", "Marmalade", "Pineapple", "Xylophone", "Heron", TEST_TOKEN.split(":")[1]):
        assert fragment not in text, f"{fragment!r} reached the log"
    assert str(patient["id"]) not in text  # the user id appears only hashed

    events = [e for e in entries if e["message"] == "update handled"]
    assert len(events) == updates
    assert {e["user"] for e in events} == {events[0]["user"]} and len(events[0]["user"]) == 16
    for event in events:
        assert {"user", "kind", "intent", "level", "latency_ms", "outcome"} <= event.keys()
        assert event["latency_ms"] >= 0
    outcomes = [(e["kind"], e["outcome"]) for e in events]
    assert ("text", "answer") in outcomes
    assert ("text", "safety") in outcomes
    assert ("text", "out_of_scope") in outcomes
    assert {kind for kind, _ in outcomes} == {"command", "button", "text"}
    answered = next(e for e in events if e["outcome"] == "answer")
    assert answered["intent"] and answered["level"]
