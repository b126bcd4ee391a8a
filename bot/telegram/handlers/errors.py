"""The error handler: log first (never the message text or the token), then apologise to the user."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes

from bot.metrics import ERRORS
from bot.storage import storage_problem
from bot.telegram._context import runtime_of
from bot.telegram.handlers.events import note_outcome

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with the update's kind only, and tell the user something went wrong."""
    error = context.error
    ERRORS.inc()
    note_outcome("error")
    kind = type(update).__name__
    if isinstance(update, Update):
        kind = next(
            (name for name in ("message", "callback_query", "edited_message") if getattr(update, name)),
            "other",
        )
    if isinstance(error, Forbidden):
        logger.info("user blocked the bot while handling a %s update", kind)
        return
    # A Telegram error can wrap an OSError too: only errors from elsewhere can be the database's.
    problem = None if error is None or isinstance(error, TelegramError) else storage_problem(error)
    if problem is not None:
        log_storage_problem(problem, error)
    elif isinstance(error, NetworkError):
        logger.warning("network error while handling a %s update: %s", kind, type(error).__name__)
    else:
        logger.error("error while handling a %s update", kind, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        text = runtime_of(context.application).domain.renderer.ui("cant_save" if problem else "error")
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        logger.warning("could not send the error apology: %s", type(exc).__name__)


def log_storage_problem(problem: str, error: BaseException | None) -> None:
    """Say plainly to the operator what is wrong with the database (type only: messages quote SQL)."""
    name = type(error).__name__ if error is not None else "unknown"
    if problem == "full":
        logger.critical("the database is full (no space left on its disk): nothing can be saved; %s", name)
    else:
        logger.error("the database is unavailable: %s", name)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_error_handler(on_error)
