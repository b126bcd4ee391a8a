"""Webhook mode: one aiohttp server for Telegram's updates, ``/healthz`` and ``/metrics``.

PTB's own webhook server cannot serve extra routes, so this follows PTB's custom-webhook example:
the server puts each update on the application's queue and PTB processes it as usual.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.metrics import REDELIVERED
from bot.service import utcnow
from bot.settings import Settings
from bot.storage import Database
from bot.storage import repositories as repo
from bot.telegram._context import RUNTIME_KEY, stop_on_signals
from bot.telegram.status import add_status_routes, start_site

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000
RECORD_SECONDS = 2.0  # recording an update id must not hold the answer to Telegram for long


def webhook_app(application: Any, settings: Settings) -> web.Application:
    """Return the aiohttp app serving the webhook path, /healthz and /metrics."""
    path = urlparse(settings.webhook_url or "").path or "/telegram"
    secret = settings.webhook_secret or ""

    async def receive(request: web.Request) -> web.Response:
        if not secret or not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return web.Response(status=413)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("not an update")
            update = Update.de_json(data, application.bot)
        except web.HTTPRequestEntityTooLarge:
            raise
        except Exception:
            # Anything PTB cannot make an Update of is the sender's problem, never a 500 (Telegram would
            # retry a 500 for a day).
            return web.Response(status=400)
        if not await first_delivery(update.update_id):
            REDELIVERED.inc()
            return web.Response(status=200)  # another replica (or this one) has it: Telegram may stop
        await application.update_queue.put(update)
        return web.Response(status=200)

    async def first_delivery(update_id: int) -> bool:
        db = database()
        if db is None:
            return True
        try:
            # A bare connection: an ORM session costs more than the one INSERT it would run.
            async with asyncio.timeout(RECORD_SECONDS), db.engine.begin() as connection:
                return await repo.take_update(connection, update_id, utcnow())
        except Exception as exc:
            # Without the database the bot still answers (from memory); a rare double beats silence.
            logger.warning("could not record update %d: %s", update_id, type(exc).__name__)
            return True

    def database() -> Database | None:
        runtime = application.bot_data.get(RUNTIME_KEY)
        return runtime.database if runtime is not None else None

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(path, receive)
    add_status_routes(app, database)
    return app


async def run_webhook(application: Any, settings: Settings) -> int:
    """Register the webhook with Telegram and serve until SIGINT/SIGTERM, then stop in order.

    On a signal: stop taking updates (the HTTP server closes; Telegram redelivers anything unanswered to
    another replica), finish the handlers under way, then stop the dispatcher, which finishes its sends
    and hands back the reminders it claimed but had not sent.
    """
    if not settings.webhook_url or not settings.webhook_secret:
        logger.error("webhook mode needs BONEBOT_WEBHOOK_URL and BONEBOT_WEBHOOK_SECRET")
        return 2
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with application:
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        runner = await start_site(webhook_app(application, settings), settings.listen, settings.port)
        logger.info("webhook server listening on %s:%d", settings.listen, settings.port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await application.stop()
            if application.post_shutdown:
                await application.post_shutdown(application)
    return 0
