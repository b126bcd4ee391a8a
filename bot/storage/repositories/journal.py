"""The private reflection journal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import JournalEntry
from bot.storage.records import JournalEntryRecord
from bot.storage.repositories._common import require_aware, utcnow


def _record(row: JournalEntry) -> JournalEntryRecord:
    return JournalEntryRecord(
        id=row.id, user_id=row.user_id, created_at=row.created_at, prompt_key=row.prompt_key, text=row.text
    )


async def add_journal_entry(
    session: AsyncSession, user_id: int, prompt_key: str, text: str, *, now: datetime | None = None
) -> JournalEntryRecord:
    """Save a reply to the reflection prompt ``prompt_key``."""
    text = text.strip()
    if not text:
        raise ValueError("a journal entry needs text")
    if not prompt_key or len(prompt_key) > 64:
        raise ValueError("prompt_key must be 1 to 64 characters")
    row = JournalEntry(
        user_id=user_id,
        prompt_key=prompt_key,
        text=text,
        created_at=require_aware(now, "now") if now is not None else utcnow(),
    )
    session.add(row)
    await session.flush()
    return _record(row)


async def list_journal_entries(
    session: AsyncSession, user_id: int, *, limit: int | None = None
) -> list[JournalEntryRecord]:
    """Return the user's entries, newest first, at most ``limit`` of them."""
    statement = (
        select(JournalEntry)
        .where(JournalEntry.user_id == user_id)
        .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in await session.scalars(statement)]
