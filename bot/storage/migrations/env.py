"""Alembic environment: migrate on a connection handed over by ``bot.storage.migrate`` or on its own engine."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from bot.storage._database import create_engine, default_database_url
from bot.storage.models import Base
from bot.storage.types import UTCDateTime

config = context.config
target_metadata = Base.metadata

# Any constant shared by every BoneBot process: several may start (and migrate) against one PostgreSQL at once.
MIGRATION_LOCK_KEY = 0x626F6E65626F74  # "bonebot"


def _url() -> str:
    """Pick the URL: given by code, then DATABASE_URL, then alembic.ini, then the default SQLite file."""
    given = config.attributes.get("url")
    if isinstance(given, str) and given:
        return given
    return (
        os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or default_database_url()
    )


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write UTCDateTime as a plain DateTime so revisions do not depend on today's model code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        # One transaction for every pending revision on both back ends (Alembic would commit after each one
        # on SQLite): the lock _serialise takes then covers the whole upgrade, so a second process starting
        # at the same time waits and finds the schema at head instead of re-running a later revision.
        transactional_ddl=True,
        **options,
    )


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _serialise(connection: Connection) -> None:
    """Make concurrent migrators queue; the next one then finds the schema already at head."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    elif connection.dialect.name == "sqlite":
        # pysqlite runs DDL outside any transaction unless one was begun explicitly; an IMMEDIATE one also
        # takes the write lock up front, so a failed migration rolls back whole and migrators queue.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on ``connection``, which must not be inside a transaction yet."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode drops and recreates tables; with foreign keys on, dropping "users" would cascade and
        # delete every journal entry. The pragma is ignored inside a transaction, so it goes first.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        _configure(connection=connection)
        with context.begin_transaction():
            _serialise(connection)
            context.run_migrations()
            if sqlite:
                # With enforcement off, check before committing: a migration that broke a reference rolls back.
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"migration left {len(problems)} rows breaking foreign keys")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


async def run_async_migrations() -> None:
    """Open an engine of our own (the ``alembic`` command line) and migrate on it."""
    engine = create_engine(_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate on the connection given by code, else on a fresh async engine."""
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
