"""The async engine, the session factory and a health check."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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


def _on_sqlite_file_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Do what every SQLite connection does, and put the file in WAL mode with ``synchronous=NORMAL``."""
    _on_sqlite_connect(dbapi_connection, connection_record)
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never wait for the writer nor it for them, so many updates at once queue only on
        # the short write transactions; the busy timeout above covers switching a file to WAL. The mode
        # is kept in the file, so the connection that switches it pays once.
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: still never corrupt, and after a
        # power cut (not an application crash) the last commits may be lost. Each commit is then cheap.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_engine(url: str | URL, **engine_options: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets its folder, foreign keys, a busy timeout and (files) WAL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # SQLite lets one transaction write at a time. With one connection, this process's transactions
            # queue for it in the event loop, in order; with several, they would race for the file's lock
            # in their own threads, where a waiting writer sleeps in growing steps (up to 100 ms) and fails
            # once the busy timeout has passed. The timeout is left for other processes on the same file.
            if "poolclass" not in engine_options:
                engine_options.setdefault("pool_size", 1)
                engine_options.setdefault("max_overflow", 0)
    elif backend == "postgresql":
        # A long-running bot outlives server restarts; test a pooled connection before handing it out.
        engine_options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(parsed, **engine_options)
    if backend == "sqlite":
        # An in-memory database has no file to keep a write-ahead log beside.
        on_connect = _on_sqlite_file_connect if sqlite_file(parsed) is not None else _on_sqlite_connect
        event.listen(engine.sync_engine, "connect", on_connect)
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


def storage_problem(exc: BaseException) -> str | None:
    """Tell whether ``exc`` means the database cannot be used right now: ``full``, ``unavailable`` or None.

    ``full`` is SQLite's "database or disk is full" (or ENOSPC); ``unavailable`` is a refused, dropped or
    timed-out connection, or a server shutting down. Anything else (a bug, a constraint) is None.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return "full"
        message = str(current).lower() if isinstance(current, (DBAPIError, OSError)) else ""
        if "disk is full" in message or "database or disk is full" in message:
            return "full"
        if isinstance(current, (OperationalError, InterfaceError)) or (
            isinstance(current, DBAPIError) and current.connection_invalidated
        ):
            return "unavailable"
        if isinstance(current, (ConnectionError, TimeoutError)) or (
            isinstance(current, OSError) and current.errno is not None
        ):
            return "unavailable"
        if type(current).__module__.startswith("asyncpg") and (
            "connection" in type(current).__name__.lower() or "shutdown" in type(current).__name__.lower()
        ):
            return "unavailable"
        current = current.__cause__ or current.__context__
    return None


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
