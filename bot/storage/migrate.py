"""Run the Alembic migrations in ``bot/storage/migrations/`` from code; no alembic.ini needed."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.storage._database import create_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic configuration pointing at the packaged migrations (and at ``url`` if given)."""
    config = Config()
    # ConfigParser treats "%" as interpolation; a path or URL may contain one.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        config.attributes["url"] = url
    return config


def _run(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    # env.py sees the connection and migrates on it instead of opening its own engine.
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def _migrate(url: str, action: str, revision: str) -> None:
    # A private engine without a pool: the migration connection turns SQLite foreign keys off for its
    # duration and must not be handed to anyone afterwards.
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, action, revision)
    finally:
        await engine.dispose()
    logger.info("database %s to %s done (%s)", action, revision, make_url(url).get_backend_name())


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest).

    Processes may migrate one database at the same time (they queue on a lock); within one process run one
    migration at a time, because Alembic keeps its migration context in module globals.
    """
    await _migrate(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` removes every table)."""
    await _migrate(url, "downgrade", revision)


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Apply migrations from code that has no running event loop (the ``bonebot db upgrade`` command)."""
    asyncio.run(upgrade(url, revision))
