"""Questions the bot could not answer, kept without any link to who asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, distinct, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import UnansweredQuestion
from bot.storage.repositories._common import require_aware, rowcount


async def record_unanswered(
    session: AsyncSession, normalized_text: str, now: datetime, asker_hash: str | None = None
) -> None:
    """Store an unanswered question the caller has already scrubbed of personal details.

    ``asker_hash`` is a keyed hash of the question and its asker whose key the database does not hold:
    it lets /stats count different askers of one question, and names nobody.
    """
    normalized_text = normalized_text.strip()
    if not normalized_text:
        raise ValueError("an unanswered question needs text")
    if asker_hash is not None and not 8 <= len(asker_hash) <= 32:
        raise ValueError("asker_hash must be 8 to 32 characters")
    await session.execute(
        insert(UnansweredQuestion).values(
            normalized_text=normalized_text, created_at=require_aware(now, "now"), asker_hash=asker_hash
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


async def repeated_unanswered(
    session: AsyncSession, since: datetime, min_askers: int = 3, limit: int = 10
) -> list[tuple[str, int]]:
    """Return unanswered questions asked by at least ``min_askers`` different people since ``since``.

    Each comes with how many times it was asked, commonest first; questions without an asker hash
    (recorded before it existed) never count as asked by different people.
    """
    count = func.count().label("count")
    askers = func.count(distinct(UnansweredQuestion.asker_hash))
    statement = (
        select(UnansweredQuestion.normalized_text, count)
        .where(UnansweredQuestion.created_at >= require_aware(since, "since"))
        .group_by(UnansweredQuestion.normalized_text)
        .having(askers >= min_askers)
        .order_by(count.desc(), UnansweredQuestion.normalized_text)
        .limit(limit)
    )
    return [(text, int(n)) for text, n in (await session.execute(statement)).all()]
