"""Attacks through every way in: forged webhook calls, floods, injection in every text input, other users'
data, and the token in logs or replies."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.logs import configure_logging
from bot.storage import repositories as repo
from bot.telegram.handlers.flood import BURST
from bot.telegram.webhook import MAX_UPDATE_BYTES, SECRET_HEADER
from tests import factories
from tests.e2e.conftest import Harness
from tests.e2e.test_webhook import SECRET, webhook_client  # noqa: F401 - the fixture, requested by name
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi
from tests.fakes.spec import UploadedFile


def only(replies: list[Any]) -> Any:
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


# -- the webhook -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param({}, b"{not json at all", id="no-secret-malformed"),
        pytest.param({SECRET_HEADER: "wrong"}, b"x" * (MAX_UPDATE_BYTES + 10), id="wrong-secret-oversized"),
        pytest.param({SECRET_HEADER: SECRET[:-1]}, b'{"update_id": 1}', id="secret-prefix"),
        pytest.param({SECRET_HEADER: SECRET + "x"}, b'{"update_id": 1}', id="secret-longer"),
    ],
)
async def test_forged_webhook_calls_are_refused_before_the_body_is_read(
    webhook_client: TestClient,  # noqa: F811
    fake_bot_api: FakeBotApi,
    headers: dict[str, str],
    body: bytes,
) -> None:
    # 403 even when the body is garbage or too large: the secret is checked before anything is parsed.
    response = await webhook_client.post("/telegram", data=body, headers=headers)
    assert response.status == 403
    await fake_bot_api.settle()
    assert fake_bot_api.calls("sendMessage") == []


async def test_oversized_bodies_are_refused_unread(webhook_client: TestClient) -> None:  # noqa: F811
    big = b'{"update_id": 1, "pad": "' + b"a" * MAX_UPDATE_BYTES + b'"}'
    response = await webhook_client.post("/telegram", data=big, headers={SECRET_HEADER: SECRET})
    assert response.status == 413

    async def chunks() -> Any:  # no Content-Length: the server must stop reading at the limit itself
        for _ in range(MAX_UPDATE_BYTES // 65536 + 2):
            yield b"a" * 65536

    response = await webhook_client.post("/telegram", data=chunks(), headers={SECRET_HEADER: SECRET})
    assert response.status == 413


@pytest.mark.parametrize(
    "body",
    [b"[]", b"5", b'"text"', b"null", b'{"update_id": "x"}', b'{"message": {}}', b"\xff\xfe", b""],
)
async def test_malformed_updates_are_a_bad_request_and_nothing_runs(
    webhook_client: TestClient,  # noqa: F811
    fake_bot_api: FakeBotApi,
    body: bytes,
) -> None:
    response = await webhook_client.post("/telegram", data=body, headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    await fake_bot_api.settle()
    assert fake_bot_api.calls("sendMessage") == []


# -- floods ------------------------------------------------------------------------------------------


async def test_a_flood_gets_one_slow_down_and_other_users_are_answered(harness: Harness) -> None:
    flooder = harness.new_user("Flood")
    other = harness.new_user("Calm")
    slow_down = harness.ui("slow_down")
    total = BURST + 20
    first = harness.next_message_id(flooder["id"])
    texts = ["hello"] * total + ["I fell and can't get up"]  # the last one needs the safety reply
    for offset, text in enumerate(texts):
        harness.fake.push_update(
            {"message": factories.make_message(text, user=flooder, message_id=first + offset)}
        )
    # Another patient writes in the middle of the flood (waited for by chat: the flood's sends are many).
    harness.fake.push_update({"message": factories.make_message("what is a dexa scan?", user=other)})
    await harness.fake.wait_for("sendMessage", chat_id=other["id"], timeout=20)
    await harness.fake.wait_until(
        lambda: any(m.text == slow_down for m in harness.fake.messages_to(flooder["id"])), timeout=20
    )
    await harness.fake.settle(quiet=1.0, timeout=30)

    assert "DEXA" in (only(harness.fake.messages_to(other["id"])).text or "")
    replies = [m.text or "" for m in harness.fake.messages_to(flooder["id"])]
    assert replies.count(slow_down) == 1
    # Safety first, even past the limit.
    assert sum(reply.startswith("Please get medical help now.") for reply in replies) == 1
    answered = len(replies) - 2
    assert BURST <= answered < total, answered  # the burst went through, the rest of the flood did not
    assert harness.errors == [] and harness.fake.violations == []


# -- injection ---------------------------------------------------------------------------------------

PAYLOADS = [
    "'; DROP TABLE users; --",
    "Robert'); DELETE FROM saved_questions WHERE ('1'='1",
    "<b>bold</b><script>alert(1)</script><a href='javascript:x'>x</a>",
    "{{ 7*7 }} {% for x in range(3) %}LOOP{% endfor %} ${7*7} #{7*7} {{ config }}",
    "%s %d %(name)s {0} {user}",
    "\u202eevil\u200b &amp; &lt;b&gt; &#0; \\x00",
]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_through_every_text_input_is_stored_and_shown_as_typed(
    harness: Harness, payload: str
) -> None:
    await harness.consent()
    inputs = [
        payload,  # a free-text question
        f"/questions {payload}",  # the care-team list
        "/reflect",
        payload,  # the journal
        f"/scan {payload}",  # a date
        f"/timezone {payload}",  # a time zone
        f"/start {payload}",  # a join code
        f"/{payload}",  # a command name
        "/settings",
    ]
    replies: list[str] = []
    for text in inputs:
        replies.extend(m.text or "" for m in await harness.say(text))
    everything = "\n".join(replies)
    assert "49" not in everything and "LOOP" not in everything  # no template ran
    assert "{{" not in everything.replace(payload, "")  # nothing half-rendered
    assert harness.fake.violations == [] and harness.errors == []  # every reply was valid HTML

    async with harness.session() as session:
        data = await repo.export_user_data(session, harness.user["id"])
        assert await repo.get_user(session, harness.user["id"]) is not None  # no table was dropped
    assert [q["text"] for q in data["saved_questions"]] == [payload.replace("\x00", "")]
    assert [e["text"] for e in data["journal"]] == [payload.replace("\x00", "")]

    document = only(await harness.say("/mydata")).document
    assert isinstance(document, UploadedFile)
    exported = json.loads(document.data)
    assert [q["text"] for q in exported["saved_questions"]] == [payload.replace("\x00", "")]


async def test_mydata_of_each_user_holds_only_their_own_data(harness: Harness) -> None:
    users = [harness.new_user(name) for name in ("Ada", "Bea", "Cy")]
    for user in users:
        await harness.consent(user)
        await harness.say(f"/questions question-of-{user['id']}", user)
        await harness.say("/reflect", user)
        await harness.say(f"journal-of-{user['id']}", user)
        await harness.say("/timezone Europe/Paris" if user is users[0] else "/timezone Asia/Tokyo", user)
    for user in users:
        document = only(await harness.say("/mydata", user)).document
        assert isinstance(document, UploadedFile)
        text = document.data.decode()
        assert f"question-of-{user['id']}" in text and f"journal-of-{user['id']}" in text
        for someone in users:
            if someone is not user:
                assert str(someone["id"]) not in text and someone["first_name"] not in text


# -- the token ---------------------------------------------------------------------------------------


async def test_the_token_never_reaches_the_log_or_an_error_reply(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.telegram._context import runtime_of

    service = runtime_of(harness.app).service

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"could not reach https://api.telegram.org/bot{TEST_TOKEN}/sendMessage")

    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("json", logging.INFO, secrets=(TEST_TOKEN,), stream=buffer)
    try:
        monkeypatch.setattr(service, "text", broken)
        reply = only(await harness.say("what is a dexa scan?"))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert reply.text == harness.ui("error")
    secret_half = TEST_TOKEN.split(":", 1)[1]
    assert all(secret_half not in (m.text or "") for m in harness.fake.messages_to(harness.user["id"]))
    logged = buffer.getvalue()
    assert "RuntimeError" in logged  # the failure is logged ...
    assert secret_half not in logged  # ... without the token
    assert len(harness.errors) == 1
