"""Messages that are not text, and the bot in group chats: answers only, nothing personal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from bot.storage import repositories as repo
from tests import factories
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import BOT_USERNAME, SentMessage

GROUP = factories.make_group_chat()
PERSONAL_COMMANDS = [
    "/scan",
    "/scan 2027-03-15",
    f"/scan@{BOT_USERNAME}",
    "/reflect",
    "/reflect I feel fine today",
    "/questions",
    "/questions Do I need a baseline scan?",
    "/settings",
    "/timezone Europe/London",
    "/reminders",
    "/mydata",
    "/forget",
    "/stop",
]


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0]


def labels(message: SentMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


@pytest.mark.parametrize(
    ("make_update", "what"),
    [
        (factories.make_sticker_update, "sticker"),
        (factories.make_photo_update, "photo"),
        (factories.make_voice_update, "voice message"),
        (factories.make_document_update, "document"),
    ],
    ids=["sticker", "photo", "voice", "document"],
)
async def test_media_in_private_gets_the_unsupported_reply_naming_it(
    harness: Harness, make_update: Callable[..., dict[str, Any]], what: str
) -> None:
    reply = only(await harness.send(make_update(harness.user), harness.user["id"]))
    assert reply.text == harness.ui("unsupported_message", what=what)
    assert reply.text is not None and f"that {what}." in reply.text
    assert harness.errors == []


async def test_a_photo_with_a_question_as_caption_is_still_unsupported(harness: Harness) -> None:
    photo = factories.make_photo_update(harness.user, caption="what is a dexa scan?")
    reply = only(await harness.send(photo, harness.user["id"]))
    assert reply.text == harness.ui("unsupported_message", what="photo")


async def test_personal_commands_in_a_group_get_the_group_notice_and_store_nothing(harness: Harness) -> None:
    notice = harness.ui("group_notice")
    for command in PERSONAL_COMMANDS:
        reply = only(await harness.say_in(GROUP, command))
        assert (command, reply.text) == (command, notice)
        assert reply.buttons == []
    async with harness.session() as session:
        user = await repo.get_user(session, harness.user["id"])
        dialog = await repo.get_dialog(session, harness.user["id"])
        data = await repo.export_user_data(session, harness.user["id"])
    assert dialog is None
    assert data["journal"] == data["saved_questions"] == data["scans"] == data["reminders"] == []
    assert user is None or (user.consent is None and user.timezone is None and not user.paused)
    assert harness.fake.messages_to(harness.user["id"]) == []  # nothing leaks into the private chat


async def test_start_in_a_group_asks_for_no_consent(harness: Harness) -> None:
    welcome = only(await harness.say_in(GROUP, "/start"))
    assert welcome.text is not None and "not medical advice" in welcome.text
    assert labels(welcome) == [harness.label("topics")]


async def test_question_in_a_group_is_answered_without_add_buttons(harness: Harness) -> None:
    answer = only(await harness.say_in(GROUP, "what should I ask my doctor"))
    assert answer.text is not None and "Did I have a baseline DEXA scan?" in answer.text
    assert not any(label.startswith("Add: ") for label in labels(answer))
    assert any(label.startswith("Tell me more") for label in labels(answer))
    # "Tell me more" is not personal: it works in the group.
    more = next(b for b in answer.buttons if str(b.get("text")).startswith("Tell me more"))
    _, replies = await harness.press_data(answer, str(more["callback_data"]))
    deeper = only(replies)
    assert deeper.chat_id == GROUP["id"] and deeper.text is not None and "baseline" in deeper.text


async def test_a_question_mentioning_the_bot_in_a_group_is_answered(harness: Harness) -> None:
    answer = only(await harness.say_in(GROUP, f"@{BOT_USERNAME} what is a dexa scan?"))
    assert answer.text is not None and "DEXA" in answer.text and "Source:" in answer.text


async def test_dexa_answer_in_a_group_offers_no_scan_reminder(harness: Harness) -> None:
    answer = only(await harness.say_in(GROUP, "what is a dexa scan?"))
    assert answer.text is not None and "DEXA" in answer.text
    assert harness.label("set_scan") not in labels(answer)
    assert all(button.get("callback_data") not in {"scan", "topic:set_reminder"} for button in answer.buttons)


async def test_scan_reminder_topic_pressed_in_a_group_starts_no_personal_flow(harness: Harness) -> None:
    answer = only(await harness.say_in(GROUP, "what should I ask my doctor"))
    query_answer, replies = await harness.press_data(answer, "topic:set_reminder")
    assert query_answer is not None
    async with harness.session() as session:
        assert await repo.get_dialog(session, harness.user["id"]) is None
    assert [reply.text for reply in replies] in ([], [harness.ui("group_notice")])


async def test_scan_reminders_stay_private_after_the_patient_writes_in_a_group(harness: Harness) -> None:
    uid = harness.user["id"]
    await harness.consent()
    await harness.say("/timezone Europe/London")
    await harness.say("/scan 2027-03-15")
    async with harness.session() as session:
        pending = await repo.list_reminders(session, uid, ("pending",))
    assert pending, "no reminder was scheduled"

    only(await harness.say_in(GROUP, "what is a dexa scan?"))
    in_group = len(harness.fake.messages_to(GROUP["id"]))
    in_private = len(harness.fake.messages_to(uid))
    harness.clock.now = min(r.due_at for r in pending) + dt.timedelta(minutes=1)
    report = await harness.dispatch()
    assert report.sent == 1
    assert len(harness.fake.messages_to(GROUP["id"])) == in_group
    assert len(harness.fake.messages_to(uid)) == in_private + 1


async def test_media_in_a_group_gets_no_reply(harness: Harness) -> None:
    sticker = factories.make_sticker_update(harness.user, GROUP)
    assert await harness.send(sticker, GROUP["id"], expect_reply=False) == []
    only(await harness.say_in(GROUP, "what is a dexa scan?"))
    assert harness.errors == []
