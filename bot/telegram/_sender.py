"""Send a dispatcher's message through the Bot API and say what happened in dispatcher terms."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.conversation import Reply
from bot.dispatch import SendFn, SendOutcome, SendResult
from bot.telegram._deliver import send_reply

logger = logging.getLogger(__name__)

_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")
# httpx failures that happen before the request reaches the server: the message surely did not arrive.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def classify_send_error(exc: BaseException) -> SendResult:
    """Map an exception raised while sending one message to what the dispatcher does about it."""
    name = type(exc).__name__
    if isinstance(exc, Forbidden):
        return SendResult(SendOutcome.BLOCKED, error=name)
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return SendResult(SendOutcome.RETRY_AFTER, seconds, error=name)
    if isinstance(exc, ChatMigrated):
        return SendResult(SendOutcome.REJECTED, error=name)
    if isinstance(exc, BadRequest):  # a subclass of NetworkError: check it first
        if any(reason in exc.message.lower() for reason in _GONE):
            return SendResult(SendOutcome.BLOCKED, error=name)
        return SendResult(SendOutcome.REJECTED, error=name)
    if isinstance(exc, InvalidToken):
        # Nothing is delivered with a revoked token; back off while the operator replaces it.
        return SendResult(SendOutcome.TRANSIENT, error=name)
    if isinstance(exc, NetworkError):  # TimedOut included
        if isinstance(exc.__cause__, _NOT_SENT):
            return SendResult(SendOutcome.TRANSIENT, error=type(exc.__cause__).__name__)
        # A read timeout, a dropped connection or a 5xx: the request went out, Telegram may have delivered.
        cause = exc.__cause__
        return SendResult(SendOutcome.UNCONFIRMED, error=type(cause).__name__ if cause else name)
    if type(exc) is TelegramError and isinstance(exc.__cause__, ValueError):
        # PTB could not read the answer ("Invalid server response"): the request was answered, maybe sent.
        return SendResult(SendOutcome.UNCONFIRMED, error="InvalidResponse")
    return SendResult(SendOutcome.ERROR, error=name)


def telegram_send(bot: Bot) -> SendFn:
    """Return a SendFn that posts with ``bot`` (and so through its rate limiter); it never raises."""

    async def send(chat_id: int, reply: Reply) -> SendResult:
        try:
            # PTB's rate limiter sleeps off one 429 itself (max_retries=1); a second comes back here. The
            # claim's lease (BONEBOT_LEASE_SECONDS) must outlast that sleep, or another dispatcher may resend.
            await send_reply(bot, chat_id, reply)
        except Exception as exc:
            result = classify_send_error(exc)
            # The class name only: exception messages can quote the request or the server's answer.
            log = logger.warning if result.outcome is SendOutcome.ERROR else logger.info
            log("sending a dispatcher message: %s (%s)", result.outcome.value, result.error)
            return result
        return SendResult(SendOutcome.SENT)

    return send
