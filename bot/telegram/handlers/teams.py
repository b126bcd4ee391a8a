"""Care teams: /newteam, /team, /teams, /broadcast, /stats, /cancel, ``/start <code>`` and their buttons.

Registered before the patient handlers, so that ``/start <code>``, the team buttons and the next message of
a staff flow reach the staff service; any other text goes on to the patient text handler.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, CallbackQuery, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.metrics import UPDATES
from bot.service import StaffService, TeamResponse
from bot.telegram._context import button_sender, runtime_of, sender_of
from bot.telegram._deliver import MAX_CAPTION, deliver, keyboard_markup
from bot.telegram.handlers import messages
from bot.telegram_html import to_plain_text

logger = logging.getLogger(__name__)

MAX_ARGUMENT = 4000
TEAM_COMMANDS = ("newteam", "team", "teams", "broadcast", "stats", "cancel")
WAKE_EVENT = "broadcast_wake"


def staff_of(context: ContextTypes.DEFAULT_TYPE) -> StaffService:
    """Return the staff service, telling it the bot's username for join links."""
    staff = runtime_of(context.application).staff
    if context.bot.username:
        staff.bot_username = context.bot.username
    return staff


async def send_team_response(
    bot: Bot,
    chat_id: int,
    result: TeamResponse,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery | None = None,
) -> None:
    """Send a staff-service result: the response, its photos, and a broadcast's progress message."""
    await deliver(bot, chat_id, result.response, query)
    for photo in result.photos:
        caption = photo.caption if len(to_plain_text(photo.caption)) <= MAX_CAPTION else None
        try:
            await bot.send_photo(chat_id, InputFile(photo.content, filename=photo.filename), caption=caption)
        except BadRequest as exc:
            logger.warning("could not send a picture: %s", exc.message)
    if result.progress is not None and result.progress_for is not None:
        message = await bot.send_message(
            chat_id,
            result.progress.html,
            reply_markup=keyboard_markup(result.progress.buttons),
            disable_web_page_preview=True,
        )
        await staff_of(context).attach_progress(result.progress_for, chat_id, message.message_id)
        wake = context.application.bot_data.get(WAKE_EVENT)
        if wake is not None:
            wake.set()  # start sending now, not at the next dispatch interval


def _argument(update: Update) -> str | None:
    message = update.effective_message
    if message is None or not message.text:
        return None
    return message.text.partition(" ")[2].replace("\x00", "").strip()[:MAX_ARGUMENT] or None


async def on_team_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run a care-team command."""
    message = update.effective_message
    sender = sender_of(update)
    if message is None or sender is None or not message.text:
        return
    name = message.text.split()[0][1:].split("@")[0].lower()
    UPDATES.labels(kind=f"command_{name}").inc()
    staff = staff_of(context)
    argument = _argument(update)
    if name == "newteam":
        result = await staff.newteam(sender, argument)
    elif name == "team":
        result = await staff.team(sender)
    elif name == "teams":
        result = await staff.my_patient_teams(sender)
    elif name == "broadcast":
        result = await staff.broadcast(sender, argument)
    elif name == "stats":
        result = await staff.stats(sender)
    else:
        result = await staff.cancel(sender)
    await send_team_response(context.bot, sender.chat_id, result, context)


async def on_start_code(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle ``/start <code>``: a patient join link or a staff invite."""
    sender = sender_of(update)
    code = _argument(update)
    if sender is None or code is None:
        return
    UPDATES.labels(kind="command_start_code").inc()
    result = await staff_of(context).start_with_code(sender, code.split()[0])
    await send_team_response(context.bot, sender.chat_id, result, context)


async def on_team_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Carry out a care-team button (membership checked in the database on every press)."""
    query = update.callback_query
    if query is None:
        return
    UPDATES.labels(kind="team_button").inc()
    sender = button_sender(query)
    if sender is None:
        # An inline-mode button or a message too old to see: nothing to act on.
        await query.answer()
        return
    result = await staff_of(context).action(sender, query.data)
    await send_team_response(context.bot, sender.chat_id, result, context, query)


async def on_staff_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take the next message of a staff flow (broadcast text, contact details); answer any other as a patient's."""
    message = update.effective_message
    sender = sender_of(update)
    result = None
    if message is not None and sender is not None and message.text is not None and sender.private:
        try:
            result = await staff_of(context).text(sender, message.text.replace("\x00", ""))
        except Exception as exc:
            # The database may be down: the patient handler still answers (safety first) without it.
            logger.warning("could not check for a staff flow: %s", type(exc).__name__)
            result = None
    if result is None or sender is None:
        await messages.on_text(update, context)
        return
    UPDATES.labels(kind="staff_text").inc()
    await send_team_response(context.bot, sender.chat_id, result, context)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the care-team commands, ``/start <code>``, the team buttons and the staff-flow text."""
    new_messages = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", on_start_code, filters=new_messages, has_args=True))
    app.add_handler(CommandHandler(list(TEAM_COMMANDS), on_team_command, filters=new_messages))
    app.add_handler(CallbackQueryHandler(on_team_button, pattern=r"^(tm|bc|pt):"))
    # Same group as, and before, the patient text handler: one of the two answers each message.
    app.add_handler(MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, on_staff_text))
