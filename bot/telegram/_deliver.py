"""Send a service Response through the Bot API: messages with inline keyboards, edits, files, toasts."""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest

from bot.conversation import Keyboard, Reply
from bot.metrics import REPLIES
from bot.service import Response
from bot.telegram.handlers.events import note_response
from bot.telegram_html import split_message, to_plain_text

logger = logging.getLogger(__name__)

MAX_CAPTION = 1024
MAX_TOAST = 200


def keyboard_markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """Turn reply buttons into an inline keyboard (callback_data is the encoded action, ≤ 64 bytes)."""
    rows = []
    for row in buttons:
        cells = []
        for button in row:
            if button.url:
                cells.append(InlineKeyboardButton(button.label, url=button.url))
            elif button.action is not None:
                cells.append(InlineKeyboardButton(button.label, callback_data=button.action.encode()))
        if cells:
            rows.append(cells)
    return InlineKeyboardMarkup(rows) if rows else None


async def send_reply(bot: Bot, chat_id: int, reply: Reply) -> int:
    """Send one reply, split below Telegram's limit; the buttons go with the last part. Return the parts."""
    parts = split_message(reply.html)
    for index, part in enumerate(parts):
        markup = keyboard_markup(reply.buttons) if index == len(parts) - 1 else None
        await bot.send_message(chat_id, part, reply_markup=markup, disable_web_page_preview=True)
    return len(parts)


async def deliver(bot: Bot, chat_id: int, response: Response, query: CallbackQuery | None = None) -> None:
    """Send everything in ``response``; with a button press, answer the query and edit where asked."""
    note_response(response)
    replies = list(response.replies)
    if query is not None:
        toast = to_plain_text(response.toast)[:MAX_TOAST] if response.toast else None
        await query.answer(toast)
        message = query.message
        if message is not None and (response.edit or response.clear_buttons):
            try:
                if response.edit and replies and len(split_message(replies[0].html)) == 1:
                    first = replies.pop(0)
                    await bot.edit_message_text(
                        first.html,
                        chat_id=message.chat.id,
                        message_id=message.message_id,
                        reply_markup=keyboard_markup(first.buttons),
                        disable_web_page_preview=True,
                    )
                    REPLIES.inc()
                else:
                    await bot.edit_message_reply_markup(
                        message.chat.id, message.message_id, reply_markup=None
                    )
            except BadRequest as exc:
                # "message is not modified" or a message too old to edit: sending anew is the fallback.
                logger.info("could not edit a message: %s", exc.message)
    for reply in replies:
        REPLIES.inc(await send_reply(bot, chat_id, reply))
    if response.document is not None:
        await send_document(bot, chat_id, response)
        REPLIES.inc()


async def send_document(bot: Bot, chat_id: int, response: Response) -> None:
    """Send the response's file; if Telegram refuses it, fall back to the text itself."""
    document = response.document
    assert document is not None
    caption = document.caption if len(to_plain_text(document.caption)) <= MAX_CAPTION else None
    try:
        await bot.send_document(
            chat_id,
            InputFile(document.content, filename=document.filename),
            caption=caption,
        )
    except BadRequest as exc:
        logger.warning("sending a document failed, sending text instead: %s", exc.message)
        from bot.telegram_html import escape

        text = escape(document.content.decode("utf-8", errors="replace"))
        await send_reply(bot, chat_id, Reply(f"{document.caption}\n\n<pre>{text}</pre>"))
