"""One structured log event per update: who (hashed), what kind, which intent and level, how long, outcome.

The event opens before any handler (group -2), the reply sent fills in intent, level and outcome, and it
is logged after every handler (group 1) — also after an error. It never holds text, names or the token.
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.logs import pseudonym
from bot.service import Response

logger = logging.getLogger("bot.updates")

FIRST_GROUP = -2  # before the flood limit (-1), so that refused updates are logged too
LAST_GROUP = 1


@dataclass
class UpdateEvent:
    """What the log line for one update says."""

    kind: str
    user: str | None
    started: float = field(default_factory=time.perf_counter)
    intent: str | None = None
    level: str | None = None
    outcome: str = "no_reply"


_CURRENT: contextvars.ContextVar[UpdateEvent | None] = contextvars.ContextVar("update_event", default=None)
# Reply kinds, most telling first: an update that got a safety reply is logged as "safety".
_OUTCOMES = ("safety", "answer", "out_of_scope", "flow", "menu", "notice")


def update_kind(update: Update) -> str:
    """Name the update's kind without reading its content (a command's name is not content)."""
    if update.callback_query is not None:
        return "button"
    message = update.message
    if message is not None:
        if message.text is not None:
            return "command" if message.text.startswith("/") else "text"
        return "media" if message.effective_attachment is not None else "service"
    if update.edited_message is not None:
        return "edited"
    if update.channel_post is not None or update.edited_channel_post is not None:
        return "channel"
    return "other"


def note_response(response: Response) -> None:
    """Fill the current update's event from the response sent (no-op outside an update)."""
    event = _CURRENT.get()
    if event is None:
        return
    answered = next((reply for reply in response.replies if reply.intent), None)
    if answered is not None:
        event.intent, event.level = answered.intent, answered.level
    kinds = {reply.kind for reply in response.replies}
    event.outcome = next((kind for kind in _OUTCOMES if kind in kinds), "replied")
    if kinds == set() and (response.document is not None or response.toast):
        event.outcome = "replied"


def note_outcome(outcome: str) -> None:
    """Set the current update's outcome (``error``, ``flood``…), if an update is being handled."""
    event = _CURRENT.get()
    if event is not None:
        event.outcome = outcome


async def open_event(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start timing the update and remember who sent it, hashed."""
    if not isinstance(update, Update):
        return
    user = update.effective_user
    key = context.bot.token
    _CURRENT.set(UpdateEvent(update_kind(update), pseudonym(user.id, key) if user else None))


async def close_event(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the update's event at INFO (WARNING when it ended in an error)."""
    event = _CURRENT.get()
    if event is None:
        return
    _CURRENT.set(None)
    latency_ms = round((time.perf_counter() - event.started) * 1000, 1)
    fields: dict[str, Any] = {
        "user": event.user,
        "kind": event.kind,
        "intent": event.intent,
        "level": event.level,
        "latency_ms": latency_ms,
        "outcome": event.outcome,
    }
    severity = logging.WARNING if event.outcome == "error" else logging.INFO
    logger.log(severity, "update handled", extra={"fields": fields})


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Open the event before every other handler and close it after all of them."""
    app.add_handler(TypeHandler(Update, open_event), group=FIRST_GROUP)
    app.add_handler(TypeHandler(Update, close_event), group=LAST_GROUP)
