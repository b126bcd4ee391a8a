"""The user's list of questions for their care team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import SavedQuestion
from bot.storage.records import SavedQuestionRecord, SaveOutcome, SaveQuestionResult
from bot.storage.repositories._common import require_aware, rowcount, utcnow
from bot.storage.repositories.users import lock_user

MAX_SAVED_QUESTIONS = 50


def _record(row: SavedQuestion) -> SavedQuestionRecord:
    return SavedQuestionRecord(id=row.id, user_id=row.user_id, created_at=row.created_at, text=row.text)


def _same_text_key(text: str) -> str:
    """Return what two questions must share to count as the same: case and spacing do not matter."""
    return " ".join(text.split()).casefold()


async def add_saved_question(
    session: AsyncSession, user_id: int, text: str, *, now: datetime | None = None
) -> SaveQuestionResult:
    """Save a question unless the user already saved it or has ``MAX_SAVED_QUESTIONS`` of them."""
    text = text.strip()
    if not text:
        raise ValueError("a saved question needs text")
    # Serialise adds per user so the duplicate check and the cap hold under concurrent updates.
    if not await lock_user(session, user_id):
        raise LookupError("no such user")
    existing = await list_saved_questions(session, user_id)
    key = _same_text_key(text)
    for question in existing:
        if _same_text_key(question.text) == key:
            return SaveQuestionResult(SaveOutcome.DUPLICATE, question)
    if len(existing) >= MAX_SAVED_QUESTIONS:
        return SaveQuestionResult(SaveOutcome.LIMIT_REACHED, None)
    row = SavedQuestion(
        user_id=user_id, text=text, created_at=require_aware(now, "now") if now is not None else utcnow()
    )
    session.add(row)
    await session.flush()
    return SaveQuestionResult(SaveOutcome.ADDED, _record(row))


async def list_saved_questions(session: AsyncSession, user_id: int) -> list[SavedQuestionRecord]:
    """Return the user's questions in the order they were saved."""
    statement = (
        select(SavedQuestion)
        .where(SavedQuestion.user_id == user_id)
        .order_by(SavedQuestion.created_at, SavedQuestion.id)
    )
    return [_record(row) for row in await session.scalars(statement)]


async def delete_saved_question(session: AsyncSession, user_id: int, question_id: int) -> bool:
    """Delete one of the user's questions; another user's id deletes nothing."""
    result = await session.execute(
        delete(SavedQuestion)
        .where(SavedQuestion.id == question_id, SavedQuestion.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def clear_saved_questions(session: AsyncSession, user_id: int) -> int:
    """Delete all of the user's questions and return how many there were."""
    result = await session.execute(
        delete(SavedQuestion)
        .where(SavedQuestion.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
