"""``/healthz`` and ``/metrics``: beside the webhook, or on ``BONEBOT_PORT`` in polling and worker mode."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import REGISTRY
from bot.storage import Database, check_database

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0  # a probe should hear back before an orchestrator's own timeout (often 1-5 s)
SHUTDOWN_SECONDS = 2.0

DatabaseSource = Callable[[], Database | None]


def add_status_routes(app: web.Application, database: DatabaseSource) -> None:
    """Add GET /healthz (200 only when the database answers) and GET /metrics to ``app``."""

    async def healthz(request: web.Request) -> web.Response:
        db = database()
        healthy = db is not None and await check_database(db, HEALTH_TIMEOUT)
        return web.Response(status=200 if healthy else 503, text="ok\n" if healthy else "unavailable\n")

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


async def start_site(app: web.Application, listen: str, port: int) -> web.AppRunner:
    """Serve ``app`` on ``listen:port``; the caller cleans the returned runner up."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    logger.info("serving HTTP on %s:%d", listen, port)
    return runner


async def start_status_server(database: DatabaseSource, listen: str, port: int) -> web.AppRunner:
    """Serve /healthz and /metrics alone (polling and worker mode)."""
    app = web.Application()
    add_status_routes(app, database)
    return await start_site(app, listen, port)
