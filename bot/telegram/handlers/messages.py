"""Free text (the catch-all, registered last) and everything that is not text."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.metrics import UPDATES
from bot.storage import storage_problem
from bot.telegram._context import sender_of, service_of
from bot.telegram._deliver import deliver
from bot.telegram.handlers.errors import log_storage_problem
from bot.telegram.handlers.events import note_outcome

logger = logging.getLogger(__name__)

_UNSUPPORTED = (
    (filters.Sticker.ALL, "sticker"),
    (filters.PHOTO, "photo"),
    (filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, "voice message"),
    (filters.VIDEO | filters.ANIMATION, "video"),
    (filters.Document.ALL, "document"),
)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a message through the service."""
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None or message.text is None:
        return
    UPDATES.labels(kind="text" if sender.private else "group_text").inc()
    service = service_of(context)
    try:
        response = await service.text(sender, message.text)
    except Exception as exc:
        problem = storage_problem(exc)
        if problem is None:
            raise
        # The database is down or full: answer from the content, say nothing was saved.
        log_storage_problem(problem, exc)
        note_outcome("storage_" + problem)
        response = await service.text_without_storage(sender, message.text)
    await deliver(context.bot, sender.chat_id, response)


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say kindly that only text is read; in groups stay quiet."""
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None or not sender.private:
        return
    what = next((name for kind, name in _UNSUPPORTED if kind.check_update(update)), "something")
    UPDATES.labels(kind="unsupported").inc()
    await deliver(context.bot, sender.chat_id, await service_of(context).unsupported(sender, what))


async def on_ignored(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ignore edits, channel posts and service messages on purpose."""
    UPDATES.labels(kind="ignored").inc()


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register, in order: ignored kinds, text (catch-all for text), then anything else a person sends."""
    app.add_handler(
        MessageHandler(
            filters.UpdateType.EDITED | filters.UpdateType.CHANNEL_POSTS | filters.StatusUpdate.ALL,
            on_ignored,
        )
    )
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_unsupported))
