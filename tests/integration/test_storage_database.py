"""The Database wrapper, the SQLite connection settings, the health check and UTCDateTime."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import StatementError

from bot.content import PROFILES
from bot.storage import (
    Database,
    check_database,
    default_database_url,
    get_or_create_user,
    get_user,
    record_unanswered,
    top_unanswered,
    upgrade,
)
from bot.storage.models import PROFILE_VALUES, UnansweredQuestion
from bot.storage.repositories.teams import tally_answer
from bot.storage.repositories.updates import take_update

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


def test_default_url_is_an_sqlite_file_under_data() -> None:
    assert default_database_url() == "sqlite+aiosqlite:///./data/bonebot.sqlite3"


def test_profile_values_match_the_content_model() -> None:
    assert PROFILE_VALUES == PROFILES


async def test_connect_creates_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database.connect(default_database_url())
    try:
        assert await check_database(db)
    finally:
        await db.dispose()
    assert (tmp_path / "data" / "bonebot.sqlite3").is_file()


async def test_sqlite_connections_enforce_foreign_keys_and_wait_for_locks(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
    finally:
        await db.dispose()


async def test_sqlite_files_use_a_write_ahead_log_synced_at_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    db = Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.session() as session:
            await get_or_create_user(session, 1, 10, NOW)
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar_one() == 1  # NORMAL
        assert path.with_name("x.sqlite3-wal").exists()
    finally:
        await db.dispose()
    # The mode is kept in the file: any other program opening it reads and writes through the log too.
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_in_memory_sqlite_keeps_its_memory_journal() -> None:
    db = Database.connect("sqlite+aiosqlite:///:memory:")
    try:
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "memory"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await db.dispose()


async def test_many_concurrent_writers_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    await upgrade(url)
    # Two engines, as two processes on one file would have, each with a full pool busy at once.
    replicas = [Database.connect(url), Database.connect(url)]
    writers, stop_reading = 80, asyncio.Event()

    async def update(n: int) -> None:
        db = replicas[n % 2]
        async with db.session() as session:
            assert await take_update(session, n, NOW)
        async with db.session() as session:
            await get_or_create_user(session, 1000 + n % 40, 1000 + n % 40, NOW)
            await asyncio.sleep(0.002)  # the answer being worked out while the write lock is held
            await tally_answer(session, "2027-03", "what_is_ai")

    async def read(db: Database) -> int:
        reads = 0
        while not stop_reading.is_set():
            async with db.session() as session:
                await get_user(session, 1000)
            reads += 1
        return reads

    readers = [asyncio.create_task(read(db)) for db in replicas for _ in range(3)]
    # A long read (a /stats report, a backup) open the whole time: writers must not wait for it to end.
    report = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    report.execute("BEGIN")
    report.execute("SELECT count(*) FROM users").fetchone()
    try:
        await asyncio.gather(*(update(n) for n in range(writers)))
    finally:
        report.execute("COMMIT")
        report.close()
        stop_reading.set()
        reads = await asyncio.gather(*readers)
        for db in replicas:
            await db.dispose()
    assert min(reads) > 0
    with sqlite3.connect(tmp_path / "x.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM handled_updates").fetchone() == (writers,)
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (40,)
        assert connection.execute("SELECT count FROM answer_tallies").fetchone() == (writers,)


async def test_one_process_queues_its_own_sqlite_writes_instead_of_timing_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    await upgrade(url)
    # A busy timeout far shorter than the write below: a second connection waiting on the file lock fails.
    monkeypatch.setattr("bot.storage._database.SQLITE_BUSY_TIMEOUT_MS", 50)
    db = Database.connect(url)
    holding = asyncio.Event()

    async def long_write() -> None:
        async with db.session() as session:
            await get_or_create_user(session, 1, 1, NOW)
            holding.set()
            await asyncio.sleep(0.5)  # the write lock held across an await, ten busy timeouts long

    async def second_write() -> None:
        await holding.wait()
        async with db.session() as session:
            await get_or_create_user(session, 2, 2, NOW)

    try:
        await asyncio.gather(long_write(), second_write())
    finally:
        await db.dispose()
    with sqlite3.connect(tmp_path / "x.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (2,)


async def test_check_database_answers_true_on_a_live_database(database: Database) -> None:
    assert await check_database(database)


async def test_check_database_answers_false_when_the_server_is_unreachable() -> None:
    # Port 1 on the loopback refuses connections at once.
    db = Database.connect("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        assert await check_database(db, seconds=5) is False
    finally:
        await db.dispose()


async def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    async with database.session() as session:
        await get_or_create_user(session, 1, 10, NOW)
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await get_or_create_user(session, 2, 20, NOW)
            raise RuntimeError("abort")
    async with database.session() as session:
        assert await get_user(session, 1) is not None
        assert await get_user(session, 2) is None


async def test_utc_datetime_round_trips_as_aware_utc(database: Database) -> None:
    local = datetime(2027, 3, 15, 12, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
    async with database.session() as session:
        await get_or_create_user(session, 1, 10, local)
    async with database.session() as session:
        user = await get_user(session, 1)
        stored = (await session.execute(text("SELECT created_at FROM users WHERE id = 1"))).scalar_one()
    assert user is not None
    assert user.created_at == local
    assert user.created_at.tzinfo is UTC
    assert user.created_at.hour == 10
    # Naive UTC on disk: SQLite keeps fixed-width text, PostgreSQL a timestamp without time zone.
    if database.dialect == "sqlite":
        assert stored == "2027-03-15 10:30:15.000250"
    else:
        assert stored == datetime(2027, 3, 15, 10, 30, 15, 250)


async def test_utc_datetime_refuses_naive_values(database: Database) -> None:
    naive = datetime(2027, 3, 15, 10, 0)
    with pytest.raises(StatementError) as caught:
        async with database.session() as session:
            await session.execute(insert(UnansweredQuestion).values(normalized_text="q", created_at=naive))
    assert isinstance(caught.value.orig, ValueError)
    with pytest.raises(ValueError, match="aware"):
        async with database.session() as session:
            await record_unanswered(session, "question", naive)


async def test_utc_datetime_compares_instants_not_local_text(database: Database) -> None:
    base = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
    async with database.session() as session:
        # 11:00 at +02:00 is 09:00 UTC: before the base although its local text sorts after it.
        await record_unanswered(
            session, "early", datetime(2027, 3, 15, 11, 0, tzinfo=timezone(timedelta(hours=2)))
        )
        await record_unanswered(session, "whole", base)
        await record_unanswered(session, "fraction", base + timedelta(microseconds=500_000))
        await record_unanswered(session, "later", base + timedelta(seconds=1))
    async with database.session() as session:
        since_base = dict(await top_unanswered(session, base, 10))
        since_fraction = dict(await top_unanswered(session, base + timedelta(microseconds=1), 10))
    assert set(since_base) == {"whole", "fraction", "later"}
    assert set(since_fraction) == {"fraction", "later"}
