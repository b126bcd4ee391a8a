"""Exporting and deleting everything stored about a user."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import (
    Database,
    add_journal_entry,
    add_saved_question,
    claim_due_reminders,
    create_scan,
    delete_user_data,
    export_user_data,
    get_dialog,
    get_or_create_user,
    get_user,
    list_journal_entries,
    list_reminders,
    list_saved_questions,
    record_unanswered,
    set_dialog,
    top_unanswered,
    update_user,
)
from bot.storage.models import Base, UnansweredQuestion

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _fill(session: AsyncSession, user_id: int) -> None:
    """Store one of everything for the user."""
    await get_or_create_user(session, user_id, user_id + 1, NOW)
    await update_user(
        session, user_id, consent=True, profile="woman_ai", timezone="Europe/Paris", medicine="letrozole"
    )
    await add_journal_entry(session, user_id, "worry", f"entry of {user_id}", now=NOW)
    await add_saved_question(session, user_id, f"question of {user_id}", now=NOW)
    await set_dialog(session, user_id, "scan", "ask_time", {"date": "2027-03-15"}, now=NOW)
    old = await create_scan(
        session, user_id, date(2027, 2, 1), None, "Europe/Paris", [("lead", 1, NOW)], now=NOW
    )
    assert old.id
    await create_scan(
        session,
        user_id,
        date(2027, 3, 15),
        time(8, 30),
        "Europe/Paris",
        [
            ("lead", 7, datetime(2027, 3, 8, 8, 0, tzinfo=UTC)),
            ("two_hours", None, datetime(2027, 3, 15, 5, 30, tzinfo=UTC)),
        ],
        now=NOW + timedelta(minutes=1),
    )


async def test_export_contains_everything_stored_as_plain_json(db_session: AsyncSession) -> None:
    await _fill(db_session, 1)
    await _fill(db_session, 2)
    export = await export_user_data(db_session, 1)
    assert json.loads(json.dumps(export)) == export
    user = export["user"]
    assert (
        user["id"],
        user["chat_id"],
        user["consent"],
        user["profile"],
        user["timezone"],
        user["medicine"],
    ) == (
        1,
        2,
        True,
        "woman_ai",
        "Europe/Paris",
        "letrozole",
    )
    assert user["created_at"] == "2027-03-01T09:00:00+00:00"
    assert [(e["prompt_key"], e["text"], e["created_at"]) for e in export["journal"]] == [
        ("worry", "entry of 1", "2027-03-01T09:00:00+00:00")
    ]
    assert [q["text"] for q in export["saved_questions"]] == ["question of 1"]
    assert [(s["scan_date"], s["scan_time"], s["status"]) for s in export["scans"]] == [
        ("2027-02-01", None, "cancelled"),
        ("2027-03-15", "08:30:00", "upcoming"),
    ]
    assert sorted((r["kind"], r["status"], r["due_at"]) for r in export["reminders"]) == [
        ("lead", "cancelled", "2027-03-01T09:00:00+00:00"),
        ("lead", "pending", "2027-03-08T08:00:00+00:00"),
        ("two_hours", "pending", "2027-03-15T05:30:00+00:00"),
    ]
    assert export["dialog"] == {
        "flow": "scan",
        "step": "ask_time",
        "data": {"date": "2027-03-15"},
        "updated_at": "2027-03-01T09:00:00+00:00",
    }
    assert "entry of 2" not in json.dumps(export)


async def test_export_of_an_unknown_user_is_empty(db_session: AsyncSession) -> None:
    export = await export_user_data(db_session, 404)
    assert export["user"] is None and export["dialog"] is None
    assert export["journal"] == export["saved_questions"] == export["scans"] == export["reminders"] == []


async def _rows_per_table(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    return counts


async def test_delete_user_data_removes_every_row_about_the_user(database: Database) -> None:
    async with database.session() as session:
        await _fill(session, 1)
        await _fill(session, 2)
        # A claimed reminder and an unanswered question must not survive or block the deletion.
        await claim_due_reminders(session, NOW, 60, 10)
        await record_unanswered(session, "anonymous question", NOW)
        before = await _rows_per_table(session)
    async with database.session() as session:
        deleted = await delete_user_data(session, 1)
    async with database.session() as session:
        after = await _rows_per_table(session)
        assert await get_user(session, 1) is None
        assert await list_journal_entries(session, 1) == []
        assert await list_saved_questions(session, 1) == []
        assert await list_reminders(session, 1, None) == []
        assert await get_dialog(session, 1) is None
        assert await export_user_data(session, 1) == await export_user_data(session, 404)
        # The other user is untouched, and so is the anonymous log.
        assert await get_user(session, 2) is not None
        assert len(await list_reminders(session, 2, None)) == 3
        assert await top_unanswered(session, NOW, 5) == [("anonymous question", 1)]
    # Per user: 1 user, 1 journal entry, 1 question, 1 dialog, 2 scans, 3 reminders.
    assert deleted == 9
    assert sum(before.values()) - sum(after.values()) == deleted
    assert after[UnansweredQuestion.__tablename__] == 1


async def test_delete_user_data_of_an_unknown_user_deletes_nothing(db_session: AsyncSession) -> None:
    await _fill(db_session, 1)
    assert await delete_user_data(db_session, 404) == 0
    assert await get_user(db_session, 1) is not None


async def test_a_deleted_user_can_start_afresh(db_session: AsyncSession) -> None:
    await _fill(db_session, 1)
    await delete_user_data(db_session, 1)
    user = await get_or_create_user(db_session, 1, 2, NOW + timedelta(days=1))
    assert (user.consent, user.profile, user.created_at) == (None, "other", NOW + timedelta(days=1))
