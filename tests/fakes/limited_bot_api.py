"""The fake Bot API with Telegram's flood limits: too many messages get 429 with ``retry_after``.

Limits, as Telegram documents them for bots: about 30 messages per second overall (a bucket of 30
that refills at 30 a second) and one message per second to any one chat. A message over either limit
is refused with 429 ``Too Many Requests: retry after N`` and ``parameters.retry_after`` = N seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.bot_api import ApiError, FakeBotApi

SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})


@dataclass(frozen=True)
class Refusal:
    """A message refused with 429, and why."""

    chat_id: str
    reason: str  # "overall" or "per_chat"
    retry_after: int


class RateLimitedBotApi(FakeBotApi):
    """A FakeBotApi that enforces the overall and per-chat message rates."""

    def __init__(
        self,
        *,
        overall_per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        tolerance: float = 0.05,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.overall_per_second = overall_per_second
        self.per_chat_interval = per_chat_interval
        self.tolerance = tolerance
        self.refusals: list[Refusal] = []
        self.accepted_at: list[float] = []  # monotonic times of accepted messages
        self._tokens = overall_per_second
        self._refilled = time.monotonic()
        self._last_to_chat: dict[str, float] = {}

    def _inject_failure(self, method: str, params: Mapping[str, Any]) -> None:
        super()._inject_failure(method, params)
        if method.lower() not in SENDING_METHODS:
            return
        now = time.monotonic()
        chat = str(params.get("chat_id"))
        paid = bool(params.get("allow_paid_broadcast"))
        self._tokens = min(
            self.overall_per_second, self._tokens + (now - self._refilled) * self.overall_per_second
        )
        self._refilled = now
        last = self._last_to_chat.get(chat)
        if last is not None and now - last < self.per_chat_interval - self.tolerance:
            self._refuse(chat, "per_chat", self.per_chat_interval - (now - last))
        if not paid:
            if self._tokens < 1.0:
                self._refuse(chat, "overall", (1.0 - self._tokens) / self.overall_per_second)
            self._tokens -= 1.0
        self._last_to_chat[chat] = now
        self.accepted_at.append(now)

    def _refuse(self, chat: str, reason: str, wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        self.refusals.append(Refusal(chat, reason, retry_after))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
