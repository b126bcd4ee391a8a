"""The one wiring point: ``build_application(settings)``, and the ``run``/``worker`` entry points."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.dispatch import ReminderDispatcher
from bot.runtime import open_runtime
from bot.service import COMMAND_MENU, Clock, utcnow
from bot.settings import Settings
from bot.telegram._context import RUNTIME_KEY, runtime_of, stop_on_signals
from bot.telegram._observe import CountingRateLimiter, TimedUpdateProcessor
from bot.telegram._sender import telegram_send
from bot.telegram.handlers import buttons, commands, errors, messages

logger = logging.getLogger(__name__)

DISPATCHER_TASK = "reminder_dispatcher"
STOP_EVENT = "dispatcher_stop"

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: Settings, *, clock: Clock = utcnow, dispatch: bool = True) -> AnyApplication:
    """Build the Telegram application: settings, rate limiter, HTML by default, handlers in order."""
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is required")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(CountingRateLimiter(max_retries=1))
        # PTB's default for concurrent_updates(True), timing each update for bonebot_handler_seconds.
        .concurrent_updates(TimedUpdateProcessor(256))
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")

    async def post_init(application: AnyApplication) -> None:
        runtime = await open_runtime(settings, clock=clock)
        application.bot_data[RUNTIME_KEY] = runtime
        await _describe_bot(application)
        if dispatch:
            start_dispatcher(application, clock)

    async def post_shutdown(application: AnyApplication) -> None:
        await stop_dispatcher(application)
        runtime = application.bot_data.pop(RUNTIME_KEY, None)
        if runtime is not None:
            await runtime.close()

    application = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    # Order matters: commands, buttons, then the catch-all text handler last (inside messages).
    commands.register(application)
    buttons.register(application)
    messages.register(application)
    errors.register(application)
    return application


async def _describe_bot(application: AnyApplication) -> None:
    """Register the command menu and description; failures here only cost a warning."""
    renderer = runtime_of(application).domain.renderer
    try:
        await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMAND_MENU])
        await application.bot.set_my_short_description(renderer.ui("bot_short_description")[:120])
        await application.bot.set_my_description(renderer.ui("bot_description")[:512])
    except TelegramError as exc:
        logger.warning("could not set the command menu or description: %s", type(exc).__name__)


def start_dispatcher(application: AnyApplication, clock: Clock = utcnow) -> None:
    """Start the reminder dispatcher as a background task of the application."""
    runtime = runtime_of(application)
    dispatcher = ReminderDispatcher(
        runtime.database,
        runtime.domain.renderer,
        telegram_send(application.bot),
        clock,
        lease_seconds=runtime.settings.lease_seconds,
    )
    stop = asyncio.Event()
    application.bot_data[STOP_EVENT] = stop
    application.bot_data[DISPATCHER_TASK] = asyncio.create_task(
        dispatcher.run(stop, runtime.settings.dispatch_interval), name=DISPATCHER_TASK
    )


async def stop_dispatcher(application: AnyApplication) -> None:
    stop = application.bot_data.pop(STOP_EVENT, None)
    task = application.bot_data.pop(DISPATCHER_TASK, None)
    if stop is not None:
        stop.set()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    """Run the bot until interrupted: long polling, or the webhook server."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines contain the bot token
    application = build_application(settings)
    if webhook:
        from bot.telegram.webhook import run_webhook

        return asyncio.run(run_webhook(application, settings))
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def run_worker(settings: Settings) -> int:
    """Run the dispatchers alone: no updates are taken, so any number may run beside `bonebot run`."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(_worker(settings))


async def _worker(settings: Settings) -> int:
    application = build_application(settings, dispatch=False)
    stop = asyncio.Event()
    stop_on_signals(stop)
    # `async with application` initialises the bot (and its rate limiter) but takes no updates and runs no
    # post_init: the worker opens its own runtime.
    async with application:
        runtime = await open_runtime(settings)
        dispatcher = ReminderDispatcher(
            runtime.database,
            runtime.domain.renderer,
            telegram_send(application.bot),
            utcnow,
            lease_seconds=settings.lease_seconds,
        )
        try:
            await dispatcher.run(stop, settings.dispatch_interval)
        finally:
            await runtime.close()
    return 0
