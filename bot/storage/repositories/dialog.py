"""The state of a user's guided flow (awaiting a journal reply, the scan-date flow, ...)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import DialogStateRow
from bot.storage.records import DialogState
from bot.storage.repositories._common import require_aware, rowcount, upsert, utcnow


def _record(row: DialogStateRow) -> DialogState:
    data = json.loads(row.data)
    return DialogState(
        user_id=row.user_id,
        flow=row.flow,
        step=row.step,
        data=data if isinstance(data, dict) else {},
        updated_at=row.updated_at,
    )


# Read on every private message: built once, since building and keying a statement costs more than running it.
_DIALOG = select(DialogStateRow).where(DialogStateRow.user_id == bindparam("dialog_owner"))


async def get_dialog(session: AsyncSession, user_id: int) -> DialogState | None:
    """Return the user's flow state, or None when no flow is under way."""
    row = await session.scalar(
        _DIALOG, {"dialog_owner": user_id}, execution_options={"populate_existing": True}
    )
    return None if row is None else _record(row)


async def set_dialog(
    session: AsyncSession,
    user_id: int,
    flow: str,
    step: str,
    data: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> DialogState:
    """Start or advance a flow, replacing any earlier state; ``data`` must be JSON-serialisable."""
    if not flow or not step or len(flow) > 32 or len(step) > 32:
        raise ValueError("flow and step must be 1 to 32 characters")
    encoded = json.dumps(data or {}, separators=(",", ":"), sort_keys=True)
    updated_at = require_aware(now, "now") if now is not None else utcnow()
    insert = upsert(session, DialogStateRow).values(
        user_id=user_id, flow=flow, step=step, data=encoded, updated_at=updated_at
    )
    statement = insert.on_conflict_do_update(
        index_elements=[DialogStateRow.user_id],
        set_={
            "flow": insert.excluded.flow,
            "step": insert.excluded.step,
            "data": insert.excluded.data,
            "updated_at": insert.excluded.updated_at,
        },
    ).returning(DialogStateRow)
    row = (await session.scalars(statement, execution_options={"populate_existing": True})).one()
    return _record(row)


async def clear_dialog(session: AsyncSession, user_id: int) -> bool:
    """End the user's flow; return whether one was under way."""
    result = await session.execute(
        delete(DialogStateRow)
        .where(DialogStateRow.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def purge_dialogs_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete flow states last touched before ``cutoff``; return how many."""
    result = await session.execute(
        delete(DialogStateRow)
        .where(DialogStateRow.updated_at < require_aware(cutoff, "cutoff"))
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
