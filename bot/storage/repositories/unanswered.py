"""Questions the bot could not answer, kept without any link to who asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import UnansweredQuestion
from bot.storage.repositories._common import require_aware, rowcount


async def record_unanswered(session: AsyncSession, normalized_text: str, now: datetime) -> None:
    """Store an unanswered question the caller has already scrubbed of personal details."""
    normalized_text = normalized_text.strip()
    if not normalized_text:
        raise ValueError("an unanswered question needs text")
    await session.execute(
        insert(UnansweredQuestion).values(
            normalized_text=normalized_text, created_at=require_aware(now, "now")
        )
    )


async def purge_unanswered_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete unanswered questions recorded before ``cutoff``; return how many."""
    result = await session.execute(
        delete(UnansweredQuestion)
        .where(UnansweredQuestion.created_at < require_aware(cutoff, "cutoff"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def top_unanswered(session: AsyncSession, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    """Return the most frequent unanswered questions since ``since`` with their counts, commonest first."""
    count = func.count().label("count")
    statement = (
        select(UnansweredQuestion.normalized_text, count)
        .where(UnansweredQuestion.created_at >= require_aware(since, "since"))
        .group_by(UnansweredQuestion.normalized_text)
        .order_by(count.desc(), UnansweredQuestion.normalized_text)
        .limit(limit)
    )
    return [(text, int(n)) for text, n in (await session.execute(statement)).all()]
