"""Handled update ids: taken once across sessions, forgotten after a day."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.storage import Database
from bot.storage import repositories as repo

NOW = dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)


async def test_an_update_id_is_taken_once(database: Database) -> None:
    async with database.session() as session:
        assert await repo.take_update(session, 41, NOW)
    async with database.session() as session:
        assert not await repo.take_update(session, 41, NOW)
        assert await repo.take_update(session, 42, NOW)


async def test_racing_sessions_take_an_update_id_once(database: Database) -> None:
    async def take(update_id: int) -> bool:
        async with database.session() as session:
            return await repo.take_update(session, update_id, NOW)

    results = await asyncio.gather(*(take(update_id) for update_id in [7] * 5 + [8] * 5))
    assert results[:5].count(True) == 1 and results[5:].count(True) == 1


async def test_old_update_ids_are_purged(database: Database) -> None:
    async with database.session() as session:
        await repo.take_update(session, 1, NOW - dt.timedelta(days=2))
        await repo.take_update(session, 2, NOW)
    async with database.session() as session:
        assert await repo.purge_handled_updates_before(session, NOW - dt.timedelta(days=1)) == 1
    async with database.session() as session:
        assert await repo.take_update(session, 1, NOW)  # forgotten: a day later it would be a new update
        assert not await repo.take_update(session, 2, NOW)
