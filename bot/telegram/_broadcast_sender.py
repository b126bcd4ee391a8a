"""Send care-team broadcasts and the sender's progress messages through the Bot API."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot, LinkPreviewOptions
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.conversation import Reply
from bot.dispatch import BroadcastSendFn, NotifyFn, OutgoingBroadcast, SendOutcome, SendResult
from bot.telegram._deliver import keyboard_markup, send_reply

logger = logging.getLogger(__name__)

_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


def broadcast_send(bot: Bot) -> BroadcastSendFn:
    """Return a sender for broadcast messages that posts with ``bot`` (and so through its rate limiter).

    Anything but the Bot API's own errors propagates: the dispatcher records it as failed.
    """

    async def send(chat_id: int, message: OutgoingBroadcast) -> SendResult:
        try:
            await bot.send_message(
                chat_id,
                message.html,
                link_preview_options=LinkPreviewOptions(is_disabled=not message.link_preview),
                allow_paid_broadcast=True if message.paid else None,
            )
        except Forbidden:
            return SendResult(SendOutcome.BLOCKED)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            return SendResult(SendOutcome.RETRY_AFTER, seconds)
        except ChatMigrated:
            return SendResult(SendOutcome.REJECTED)
        except BadRequest as exc:  # a subclass of NetworkError: check it first
            if any(reason in exc.message.lower() for reason in _GONE):
                return SendResult(SendOutcome.BLOCKED)
            logger.warning("the Bot API refused a broadcast: %s", exc.message)
            return SendResult(SendOutcome.REJECTED)
        except (TimedOut, NetworkError) as exc:
            logger.info("network error sending a broadcast: %s", type(exc).__name__)
            return SendResult(SendOutcome.TRANSIENT)
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
