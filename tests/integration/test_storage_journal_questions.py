"""The reflection journal and the list of questions for the care team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import (
    MAX_SAVED_QUESTIONS,
    Database,
    SaveOutcome,
    add_journal_entry,
    add_saved_question,
    clear_saved_questions,
    delete_saved_question,
    get_or_create_user,
    list_journal_entries,
    list_saved_questions,
)

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


async def _users(session: AsyncSession, *ids: int) -> None:
    for user_id in ids:
        await get_or_create_user(session, user_id, user_id * 10, NOW)


async def test_journal_entries_list_newest_first_per_user(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    first = await add_journal_entry(db_session, 1, "worry", "  Scared of the scan.  ", now=NOW)
    second = await add_journal_entry(db_session, 1, "strength", "Walked today.", now=NOW + timedelta(hours=1))
    await add_journal_entry(db_session, 2, "worry", "Someone else's entry", now=NOW)
    assert first.text == "Scared of the scan."
    assert (first.user_id, first.prompt_key, first.created_at) == (1, "worry", NOW)
    assert await list_journal_entries(db_session, 1) == [second, first]
    assert await list_journal_entries(db_session, 1, limit=1) == [second]
    assert await list_journal_entries(db_session, 3) == []


async def test_journal_refuses_empty_text(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    with pytest.raises(ValueError):
        await add_journal_entry(db_session, 1, "worry", "   ")


async def test_journal_entry_needs_an_existing_user(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            await add_journal_entry(session, 404, "worry", "text", now=NOW)


async def test_saved_questions_keep_their_order_and_owner(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    first = await add_saved_question(db_session, 1, "Should I take calcium?", now=NOW)
    second = await add_saved_question(db_session, 1, "When is my next DEXA?", now=NOW + timedelta(minutes=1))
    await add_saved_question(db_session, 2, "Another person's question", now=NOW)
    assert first.outcome is SaveOutcome.ADDED and second.outcome is SaveOutcome.ADDED
    assert first.question is not None and second.question is not None
    assert first.question.text == "Should I take calcium?"
    assert await list_saved_questions(db_session, 1) == [first.question, second.question]


async def test_saving_the_same_question_twice_is_refused(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    added = await add_saved_question(db_session, 1, "Should I take calcium?")
    again = await add_saved_question(db_session, 1, "  should I   take CALCIUM? ")
    assert again.outcome is SaveOutcome.DUPLICATE
    assert again.question == added.question
    # Another user may save the same words.
    assert (await add_saved_question(db_session, 2, "Should I take calcium?")).outcome is SaveOutcome.ADDED
    assert len(await list_saved_questions(db_session, 1)) == 1


async def test_saved_questions_stop_at_the_cap(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    for number in range(MAX_SAVED_QUESTIONS):
        assert (await add_saved_question(db_session, 1, f"question {number}")).outcome is SaveOutcome.ADDED
    full = await add_saved_question(db_session, 1, "one too many")
    assert (full.outcome, full.question) == (SaveOutcome.LIMIT_REACHED, None)
    # A duplicate is still reported as such when the list is full.
    assert (await add_saved_question(db_session, 1, "question 3")).outcome is SaveOutcome.DUPLICATE
    assert len(await list_saved_questions(db_session, 1)) == MAX_SAVED_QUESTIONS


async def test_saving_needs_text_and_a_known_user(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    with pytest.raises(ValueError):
        await add_saved_question(db_session, 1, " \n ")
    with pytest.raises(LookupError):
        await add_saved_question(db_session, 404, "question")


async def test_only_the_owner_deletes_a_question(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    kept = await add_saved_question(db_session, 1, "keep")
    gone = await add_saved_question(db_session, 1, "remove")
    assert kept.question is not None and gone.question is not None
    assert await delete_saved_question(db_session, 2, gone.question.id) is False
    assert await delete_saved_question(db_session, 1, gone.question.id) is True
    assert await delete_saved_question(db_session, 1, gone.question.id) is False
    assert await list_saved_questions(db_session, 1) == [kept.question]


async def test_clear_saved_questions_counts_and_spares_others(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    for text in ("a", "b", "c"):
        await add_saved_question(db_session, 1, text)
    other = await add_saved_question(db_session, 2, "mine")
    assert await clear_saved_questions(db_session, 1) == 3
    assert await clear_saved_questions(db_session, 1) == 0
    assert await list_saved_questions(db_session, 1) == []
    assert await list_saved_questions(db_session, 2) == [other.question]
