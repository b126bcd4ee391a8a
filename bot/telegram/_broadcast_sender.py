"""Send care-team broadcasts and the sender's progress messages through the Bot API."""

from __future__ import annotations

import logging

from telegram import Bot, LinkPreviewOptions
from telegram.error import BadRequest

from bot.conversation import Reply
from bot.dispatch import BroadcastSendFn, NotifyFn, OutgoingBroadcast, SendOutcome, SendResult
from bot.telegram._deliver import keyboard_markup, send_reply
from bot.telegram._sender import classify_send_error

logger = logging.getLogger(__name__)


def broadcast_send(bot: Bot) -> BroadcastSendFn:
    """Return a sender for broadcast messages that posts with ``bot`` (and so through its rate limiter).

    Errors are classified exactly as for reminders (``classify_send_error``).
    """

    async def send(chat_id: int, message: OutgoingBroadcast) -> SendResult:
        try:
            await bot.send_message(
                chat_id,
                message.html,
                link_preview_options=LinkPreviewOptions(is_disabled=not message.link_preview),
                allow_paid_broadcast=True if message.paid else None,
            )
        except Exception as exc:
            result = classify_send_error(exc)
            logger.info("a broadcast was not delivered: %s", result.error)
            return result
        return SendResult(SendOutcome.SENT)

    return send


def telegram_notify(bot: Bot) -> NotifyFn:
    """Return a function that edits the sender's progress message, or sends a new one."""

    async def notify(chat_id: int, message_id: int | None, reply: Reply) -> None:
        if message_id is None:
            await send_reply(bot, chat_id, reply)
            return
        try:
            await bot.edit_message_text(
                reply.html,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=keyboard_markup(reply.buttons),
                disable_web_page_preview=True,
            )
        except BadRequest as exc:
            # "message is not modified": the counts did not move since the last edit.
            logger.debug("progress message not edited: %s", exc.message)

    return notify
