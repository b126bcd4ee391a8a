"""Alembic migrations: the stairway, agreement with the models, and the programmatic entry points."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from bot.storage import Database, downgrade, upgrade, upgrade_sync
from bot.storage.migrate import alembic_config
from bot.storage.models import Base


def _revisions_oldest_first() -> list[Any]:
    script = ScriptDirectory.from_config(alembic_config())
    return list(reversed(list(script.walk_revisions("base", "heads"))))


async def _tables(url: str) -> set[str]:
    db = Database.connect(url)
    try:
        async with db.engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await db.dispose()


async def _current_revision(url: str) -> str | None:
    db = Database.connect(url)
    try:
        async with db.engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await db.dispose()


def test_there_is_a_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


async def test_stairway_up_down_up_each_revision(empty_database_url: str) -> None:
    url = empty_database_url
    revisions = _revisions_oldest_first()
    assert revisions
    for revision in revisions:
        await upgrade(url, revision.revision)
        assert await _current_revision(url) == revision.revision
        await downgrade(url, revision.down_revision or "base")
        assert await _current_revision(url) == revision.down_revision
        await upgrade(url, revision.revision)
    assert await _current_revision(url) == revisions[-1].revision
    await downgrade(url, "base")
    assert await _tables(url) <= {"alembic_version"}
    await upgrade(url)
    assert await _tables(url) == {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_processes_starting_together_migrate_once(empty_database_url: str) -> None:
    # Separate processes, as in production: Alembic's context is global to an interpreter, so one process
    # runs one migration at a time.
    command = "import sys; from bot.storage import upgrade_sync; upgrade_sync(sys.argv[1])"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", command, empty_database_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    results = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), timeout=60)
    assert [p.returncode for p in processes] == [0, 0], [err.decode()[-2000:] for _, err in results]
    assert await _current_revision(empty_database_url) == _revisions_oldest_first()[-1].revision


async def test_a_failed_migration_leaves_no_half_schema(empty_database_url: str) -> None:
    url = empty_database_url
    db = Database.connect(url)
    try:
        async with db.engine.begin() as connection:
            # The last table the first revision creates already exists, so its CREATE TABLE fails.
            await connection.execute(text("CREATE TABLE reminders (id INTEGER PRIMARY KEY)"))
    finally:
        await db.dispose()
    with pytest.raises(Exception, match="reminders"):
        await upgrade(url)
    assert await _tables(url) == {"reminders"}
    assert await _current_revision(url) is None


async def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    head = _revisions_oldest_first()[-1].revision
    assert await _current_revision(empty_database_url) == head


def _predicate(index_sql: str) -> str:
    """Return an index's WHERE clause without PostgreSQL's casts and parentheses."""
    where = index_sql.split(" WHERE ", 1)[1]
    return where.replace("::text", "").replace("(", "").replace(")", "")


async def test_partial_indexes_exist_on_the_back_end(database: Database) -> None:
    if database.dialect == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reminders'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'reminders' AND type = 'index'"
    async with database.engine.connect() as connection:
        definitions = {name: sql for name, sql in await connection.execute(text(query))}
    assert _predicate(definitions["ix_reminders_pending_due_at"]) == "status = 'pending'"
    assert _predicate(definitions["ix_reminders_claimed_lease_until"]) == "status = 'claimed'"


def test_upgrade_sync_works_without_an_event_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'bonebot.sqlite3'}"
    upgrade_sync(url)
    assert "reminders" in asyncio.run(_tables(url))
    assert asyncio.run(_current_revision(url)) == _revisions_oldest_first()[-1].revision


async def test_sqlite_migration_leaves_foreign_keys_on_for_later_connections(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bonebot.sqlite3'}"
    await upgrade(url)
    db = Database.connect(url)
    try:
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await db.dispose()


async def test_care_teams_migration_keeps_existing_rows_and_leaves_them_unhashed(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade(url, "0004_date_order_chosen")
    db = Database.connect(url)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO unanswered_questions (normalized_text, created_at) "
                    "VALUES ('can i swim', '2027-01-01 00:00:00')"
                )
            )
        await upgrade(url, "0005_care_teams")
        async with db.engine.connect() as connection:
            rows = (
                await connection.execute(text("SELECT normalized_text, asker_hash FROM unanswered_questions"))
            ).all()
        assert [tuple(row) for row in rows] == [("can i swim", None)]
        await downgrade(url, "0004_date_order_chosen")
        assert "teams" not in await _tables(url)
        assert "unanswered_questions" in await _tables(url)
    finally:
        await db.dispose()
