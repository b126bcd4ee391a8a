"""``bonebot db backup FILE``: a consistent copy of a live SQLite database, usable as the database again."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.storage import Database, upgrade_sync
from bot.storage import repositories as repo
from tests.unit.test_cli import bonebot

NOW = dt.datetime(2027, 1, 11, 10, 0, tzinfo=dt.UTC)


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def _add_users(path: Path, ids: range) -> None:
    database = Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.session() as session:
            for user_id in ids:
                await repo.get_or_create_user(session, user_id, user_id, NOW)
    finally:
        await database.dispose()


@pytest.fixture
def live_database(tmp_path: Path) -> Path:
    path = tmp_path / "t.sqlite3"  # the file the bonebot() helper points DATABASE_URL at
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


def test_backup_copies_committed_data_while_a_write_is_under_way(tmp_path: Path, live_database: Path) -> None:
    asyncio.run(_add_users(live_database, range(1, 51)))
    writer = sqlite3.connect(live_database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the bot is half-way through a write
    writer.execute(
        "INSERT INTO users (id, chat_id, created_at, last_seen_at) SELECT 999, 999, created_at, last_seen_at FROM users LIMIT 1"
    )
    try:
        result = bonebot(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert "backed up" in result.stdout
    copy = tmp_path / "copy.sqlite3"
    assert _count(copy, "users") == 50, "the committed rows, not the write under way"
    assert _count(live_database, "users") == 51
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not list(tmp_path.glob("*.partial"))


def test_backup_of_a_wal_database_is_one_self_contained_file(tmp_path: Path, live_database: Path) -> None:
    asyncio.run(_add_users(live_database, range(1, 11)))
    with sqlite3.connect(live_database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    result = bonebot(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "copy.sqlite3"
    assert not (tmp_path / "copy.sqlite3-wal").exists()
    # Read-only, as from a backup medium: a WAL-mode file would need to create its -shm beside it.
    with sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (10,)


def test_backup_under_constant_writes_is_consistent(tmp_path: Path, live_database: Path) -> None:
    stop = threading.Event()

    def keep_writing() -> None:
        with sqlite3.connect(live_database, timeout=5) as connection:
            while not stop.is_set():
                connection.execute("UPDATE users SET last_seen_at = last_seen_at")
                connection.commit()

    asyncio.run(_add_users(live_database, range(1, 2001)))
    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = bonebot(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    finally:
        stop.set()
        thread.join(10)
    assert result.returncode == 0, result.stderr
    assert _count(tmp_path / "copy.sqlite3", "users") == 2000


def test_a_restored_backup_is_a_working_database(tmp_path: Path, live_database: Path) -> None:
    asyncio.run(_add_users(live_database, range(1, 4)))
    assert bonebot(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3")).returncode == 0
    restored = tmp_path / "restored"
    restored.mkdir()
    (tmp_path / "copy.sqlite3").rename(restored / "t.sqlite3")
    result = bonebot(restored, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert _count(restored / "t.sqlite3", "users") == 3
    with sqlite3.connect(restored / "t.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",), "back in WAL mode"


def test_backup_refuses_to_overwrite_a_file(tmp_path: Path, live_database: Path) -> None:
    existing = tmp_path / "copy.sqlite3"
    existing.write_text("an older backup")
    result = bonebot(tmp_path, "db", "backup", str(existing))
    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert existing.read_text() == "an older backup"


def test_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    result = bonebot(
        tmp_path,
        "db",
        "backup",
        str(tmp_path / "copy"),
        DATABASE_URL="postgresql+asyncpg://bonebot@127.0.0.1:1/bonebot",
    )
    assert result.returncode == 2
    assert "pg_dump" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "copy").exists()


def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    result = bonebot(tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 2
    assert "no database file" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()
