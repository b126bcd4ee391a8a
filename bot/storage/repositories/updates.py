"""Update ids replicas have taken, so that an update Telegram delivers twice is handled once."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.storage.models import HandledUpdate
from bot.storage.repositories._common import dialect_name, require_aware, rowcount


@functools.cache
def _take_statement(dialect: str) -> Any:
    """Build the insert once per back end: it runs for every update received."""
    # A Core statement on the table: the ORM's bulk-insert path adds nothing to one row of two columns.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(cast(Table, HandledUpdate.__table__)).on_conflict_do_nothing()


async def take_update(executor: AsyncSession | AsyncConnection, update_id: int, now: datetime) -> bool:
    """Record ``update_id`` as taken; return False if some process (this one or another) took it already.

    ``executor`` is a session, or a bare connection in a transaction (cheaper, for a caller that does
    nothing else in it).
    """
    values = {"update_id": update_id, "handled_at": require_aware(now, "now")}
    dialect = executor.dialect.name if isinstance(executor, AsyncConnection) else dialect_name(executor)
    # One statement: two replicas racing on the same id cannot both see it as new.
    result = await executor.execute(_take_statement(dialect), values)
    return rowcount(result) == 1


async def purge_handled_updates_before(session: AsyncSession, cutoff: datetime) -> int:
    """Forget update ids taken before ``cutoff`` (Telegram stops redelivering after 24 hours)."""
    result = await session.execute(
        delete(HandledUpdate)
        .where(HandledUpdate.handled_at < require_aware(cutoff, "cutoff"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
