"""Patient commands: /start, /help, /topics, /scan … — each a thin call into the service."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.metrics import UPDATES
from bot.service import PATIENT_COMMANDS, run_command
from bot.telegram._context import sender_of, service_of
from bot.telegram._deliver import deliver

logger = logging.getLogger(__name__)

MAX_ARGUMENT = 4000


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run the patient command the message names."""
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None or not message.text:
        return
    name = message.text.split()[0][1:].split("@")[0].lower()
    argument = message.text.partition(" ")[2][:MAX_ARGUMENT] or None
    UPDATES.labels(kind=f"command_{name if name in PATIENT_COMMANDS else 'unknown'}").inc()
    response = await run_command(service_of(context), sender, name, argument)
    await deliver(context.bot, sender.chat_id, response)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say a command is unknown and point to /help."""
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None or not message.text:
        return
    UPDATES.labels(kind="command_unknown").inc()
    command = message.text.split()[0][:64]
    await deliver(context.bot, sender.chat_id, await service_of(context).unknown_command(sender, command))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every patient command, then the unknown-command reply."""
    new_messages = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(list(PATIENT_COMMANDS), on_command, filters=new_messages))
    app.add_handler(MessageHandler(filters.COMMAND & new_messages, on_unknown_command))
