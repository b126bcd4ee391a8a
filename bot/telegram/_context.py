"""Typed access to what the application carries, and the translation of Telegram objects."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.ext import Application, ContextTypes

from bot.runtime import Runtime
from bot.service import PatientService, Sender

RUNTIME_KEY = "runtime"


def runtime_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    """Return the runtime that post_init opened."""
    runtime = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("the runtime is not open (post_init has not run)")
    return runtime


def service_of(context: ContextTypes.DEFAULT_TYPE) -> PatientService:
    return runtime_of(context.application).service


def sender_of(update: Update) -> Sender | None:
    """Return who wrote and where, or None for updates without a user and chat (channel posts)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return Sender(
        user_id=user.id,
        chat_id=chat.id,
        first_name=(user.first_name or "")[:64],
        private=chat.type == ChatType.PRIVATE,
        language_code=(user.language_code or "")[:16] or None,
    )


def button_sender(query: CallbackQuery) -> Sender | None:
    """Return who pressed a button and where, or None for inline-mode buttons and messages too old to see."""
    message = query.message
    if message is None or query.from_user is None or query.from_user.is_bot:
        return None
    return Sender(
        user_id=query.from_user.id,
        chat_id=message.chat.id,
        first_name=(query.from_user.first_name or "")[:64],
        private=message.chat.type == ChatType.PRIVATE,
        language_code=(query.from_user.language_code or "")[:16] or None,
    )


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM, where the platform allows signal handlers."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
