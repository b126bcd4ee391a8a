"""Bot API objects (plain dicts, as Telegram sends them) for building updates in tests.

Updates carry no ``update_id`` unless one is given: :meth:`FakeBotApi.push_update` numbers them. Pass
``update_id=`` to feed an update straight to ``telegram.Update.de_json``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping
from typing import Any

from bot.telegram_html import utf16_length

DEFAULT_USER_ID = 424242
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_message_ids = itertools.count(1)
_file_ids = itertools.count(1)
_query_ids = itertools.count(1)

Json = dict[str, Any]


def make_user(
    user_id: int = DEFAULT_USER_ID,
    first_name: str = "Alex",
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> Json:
    """Return a User."""
    user: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def make_private_chat(user: Mapping[str, Any]) -> Json:
    """Return the private Chat between the bot and ``user`` (its id is the user's id)."""
    chat: Json = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def make_group_chat(
    chat_id: int = -1001234567890, title: str = "Care team", *, supergroup: bool = True
) -> Json:
    """Return a group or supergroup Chat."""
    return {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}


def make_channel_chat(
    chat_id: int = -1009876543210, title: str = "Clinic news", username: str | None = None
) -> Json:
    """Return a channel Chat."""
    chat: Json = {"id": chat_id, "type": "channel", "title": title}
    if username is not None:
        chat["username"] = username
    return chat


def command_entities(text: str) -> list[Json]:
    """Return the bot_command entity Telegram adds for a leading /command (UTF-16 offsets)."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group(0))}]


def _base_message(
    user: Mapping[str, Any] | None,
    chat: Mapping[str, Any] | None,
    message_id: int | None,
    date: int | None,
) -> Json:
    sender = dict(user) if user is not None else make_user()
    message: Json = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": date if date is not None else int(time.time()),
        "chat": dict(chat) if chat is not None else make_private_chat(sender),
    }
    if message["chat"]["type"] != "channel":
        message["from"] = sender
    return message


def make_message(
    text: str,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    entities: list[Json] | None = None,
    reply_to_message: Mapping[str, Any] | None = None,
) -> Json:
    """Return a text Message from ``user``; a leading /command gets its bot_command entity."""
    message = _base_message(user, chat, message_id, date)
    message["text"] = text
    found = entities if entities is not None else command_entities(text)
    if found:
        message["entities"] = found
    if reply_to_message is not None:
        message["reply_to_message"] = dict(reply_to_message)
    return message


def _update(kind: str, payload: Json, update_id: int | None) -> Json:
    update: Json = {kind: payload}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def make_message_update(
    text: str,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    update_id: int | None = None,
    **message_fields: Any,
) -> Json:
    """Return an Update carrying a new text message (keywords as for :func:`make_message`)."""
    return _update("message", make_message(text, user, chat, **message_fields), update_id)


def make_edited_message_update(
    text: str,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    message_id: int,
    edit_date: int | None = None,
    update_id: int | None = None,
) -> Json:
    """Return an Update telling that the user edited their message ``message_id`` to ``text``."""
    message = make_message(text, user, chat, message_id=message_id)
    message["edit_date"] = edit_date if edit_date is not None else int(time.time())
    return _update("edited_message", message, update_id)


def make_callback_update(
    data: str,
    message: Mapping[str, Any],
    user: Mapping[str, Any] | None = None,
    *,
    query_id: str | None = None,
    update_id: int | None = None,
) -> Json:
    """Return an Update for a press of an inline button with ``data`` under a message the bot sent."""
    sender = dict(user) if user is not None else make_user()
    chat = message["chat"]
    query: Json = {
        "id": query_id if query_id is not None else f"{sender['id']}{next(_query_ids):08d}",
        "from": sender,
        "message": dict(message),
        "chat_instance": str(-abs(int(chat["id"])) * 7919 % 2**62),
        "data": data,
    }
    return _update("callback_query", query, update_id)


def _file(prefix: str) -> Json:
    n = next(_file_ids)
    return {"file_id": f"{prefix}{n:08d}", "file_unique_id": f"U{prefix}{n:06d}"}


def make_sticker_update(
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    emoji: str = "👍",
    update_id: int | None = None,
) -> Json:
    """Return an Update carrying a sticker."""
    message = _base_message(user, chat, None, None)
    message["sticker"] = {
        **_file("CAACAgIAAxkBAAI"),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }
    return _update("message", message, update_id)


def make_photo_update(
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    caption: str | None = None,
    update_id: int | None = None,
) -> Json:
    """Return an Update carrying a photo in the usual three sizes, with an optional caption."""
    message = _base_message(user, chat, None, None)
    message["photo"] = [
        {**_file("AgACAgIAAxkBAAI"), "width": width, "height": height, "file_size": width * height // 10}
        for width, height in ((90, 67), (320, 240), (1280, 960))
    ]
    if caption is not None:
        message["caption"] = caption
    return _update("message", message, update_id)


def make_voice_update(
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    duration: int = 4,
    update_id: int | None = None,
) -> Json:
    """Return an Update carrying a voice note."""
    message = _base_message(user, chat, None, None)
    message["voice"] = {**_file("AwACAgIAAxkBAAI"), "duration": duration, "mime_type": "audio/ogg"}
    return _update("message", message, update_id)


def make_document_update(
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    *,
    file_name: str = "dexa-report.pdf",
    mime_type: str = "application/pdf",
    file_size: int = 48213,
    caption: str | None = None,
    update_id: int | None = None,
) -> Json:
    """Return an Update carrying a document."""
    message = _base_message(user, chat, None, None)
    message["document"] = {
        **_file("BQACAgIAAxkBAAI"),
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": file_size,
    }
    if caption is not None:
        message["caption"] = caption
    return _update("message", message, update_id)


def make_channel_post_update(
    text: str,
    chat: Mapping[str, Any] | None = None,
    *,
    update_id: int | None = None,
) -> Json:
    """Return an Update for a post in a channel the bot belongs to (no sender user)."""
    message = make_message(text, chat=chat if chat is not None else make_channel_chat())
    message["sender_chat"] = dict(message["chat"])
    return _update("channel_post", message, update_id)
