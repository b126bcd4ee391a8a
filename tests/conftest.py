"""Shared fixtures.

Database fixtures run every test that asks for them twice: on SQLite (a temporary file) and on PostgreSQL
(``TEST_POSTGRES_URL``; those cases carry the ``postgres`` marker and skip when it is unset). PostgreSQL
gets a fresh, uniquely named database per test session, dropped at the end, so existing data is never
touched. The schema is migrated once per back end; after each test every table is emptied.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from bot.storage import Database, upgrade_sync

POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_server_url() -> str:
    """Return the PostgreSQL server URL for tests, or skip the test when none is configured."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url


async def _autocommit(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty, uniquely named database on the server; drop it afterwards."""
    name = f"bonebot_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_database_url(backend: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'bonebot-{secrets.token_hex(4)}.sqlite3'}"
    else:
        with fresh_postgres_database(postgres_server_url()) as url:
            yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of a migrated test database, once per back end for the whole session."""
    with fresh_database_url(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade_sync(url)
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new database with no tables, for migration tests."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


async def _empty_tables(db: Database) -> None:
    async with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            names = (
                await connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            quoted = ", ".join(f'"{name}"' for name in names)
            if quoted:
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            names = (
                await connection.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'"
                    )
                )
            ).scalars()
            # Checked at commit, when every table is empty, so the deletion order does not matter.
            await connection.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in list(names):
                await connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """Yield a connected ``Database`` on the migrated test database; empty every table afterwards."""
    db = Database.connect(database_url)
    try:
        yield db
    finally:
        await _empty_tables(db)
        await db.dispose()


@pytest.fixture
async def db_session(database: Database) -> AsyncIterator[AsyncSession]:
    """Yield a session in a transaction that commits when the test ends."""
    async with database.session() as session:
        yield session
