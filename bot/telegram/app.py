"""The one wiring point: ``build_application(settings)``, and the ``run``/``worker`` entry points."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.dispatch import BroadcastDispatcher, PerChatLimiter, ReminderDispatcher, run_dispatch_loop
from bot.runtime import open_runtime
from bot.service import COMMAND_MENU, Clock, utcnow
from bot.settings import Settings
from bot.telegram._broadcast_sender import broadcast_send, telegram_notify
from bot.telegram._context import RUNTIME_KEY, runtime_of, stop_on_signals
from bot.telegram._observe import CountingRateLimiter, TimedUpdateProcessor
from bot.telegram._sender import telegram_send
from bot.telegram.handlers import buttons, commands, errors, events, flood, messages, teams
from bot.telegram.handlers.teams import WAKE_EVENT
from bot.telegram.status import start_status_server

logger = logging.getLogger(__name__)

DISPATCHER_TASK = "reminder_dispatcher"
STOP_EVENT = "dispatcher_stop"
STATUS_SERVER = "status_server"
# SIGTERM to exit: orchestrators wait 10 s (Docker) to 30 s (Kubernetes) before SIGKILL.
DISPATCHER_STOP_SECONDS = 7.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
PAID_RATE = 1000
# A message a second under Telegram's limit: requests reach Telegram a little unevenly, and every 429 stops
# all sending for its retry_after, which costs far more than the margin.
OVERALL_RATE = 29


def build_application(
    settings: Settings, *, clock: Clock = utcnow, dispatch: bool = True, status_server: bool = False
) -> AnyApplication:
    """Build the Telegram application: settings, rate limiter, HTML by default, handlers in order.

    With ``status_server`` and BONEBOT_PORT set, /healthz and /metrics are served while it runs.
    """
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is required")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        # One limiter per process for everything sent (reminders, broadcasts, replies), counting what still
        # fails. Paid broadcasts may go up to 1,000 messages a second; otherwise just under Telegram's 30.
        .rate_limiter(
            CountingRateLimiter(
                overall_max_rate=PAID_RATE if settings.paid_broadcast else OVERALL_RATE, max_retries=1
            )
        )
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
        if status_server and settings.status_port is not None:
            application.bot_data[STATUS_SERVER] = await start_status_server(
                lambda: runtime.database, settings.listen, settings.status_port
            )

    async def post_shutdown(application: AnyApplication) -> None:
        await stop_dispatcher(application)
        server = application.bot_data.pop(STATUS_SERVER, None)
        if server is not None:
            await server.cleanup()
        runtime = application.bot_data.pop(RUNTIME_KEY, None)
        if runtime is not None:
            await runtime.close()

    application = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    # Order matters: care-team commands and buttons (with /start <code>) before the patient ones, then
    # commands, buttons, then the catch-all text handler last (inside messages); the
    # per-update log event opens before all of them and closes after.
    events.register(application)
    flood.register(application)
    teams.register(application)
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


def build_dispatchers(
    application: AnyApplication, clock: Clock = utcnow
) -> tuple[ReminderDispatcher, BroadcastDispatcher]:
    """Build the reminder and broadcast dispatchers of a process, sharing its bot and per-chat limiter."""
    runtime = runtime_of(application)
    per_chat = PerChatLimiter()
    reminders = ReminderDispatcher(
        runtime.database,
        runtime.domain.renderer,
        per_chat.wrap(telegram_send(application.bot)),
        clock,
        lease_seconds=runtime.settings.lease_seconds,
    )
    broadcasts = BroadcastDispatcher(
        runtime.database,
        runtime.domain.renderer,
        broadcast_send(application.bot),
        telegram_notify(application.bot),
        clock,
        per_chat=per_chat,
        paid=runtime.settings.paid_broadcast,
        lease_seconds=runtime.settings.lease_seconds,
    )
    return reminders, broadcasts


def start_dispatcher(application: AnyApplication, clock: Clock = utcnow) -> None:
    """Start the reminder and broadcast dispatchers as a background task of the application."""
    runtime = runtime_of(application)
    reminders, broadcasts = build_dispatchers(application, clock)
    stop = asyncio.Event()
    wake = asyncio.Event()
    application.bot_data[STOP_EVENT] = stop
    application.bot_data[WAKE_EVENT] = wake
    application.bot_data[DISPATCHER_TASK] = asyncio.create_task(
        run_dispatch_loop(reminders, broadcasts, stop, runtime.settings.dispatch_interval, wake),
        name=DISPATCHER_TASK,
    )


async def stop_dispatcher(application: AnyApplication) -> None:
    """Stop the dispatcher: sends under way finish, claimed reminders not yet sent are handed back."""
    stop = application.bot_data.pop(STOP_EVENT, None)
    task = application.bot_data.pop(DISPATCHER_TASK, None)
    if stop is not None:
        stop.set()
    if task is not None:
        try:
            await asyncio.wait_for(task, timeout=DISPATCHER_STOP_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            # Claims still held expire with their lease; the next claim counts them as unconfirmed.
            logger.warning("the reminder dispatcher did not stop in time; its claims will expire")


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    """Run the bot until interrupted: long polling, or the webhook server."""
    root = logging.getLogger()
    root.setLevel(min(root.level or logging.INFO, logging.INFO))  # INFO at least; -v keeps DEBUG
    application = build_application(settings, status_server=not webhook)
    if webhook:
        from bot.telegram.webhook import run_webhook

        return asyncio.run(run_webhook(application, settings))
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def run_worker(settings: Settings) -> int:
    """Run the dispatchers alone: no updates are taken, so any number may run beside `bonebot run`."""
    root = logging.getLogger()
    root.setLevel(min(root.level or logging.INFO, logging.INFO))  # INFO at least; -v keeps DEBUG
    return asyncio.run(_worker(settings))


async def _worker(settings: Settings) -> int:
    application = build_application(settings, dispatch=False)
    stop = asyncio.Event()
    stop_on_signals(stop)
    # `async with application` initialises the bot (and its rate limiter) but takes no updates and runs no
    # post_init: the worker opens its own runtime.
    async with application:
        runtime = await open_runtime(settings)
        application.bot_data[RUNTIME_KEY] = runtime
        reminders, broadcasts = build_dispatchers(application)
        server = None
        if settings.status_port is not None:
            server = await start_status_server(
                lambda: runtime.database, settings.listen, settings.status_port
            )
        try:
            await run_dispatch_loop(reminders, broadcasts, stop, settings.dispatch_interval)
        finally:
            if server is not None:
                await server.cleanup()
            await runtime.close()
    return 0
