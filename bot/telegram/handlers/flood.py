"""A per-user flood limit: past a burst, a polite "slow down" once, then nothing until the user slows down.

Safety first still holds: a message that needs the safety reply always goes through. The limit is per
process (each replica counts on its own), which is enough to keep one sender from crowding out the rest.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.content import SAFETY_INTENTS
from bot.telegram._context import runtime_of
from bot.telegram.handlers.events import close_event, note_outcome
from bot.telegram_html import to_plain_text

logger = logging.getLogger(__name__)

GROUP = -1  # after the log event opens (-2), before every handler (0)
BURST = 30  # updates a user may send at once
PER_SECOND = 1.0  # and then, sustained
_MAX_TRACKED = 100_000  # users remembered at once; full buckets are forgotten first


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    """Token buckets per user: ``allow`` spends one token, refilled at ``per_second`` up to ``burst``."""

    def __init__(self, burst: int = BURST, per_second: float = PER_SECOND) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, user_id: int, now: float | None = None) -> bool:
        """Spend a token for ``user_id``; False when there is none left."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True
        return False

    def first_refusal(self, user_id: int) -> bool:
        """Tell whether this refusal is the first since the user was last let through (warn once)."""
        bucket = self._buckets[user_id]
        first, bucket.warned = not bucket.warned, True
        return first

    def _forget_full(self, now: float) -> None:
        for user_id, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.per_second >= self.burst:
                del self._buckets[user_id]


def _needs_safety_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    message = update.message
    if message is None or not message.text:
        return False
    matcher = runtime_of(context.application).domain.matcher
    return matcher.safety(message.text[:4000]) in SAFETY_INTENTS


def register(app: Application[Any, Any, Any, Any, Any, Any], gate: FloodGate | None = None) -> None:
    """Stop updates from a user past the flood limit before any handler sees them."""
    flood = gate or FloodGate()

    async def check(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update) or update.effective_user is None:
            return
        if flood.allow(update.effective_user.id) or _needs_safety_reply(update, context):
            return
        note_outcome("flood")
        try:
            text = runtime_of(context.application).domain.renderer.ui("slow_down")
            warn = flood.first_refusal(update.effective_user.id)
            if update.callback_query is not None:
                await update.callback_query.answer(to_plain_text(text)[:200] if warn else None)
            elif warn and update.effective_chat is not None and update.effective_chat.type == "private":
                await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError as exc:
            logger.info("could not tell a user to slow down: %s", type(exc).__name__)
        await close_event(update, context)
        raise ApplicationHandlerStop

    app.add_handler(TypeHandler(Update, check), group=GROUP)
