"""Metrics observed around PTB itself: time per update, and Bot API calls that failed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, SimpleUpdateProcessor

from bot.metrics import BOT_API_ERRORS, HANDLER_SECONDS

# Update fields in the order PTB's handlers care about; anything else is "other".
_KINDS = ("message", "callback_query", "edited_message", "my_chat_member", "channel_post")


def update_kind(update: object) -> str:
    """Return which kind of update this is, from a small fixed set (a metric label)."""
    if isinstance(update, Update):
        return next((kind for kind in _KINDS if getattr(update, kind) is not None), "other")
    return "other"


class TimedUpdateProcessor(SimpleUpdateProcessor):
    """Process updates concurrently, as PTB's default does, and time each one."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the handlers and record how long they took."""
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            HANDLER_SECONDS.labels(kind=update_kind(update)).observe(time.perf_counter() - started)


class CountingRateLimiter(AIORateLimiter):
    """PTB's rate limiter, counting the calls that still fail after its retries."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send through the limiter; count a TelegramError by method and class, then re-raise it."""
        try:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        except TelegramError as exc:
            BOT_API_ERRORS.labels(method=endpoint, error=type(exc).__name__).inc()
            raise
