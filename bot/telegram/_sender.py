"""Send a dispatcher's message through the Bot API and say what happened in dispatcher terms."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.conversation import Reply
from bot.dispatch import SendFn, SendOutcome, SendResult
from bot.telegram._deliver import send_reply

logger = logging.getLogger(__name__)

_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


def telegram_send(bot: Bot) -> SendFn:
    """Return a SendFn that posts with ``bot`` (and so through its rate limiter)."""

    async def send(chat_id: int, reply: Reply) -> SendResult:
        try:
            # PTB's rate limiter sleeps off one 429 itself (max_retries=1); a second comes back here. The
            # claim's lease (BONEBOT_LEASE_SECONDS) must outlast that sleep, or another dispatcher may resend.
            await send_reply(bot, chat_id, reply)
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
            logger.warning("the Bot API refused a reminder: %s", exc.message)
            return SendResult(SendOutcome.REJECTED)
        except (TimedOut, NetworkError) as exc:
            logger.info("network error sending a reminder: %s", type(exc).__name__)
            return SendResult(SendOutcome.TRANSIENT)
        return SendResult(SendOutcome.SENT)

    return send
