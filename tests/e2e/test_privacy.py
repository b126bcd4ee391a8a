"""Privacy through the running bot: logs, unanswered questions, /mydata and /forget."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
from sqlalchemy import inspect

from bot.storage import repositories as repo
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import TEST_TOKEN, SentMessage
from tests.fakes.spec import UploadedFile

SECRET = "zebra-quokka-4711"
# Logging libraries the bot does not own; the bot's run command sets httpx to WARNING because its
# request lines carry the token. Their DEBUG output (PTB echoes whole updates) is off in production.
_FORMATTER = logging.Formatter("%(name)s %(levelname)s %(message)s")


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0]


def rendered(record: logging.LogRecord) -> str:
    """Return everything a log handler could write for a record: message, arguments, traceback."""
    return " ".join((_FORMATTER.format(record), repr(record.args), record.exc_text or ""))


async def test_nothing_logs_message_text_or_the_token(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # aiosqlite's DEBUG lines echo every SQL parameter, which only slows this test: no check below
    # looks at a library's DEBUG records.
    caplog.set_level(logging.INFO, logger="aiosqlite")
    welcome = only(await harness.say("/start"))
    await harness.press(welcome, harness.label("consent_yes"))
    await harness.say(f"{SECRET} what is a dexa scan?")
    await harness.say(SECRET)  # out of scope: kept scrubbed, never logged
    await harness.say(f"/questions Is {SECRET} normal?")
    await harness.say("/questions")
    only(await harness.say("/reflect"))
    await harness.say(f"My reflection mentions {SECRET}.")
    await harness.say(f"/frobnicate {SECRET}")
    await harness.say(f"/timezone {SECRET}")
    await harness.say("/mydata")
    answer = only(await harness.say("what is a dexa scan?"))
    await harness.press_data(answer, f"qdel:{SECRET}")
    # A failing send takes the error handler's path, which logs the exception.
    harness.fake.fail_next("sendMessage", error_code=400, chat_id=harness.user["id"])
    await harness.say(f"{SECRET} how often should I have a scan?")
    assert len(harness.errors) == 1

    records = caplog.records
    ours = [r for r in records if r.name == "bot" or r.name.startswith("bot.")]
    assert any("answered intent=" in r.getMessage() for r in ours), (
        "the bot's own log lines were not captured"
    )
    assert any(r.name.endswith(".errors") and r.levelno >= logging.WARNING for r in ours), "no error logged"
    for record in ours:
        text = rendered(record)
        assert SECRET not in text and TEST_TOKEN not in text, text
    for record in records:
        if record.levelno >= logging.INFO and record.name != "httpx" and not record.name.startswith("httpx."):
            text = rendered(record)
            assert SECRET not in text and TEST_TOKEN not in text, text


async def test_unanswered_questions_are_kept_scrubbed_and_unlinked(harness: Harness) -> None:
    since = harness.clock.now - dt.timedelta(days=1)
    question = "my NHS number is 943 476 5919, email a@b.com, does letrozole cause hair loss"
    reply = only(await harness.say(question))
    # Hair loss is a near-scope topic: "not covered", and still kept for the content report.
    assert reply.text == harness.ui("not_covered", topic="hair thinning or hair loss", decides="care_team")
    only(
        await harness.say(
            "call me on +44 7700 900123 or @sam_smith, see https://example.org/x, can I dye my hair"
        )
    )

    async with harness.session() as session:
        rows = await repo.top_unanswered(session, since)
    texts = [text for text, _ in rows]
    assert len(texts) == 2, texts
    for text in texts:
        assert not re.search(r"\d", text), text
        assert "@" not in text and "example.org" not in text and "http" not in text, text
    assert any("letrozole" in text and "hair loss" in text for text in texts), texts
    assert any("dye my hair" in text for text in texts), texts

    async with harness.database.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("unanswered_questions")]
        )
    assert not [name for name in columns if "user" in name or "chat" in name], columns


async def test_mydata_with_nothing_stored_says_so(harness: Harness) -> None:
    assert only(await harness.say("/mydata")).text == harness.ui("mydata_empty")
    await harness.consent()
    await harness.say("/questions Will my bones recover?")
    confirm = only(await harness.say("/forget"))
    await harness.press(confirm, harness.label("forget_yes"))
    assert only(await harness.say("/mydata")).text == harness.ui("mydata_empty")


async def test_mydata_and_forget_touch_only_the_patients_own_rows(harness: Harness) -> None:
    other = harness.new_user("Robin")
    await harness.consent(other)
    await harness.say("/questions Robin's own question", other)
    await harness.consent()
    await harness.say("/questions Sam's own question")

    document = only(await harness.say("/mydata")).document
    assert isinstance(document, UploadedFile)
    exported = json.loads(document.data)
    assert [q["text"] for q in exported["saved_questions"]] == ["Sam's own question"]
    assert "Robin" not in document.data.decode()

    confirm = only(await harness.say("/forget"))
    await harness.press(confirm, harness.label("forget_yes"))
    async with harness.session() as session:
        assert await repo.get_user(session, harness.user["id"]) is None
        robins = await repo.list_saved_questions(session, other["id"])
    assert [q.text for q in robins] == ["Robin's own question"]
