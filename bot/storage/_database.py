"""The async engine, the session factory and a health check."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bonebot.sqlite3"
# Long enough for a dispatcher tick and an update handler to queue behind each other's writes.
SQLITE_BUSY_TIMEOUT_MS = 5000


def default_database_url() -> str:
    """Return the SQLite file under ``./data/`` used when ``DATABASE_URL`` is unset."""
    return DEFAULT_DATABASE_URL


def sqlite_file(url: str | URL) -> Path | None:
    """Return the file behind an SQLite URL, or None for in-memory and non-SQLite URLs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    """Turn on foreign keys (off by default in SQLite) and wait for locks instead of failing at once."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def create_engine(url: str | URL, **engine_options: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets its folder, foreign keys and a busy timeout."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    elif backend == "postgresql":
        # A long-running bot outlives server restarts; test a pooled connection before handing it out.
        engine_options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(parsed, **engine_options)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


class Database:
    """An async engine with its session factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )

    @classmethod
    def connect(cls, url: str, **engine_options: Any) -> Database:
        """Create the engine and session factory for ``url`` (no connection is opened yet)."""
        return cls(create_engine(url, **engine_options))

    @property
    def dialect(self) -> str:
        """Return the back end's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction that commits on success and rolls back on error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


async def check_database(db: Database, seconds: float = 5.0) -> bool:
    """Return whether the database answers ``SELECT 1`` within ``seconds``."""
    try:
        async with asyncio.timeout(seconds), db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        # A health check reports, it never raises: drivers fail with their own exception classes.
        # The class name is enough to diagnose; driver messages may quote statement parameters.
        logger.warning("database health check failed: %s", type(exc).__name__)
        return False
    return True
