"""Inline keyboard presses: validated in the service, so forged or stale buttons get "expired"."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.metrics import UPDATES
from bot.telegram._context import button_sender, service_of
from bot.telegram._deliver import deliver

logger = logging.getLogger(__name__)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Carry out the button's action and answer the query."""
    query = update.callback_query
    if query is None:
        return
    UPDATES.labels(kind="button").inc()
    sender = button_sender(query)
    if sender is None:
        # An inline-mode button or a message too old to see: nothing to act on.
        await query.answer()
        return
    response = await service_of(context).action(sender, query.data)
    await deliver(context.bot, sender.chat_id, response, query)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the button handler."""
    app.add_handler(CallbackQueryHandler(on_button))
