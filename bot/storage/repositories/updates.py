"""Update ids replicas have taken, so that an update Telegram delivers twice is handled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import HandledUpdate
from bot.storage.repositories._common import dialect_name, require_aware, rowcount


async def take_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record ``update_id`` as taken; return False if some process (this one or another) took it already."""
    values = {"update_id": update_id, "handled_at": require_aware(now, "now")}
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    # One statement: two replicas racing on the same id cannot both see it as new.
    result = await session.execute(insert(HandledUpdate).values(**values).on_conflict_do_nothing())
    return rowcount(result) == 1


async def purge_handled_updates_before(session: AsyncSession, cutoff: datetime) -> int:
    """Forget update ids taken before ``cutoff`` (Telegram stops redelivering after 24 hours)."""
    result = await session.execute(
        delete(HandledUpdate)
        .where(HandledUpdate.handled_at < require_aware(cutoff, "cutoff"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
