"""The fake Bot API, driven through the real python-telegram-bot over loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, NetworkError, RetryAfter
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from tests import factories
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi
from tests.fakes.plugin import fail_on_violations, fake_bot_api  # noqa: F401 - the fixture
from tests.fakes.spec import ApiSpec

CHAT = 5550001
# Raw do_api_request calls are how these tests send what PTB's typed methods would never send.
pytestmark = pytest.mark.filterwarnings("ignore:Please use 'Bot.:telegram.warnings.PTBUserWarning")


@pytest_asyncio.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[Bot]:  # noqa: F811
    async with Bot(TEST_TOKEN, base_url=fake_bot_api.base_url) as ptb_bot:
        fake_bot_api.requests.clear()  # initialising called getMe; tests look at their own requests
        yield ptb_bot


def _expect_violation(fake: FakeBotApi, method: str, fragment: str) -> None:
    """Assert the refused request was recorded, then clear it so the fixture's teardown passes."""
    assert [v.method for v in fake.violations] == [method]
    assert fragment in fake.violations[0].reason
    fake.violations.clear()


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# Basic methods ---------------------------------------------------------------------------------


async def test_get_me_describes_the_test_bot(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    me = await bot.get_me()

    assert me.username == "BoneBotTestBot"
    assert me.id == int(TEST_TOKEN.split(":")[0])
    assert me.is_bot and me.can_join_groups
    assert [r.method for r in fake_bot_api.requests] == ["getMe"]


async def test_send_message_with_valid_html_is_stored_as_visible_text(
    bot: Bot,
    fake_bot_api: FakeBotApi,  # noqa: F811
) -> None:
    first = await bot.send_message(CHAT, "<b>Bone</b> health &amp; <i>you</i>", parse_mode=ParseMode.HTML)
    second = await bot.send_message(CHAT, "again")
    elsewhere = await bot.send_message(CHAT + 1, "hello")

    assert first.text == "Bone health & you"
    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)
    stored = fake_bot_api.messages_to(CHAT)
    assert [m.text for m in stored] == ["Bone health & you", "again"]
    assert stored[0].source == "<b>Bone</b> health &amp; <i>you</i>"
    assert stored[0].parse_mode == "HTML"
    assert fake_bot_api.requests[0].params == {
        "chat_id": CHAT,
        "text": "<b>Bone</b> health &amp; <i>you</i>",
        "parse_mode": "HTML",
    }


async def test_invalid_html_is_refused_and_recorded(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "<p>Calcium</p>", parse_mode=ParseMode.HTML)

    assert fake_bot_api.messages_to(CHAT) == []
    assert fake_bot_api.requests[-1].error_code == 400
    _expect_violation(fake_bot_api, "sendMessage", "<p>")


async def test_same_text_without_parse_mode_is_accepted(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    message = await bot.send_message(CHAT, "<p>Calcium</p>")

    assert message.text == "<p>Calcium</p>"
    assert fake_bot_api.violations == []


async def test_text_length_is_counted_in_utf16_units(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    await bot.send_message(CHAT, "x" * 4096)
    await bot.send_message(CHAT, "🦴" * 2048)  # 2048 characters, 4096 UTF-16 units

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    _expect_violation(fake_bot_api, "sendMessage", "too long")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "🦴" * 2049)
    _expect_violation(fake_bot_api, "sendMessage", "too long")
    assert len(fake_bot_api.messages_to(CHAT)) == 2


async def test_html_tags_do_not_count_towards_the_limit(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    await bot.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)

    assert fake_bot_api.last_message_to(CHAT).text == "x" * 4096


async def test_whitespace_only_text_is_empty(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode=ParseMode.HTML)
    _expect_violation(fake_bot_api, "sendMessage", "empty")


async def test_unknown_parameter_is_refused(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter 'colour'"):
        await bot.send_message(CHAT, "hi", api_kwargs={"colour": "red"})
    _expect_violation(fake_bot_api, "sendMessage", "colour")


async def test_missing_required_parameter_is_refused(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)'text' is missing"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": CHAT})
    _expect_violation(fake_bot_api, "sendMessage", "text")


async def test_wrong_type_is_refused(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)expected Integer"):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": CHAT, "text": "x", "message_thread_id": "a"}
        )
    _expect_violation(fake_bot_api, "sendMessage", "message_thread_id")


async def test_method_names_are_case_insensitive(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    result = await bot.do_api_request("SENDMESSAGE", api_kwargs={"chat_id": CHAT, "text": "hi"})

    assert isinstance(result, dict) and result["text"] == "hi"
    assert fake_bot_api.requests[-1].method == "sendMessage"


async def test_unknown_method_is_not_found(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelegram", api_kwargs={"chat_id": CHAT})
    _expect_violation(fake_bot_api, "sendTelegram", "unknown method")


async def test_unmodelled_methods_answer_true_and_are_recorded(
    bot: Bot,
    fake_bot_api: FakeBotApi,  # noqa: F811
) -> None:
    assert await bot.set_my_description("Bone health after aromatase inhibitors")
    assert await bot.pin_chat_message(CHAT, 1)

    assert [r.method for r in fake_bot_api.requests] == ["setMyDescription", "pinChatMessage"]
    assert (await bot.get_my_description()).description == "Bone health after aromatase inhibitors"


# Keyboards and callbacks -----------------------------------------------------------------------


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"b{i}", callback_data=d)] for i, d in enumerate(data)]
    )


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    await bot.send_message(CHAT, "ok", reply_markup=_keyboard("x" * 64, "é" * 32))

    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "too long", reply_markup=_keyboard("x" * 65))
    _expect_violation(fake_bot_api, "sendMessage", "callback_data")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "too many bytes", reply_markup=_keyboard("é" * 33))  # 33 chars, 66 bytes
    _expect_violation(fake_bot_api, "sendMessage", "66 bytes")


async def test_inline_button_needs_exactly_one_action(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    both = {"inline_keyboard": [[{"text": "Go", "callback_data": "go", "url": "https://example.org"}]]}
    with pytest.raises(BadRequest, match=r"(?i)exactly one of"):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": CHAT, "text": "x", "reply_markup": both}
        )
    _expect_violation(fake_bot_api, "sendMessage", "exactly one")

    empty = {"inline_keyboard": [[{"text": "", "callback_data": "go"}]]}
    with pytest.raises(BadRequest, match=r"(?i)non-empty"):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": CHAT, "text": "x", "reply_markup": empty}
        )
    _expect_violation(fake_bot_api, "sendMessage", "non-empty")


async def test_reply_keyboards_of_plain_strings_are_valid(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    markup = {"keyboard": [["Yes", {"text": "No"}]], "resize_keyboard": True, "one_time_keyboard": True}
    await bot.do_api_request(
        "sendMessage", api_kwargs={"chat_id": CHAT, "text": "Consent?", "reply_markup": markup}
    )

    sent = fake_bot_api.last_message_to(CHAT)
    assert sent.reply_markup == markup
    assert "reply_markup" not in sent.payload  # Telegram echoes inline keyboards only


async def test_answer_callback_query_text_is_limited_to_200(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    sent = await bot.send_message(CHAT, "Pick", reply_markup=_keyboard("a"))
    update = fake_bot_api.push_update(
        factories.make_callback_update("a", sent.to_dict(), factories.make_user(CHAT))
    )
    query_id = update["callback_query"]["id"]

    with pytest.raises(BadRequest, match=r"(?i)text must be 0-200 characters"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    _expect_violation(fake_bot_api, "answerCallbackQuery", "201")
    assert fake_bot_api.unanswered_callback_queries() == [query_id]

    assert await bot.answer_callback_query(query_id, text="x" * 200)
    assert fake_bot_api.unanswered_callback_queries() == []
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query(query_id)  # a query can be answered once
    assert fake_bot_api.violations == []


async def test_bot_commands_are_validated_and_kept_per_scope(
    bot: Bot,
    fake_bot_api: FakeBotApi,  # noqa: F811
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Scan", "Set your scan date")])
    _expect_violation(fake_bot_api, "setMyCommands", "Scan")
    with pytest.raises(BadRequest, match=r"(?i)description must be 1-256 characters"):
        await bot.set_my_commands([BotCommand("scan", "x" * 257)])
    _expect_violation(fake_bot_api, "setMyCommands", "257")

    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("scan", "Set your scan date")])
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats())

    assert [c.command for c in await bot.get_my_commands()] == ["start", "scan"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())] == ["help"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


# Editing and deleting --------------------------------------------------------------------------


async def test_edit_message_text_updates_the_stored_message(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    sent = await bot.send_message(
        CHAT, "Your scan is <b>soon</b>", parse_mode="HTML", reply_markup=_keyboard("ok")
    )

    edited = await bot.edit_message_text(
        "Your scan is <b>tomorrow</b>", CHAT, sent.message_id, parse_mode="HTML", reply_markup=_keyboard("ok")
    )

    assert isinstance(edited, type(sent)) and edited.text == "Your scan is tomorrow"
    [stored] = fake_bot_api.messages_to(CHAT)
    assert (stored.text, stored.edits, stored.buttons[0]["callback_data"]) == (
        "Your scan is tomorrow",
        1,
        "ok",
    )

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Your scan is <b>tomorrow</b>",
            CHAT,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=_keyboard("ok"),
        )
    await bot.edit_message_text("Done", CHAT, sent.message_id)  # no reply_markup: the keyboard goes
    assert fake_bot_api.last_message_to(CHAT).buttons == []
    assert fake_bot_api.violations == []


async def test_edit_and_delete_of_unknown_messages_fail(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 99)
    sent = await bot.send_message(CHAT, "bye")
    assert await bot.delete_message(CHAT, sent.message_id)
    assert fake_bot_api.messages_to(CHAT) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)


async def test_edit_reply_markup(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    sent = await bot.send_message(CHAT, "Remove which?", reply_markup=_keyboard("q:1", "q:2"))

    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=_keyboard("q:2"))

    assert [b["callback_data"] for b in fake_bot_api.last_message_to(CHAT).buttons] == ["q:2"]
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=_keyboard("q:2"))


async def test_user_messages_cannot_be_edited(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    user = factories.make_user(CHAT)
    update = fake_bot_api.push_update(factories.make_message_update("hello", user))

    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("changed", CHAT, update["message"]["message_id"])
    reply = await bot.send_message(CHAT, "hi")
    assert reply.message_id == update["message"]["message_id"] + 1  # one counter per chat


# Files -----------------------------------------------------------------------------------------


async def test_send_document_records_the_upload(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    payload = b'{"scan": "2027-03-15"}'

    message = await bot.send_document(
        CHAT,
        InputFile(payload, filename="mydata.json"),
        caption="Everything we <b>store</b>",
        parse_mode="HTML",
    )

    upload = fake_bot_api.requests[-1].files["document"]
    assert (upload.filename, upload.data) == ("mydata.json", payload)
    assert message.document is not None and message.document.file_name == "mydata.json"
    assert message.document.file_size == len(payload)
    assert message.caption == "Everything we store"
    stored = fake_bot_api.last_message_to(CHAT)
    assert stored.document == upload and stored.text is None


async def test_caption_is_limited_to_1024(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(CHAT, InputFile(b"x", filename="a.txt"), caption="c" * 1025)
    _expect_violation(fake_bot_api, "sendDocument", "caption")


# Failure injection -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*retry_after:telegram.warnings.PTBDeprecationWarning")
async def test_forbidden_and_retry_after_are_injected(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    fake_bot_api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    fake_bot_api.fail_next("sendMessage", error_code=429, retry_after=7)

    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(CHAT, "reminder")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(CHAT, "reminder")
    assert _seconds(flood.value.retry_after) == 7
    await bot.send_message(CHAT, "reminder")  # the injected failures are used up

    assert [m.text for m in fake_bot_api.messages_to(CHAT)] == ["reminder"]
    assert [r.error_code for r in fake_bot_api.requests] == [403, 429, None]
    assert fake_bot_api.violations == []


async def test_failures_can_target_one_chat_and_repeat(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    fake_bot_api.fail_next("sendMessage", error_code=500, chat_id=CHAT, times=2)

    await bot.send_message(CHAT + 1, "fine")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "fails")
    await bot.send_message(CHAT, "fine again")

    fake_bot_api.block(CHAT + 1)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT + 1, "typing")
    fake_bot_api.unblock(CHAT + 1)
    await bot.send_chat_action(CHAT + 1, "typing")


# Updates ---------------------------------------------------------------------------------------


async def test_get_updates_honours_offset_and_limit(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    user = factories.make_user(CHAT)
    ids = [fake_bot_api.push_update(factories.make_message_update(t, user))["update_id"] for t in "abc"]

    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
    assert [u.message.text for u in await bot.get_updates(offset=ids[1]) if u.message] == ["b", "c"]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]  # the first one was confirmed
    assert await bot.get_updates(offset=ids[2] + 1) == ()


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot,
    fake_bot_api: FakeBotApi,  # noqa: F811
) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, fake_bot_api.push_update, factories.make_message_update("hi"))
    started = loop.time()

    updates = await bot.get_updates(timeout=5)

    assert len(updates) == 1 and loop.time() - started < 2
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_a_second_long_poll_terminates_the_first(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake_bot_api.wait_until(lambda: bool(fake_bot_api.requests))  # the first poll is waiting

    async with Bot(TEST_TOKEN, base_url=fake_bot_api.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await first


async def test_update_ids_must_increase(fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    fake_bot_api.push_update({**factories.make_message_update("a"), "update_id": 10})
    assert fake_bot_api.push_update(factories.make_message_update("b"))["update_id"] == 11
    with pytest.raises(ValueError, match=r"(?i)update_id"):
        fake_bot_api.push_update({**factories.make_message_update("c"), "update_id": 5})


async def test_settle_reports_updates_nobody_fetched(fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    fake_bot_api.push_update(factories.make_message_update("anyone?"))

    with pytest.raises(TimeoutError, match=r"(?i)never fetched"):
        await fake_bot_api.settle(timeout=0.2)


async def _reply_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Topics", callback_data="topics")]])
    await update.effective_message.reply_html(
        f"Welcome, <b>{context.args or 'friend'}</b>", reply_markup=keyboard
    )


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"You chose {query.data}")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_chat.send_action("typing")  # type: ignore[union-attr]
    await update.effective_message.reply_text(update.effective_message.text.upper())


async def test_application_polls_and_replies(fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    app = fake_bot_api.application_builder().build()
    app.add_handler(CommandHandler("start", _reply_start))
    app.add_handler(CallbackQueryHandler(_on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    user = factories.make_user(CHAT, "Maria")

    async with fake_bot_api.polling(app):
        replies = await fake_bot_api.send_text(user, "/start")
        assert [r.method for r in replies] == ["sendMessage"]
        welcome = fake_bot_api.last_message_to(user)
        assert welcome.text == "Welcome, friend"

        replies = await fake_bot_api.click(user, welcome, "Topics", until="editMessageText")
        assert sorted(r.method for r in replies) == ["answerCallbackQuery", "editMessageText"]
        assert fake_bot_api.last_message_to(user).text == "You chose topics"

        replies = await fake_bot_api.send_text(user, "how fast is bone loss?", until="sendMessage")
        assert [r.method for r in replies] == ["sendChatAction", "sendMessage"]

    assert [m.text for m in fake_bot_api.messages_to(CHAT)] == ["You chose topics", "HOW FAST IS BONE LOSS?"]
    assert fake_bot_api.unanswered_callback_queries() == []
    assert [r.method for r in fake_bot_api.requests[:2]] == ["getMe", "deleteWebhook"]


async def test_commands_in_groups_with_the_bot_username(fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    app = fake_bot_api.application_builder().build()
    app.add_handler(CommandHandler("start", _reply_start))
    group = factories.make_group_chat()

    async with fake_bot_api.polling(app):
        await fake_bot_api.send_text(factories.make_user(), "/start@BoneBotTestBot team", chat=group)

    assert fake_bot_api.last_message_to(group).text == "Welcome, ['team']"


async def test_webhook_delivery_and_getupdates_conflict(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=200 if len(received) > 1 else 500)  # the first attempt fails

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        update = fake_bot_api.push_update(factories.make_message_update("via webhook"))
        await fake_bot_api.settle(timeout=2)

        assert [(secret, body["update_id"]) for secret, body in received] == [
            ("s3cret", update["update_id"])
        ] * 2
        assert [d.status for d in fake_bot_api.webhook_deliveries] == [500, 200]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_message
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


# Without api.json, and the fixture ----------------------------------------------------------------


async def test_without_api_json_requests_are_served_unvalidated(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tests.fakes.spec"):
        fake = FakeBotApi(api_json=tmp_path / "missing.json")
    assert "not validated" in caplog.text

    async with fake, Bot(TEST_TOKEN, base_url=fake.base_url) as ptb_bot:
        sent = await ptb_bot.send_message(CHAT, "<b>hi</b>", parse_mode="HTML", reply_markup=_keyboard("a"))
        await ptb_bot.send_message(CHAT, "unchecked", api_kwargs={"colour": "red"})
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await ptb_bot.send_message(CHAT, "<p>x</p>", parse_mode="HTML")  # still not sendable

    assert sent.text == "hi" and fake.calls("sendMessage")[0].params["chat_id"] == CHAT
    assert fake.messages_to(CHAT)[0].buttons[0]["callback_data"] == "a"
    assert fake.violations == []


async def test_fixture_check_fails_on_violations(bot: Bot, fake_bot_api: FakeBotApi) -> None:  # noqa: F811
    fail_on_violations(fake_bot_api)  # nothing yet
    with pytest.raises(BadRequest):
        await bot.send_message(CHAT, "")

    with pytest.raises(pytest.fail.Exception, match=r"(?i)1 invalid Bot API request"):
        fail_on_violations(fake_bot_api)
    fake_bot_api.violations.clear()


# Factories ---------------------------------------------------------------------------------------


def test_command_entities_use_utf16_lengths() -> None:
    assert factories.make_message("/start")["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert factories.make_message("/scan@BoneBotTestBot 2027-03-15")["entities"][0]["length"] == 20
    assert "entities" not in factories.make_message("what is /start?")
    assert factories.command_entities("/x_1 🦴") == [{"type": "bot_command", "offset": 0, "length": 4}]


@pytest.mark.parametrize(
    "update",
    [
        factories.make_message_update("/start code", factories.make_user(7, "Ann")),
        factories.make_edited_message_update("edited", message_id=3),
        factories.make_callback_update(
            "topics", factories.make_message("menu", factories.make_user(1, "Bot", is_bot=True))
        ),
        factories.make_sticker_update(),
        factories.make_photo_update(caption="my scan"),
        factories.make_voice_update(),
        factories.make_document_update(),
        factories.make_channel_post_update("news"),
        factories.make_message_update("hi", factories.make_user(8, "Bo"), factories.make_group_chat()),
    ],
)
def test_factory_updates_match_the_api_and_parse_in_ptb(update: dict[str, Any]) -> None:
    spec = ApiSpec.load()
    if spec is None:
        pytest.skip("api.json is not available")
    assert spec.check_type("Update", {**update, "update_id": 1}) == []
    parsed = Update.de_json({**update, "update_id": 1}, bot=None)
    assert parsed.effective_chat is not None
    assert parsed.api_kwargs == {}
