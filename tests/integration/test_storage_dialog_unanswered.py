"""Guided-flow state and the anonymous log of unanswered questions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import (
    Database,
    clear_dialog,
    get_dialog,
    get_or_create_user,
    purge_dialogs_before,
    purge_unanswered_before,
    record_unanswered,
    set_dialog,
    top_unanswered,
)

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


async def test_dialog_state_is_set_replaced_and_cleared(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    await get_or_create_user(db_session, 2, 20, NOW)
    assert await get_dialog(db_session, 1) is None
    state = await set_dialog(db_session, 1, "scan", "ask_date", {"tz": "Europe/Paris", "tries": 1}, now=NOW)
    assert (state.flow, state.step, state.data, state.updated_at) == (
        "scan",
        "ask_date",
        {"tz": "Europe/Paris", "tries": 1},
        NOW,
    )
    later = NOW + timedelta(minutes=2)
    replaced = await set_dialog(db_session, 1, "reflect", "await_reply", {"prompt": "worry"}, now=later)
    assert await get_dialog(db_session, 1) == replaced
    assert replaced.data == {"prompt": "worry"} and replaced.updated_at == later
    assert await get_dialog(db_session, 2) is None
    assert await clear_dialog(db_session, 1) is True
    assert await clear_dialog(db_session, 1) is False
    assert await get_dialog(db_session, 1) is None


async def test_purge_dialogs_before_deletes_only_abandoned_flows(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    await get_or_create_user(db_session, 2, 20, NOW)
    await set_dialog(db_session, 1, "consent", "await", {"then": "questions", "argument": "kept"}, now=NOW)
    await set_dialog(db_session, 2, "scan", "await_date", {}, now=NOW + timedelta(days=3))
    assert await purge_dialogs_before(db_session, NOW + timedelta(days=1)) == 1
    assert await get_dialog(db_session, 1) is None
    assert await get_dialog(db_session, 2) is not None
    with pytest.raises(ValueError):
        await purge_dialogs_before(db_session, datetime(2027, 1, 1))


async def test_dialog_state_survives_a_new_process(database: Database) -> None:
    async with database.session() as session:
        await get_or_create_user(session, 1, 10, NOW)
        await set_dialog(session, 1, "scan", "ask_time", {"date": "2027-04-01", "nested": {"a": [1, 2]}})
    other_process = Database.connect(database.engine.url.render_as_string(hide_password=False))
    try:
        async with other_process.session() as session:
            state = await get_dialog(session, 1)
    finally:
        await other_process.dispose()
    assert state is not None
    assert (state.flow, state.step, state.data) == (
        "scan",
        "ask_time",
        {"date": "2027-04-01", "nested": {"a": [1, 2]}},
    )


async def test_dialog_data_must_be_json(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    with pytest.raises(TypeError):
        await set_dialog(db_session, 1, "scan", "ask_date", {"when": NOW})
    with pytest.raises(ValueError):
        await set_dialog(db_session, 1, "", "ask_date", {})


async def test_top_unanswered_counts_since_a_time(db_session: AsyncSession) -> None:
    for text, offset in [
        ("does coffee matter", 0),
        ("does coffee matter", 1),
        ("does coffee matter", 2),
        ("can i ski", 3),
        ("can i ski", 4),
        ("is yoga safe", 5),
        ("old question", -100),
        ("old question", -101),
        ("old question", -102),
        ("old question", -103),
    ]:
        await record_unanswered(db_session, text, NOW + timedelta(hours=offset))
    assert await top_unanswered(db_session, NOW, 10) == [
        ("does coffee matter", 3),
        ("can i ski", 2),
        ("is yoga safe", 1),
    ]
    assert await top_unanswered(db_session, NOW, 2) == [("does coffee matter", 3), ("can i ski", 2)]
    assert (await top_unanswered(db_session, NOW - timedelta(days=30), 1)) == [("old question", 4)]


async def test_purge_unanswered_before_deletes_only_older_rows(db_session: AsyncSession) -> None:
    await record_unanswered(db_session, "old", NOW - timedelta(days=91))
    await record_unanswered(db_session, "edge", NOW - timedelta(days=90))
    await record_unanswered(db_session, "new", NOW)
    assert await purge_unanswered_before(db_session, NOW - timedelta(days=90)) == 1
    assert await purge_unanswered_before(db_session, NOW - timedelta(days=90)) == 0
    assert dict(await top_unanswered(db_session, NOW - timedelta(days=365), 10)) == {"edge": 1, "new": 1}


async def test_unanswered_questions_carry_no_user_link(database: Database) -> None:
    async with database.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {column["name"] for column in inspect(sync).get_columns("unanswered_questions")}
        )
        foreign_keys = await connection.run_sync(
            lambda sync: inspect(sync).get_foreign_keys("unanswered_questions")
        )
    # asker_hash is a keyed hash of (question, asker) whose key is not stored: it counts distinct askers.
    assert columns == {"id", "normalized_text", "created_at", "asker_hash"}
    assert foreign_keys == []


async def test_record_unanswered_refuses_empty_text(db_session: AsyncSession) -> None:
    with pytest.raises(ValueError):
        await record_unanswered(db_session, "  ", NOW)
