"""Claiming due reminders: leases, tokens, concurrency and the query plans."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import (
    Database,
    claim_due_reminders,
    create_scan,
    get_or_create_user,
    list_reminders,
    mark_reminder,
    mark_reminder_sent,
    release_reminder,
    update_user,
)
from bot.storage.models import Reminder
from bot.storage.repositories.dispatch import (
    expired_claims_query,
    pending_due_query,
    postgresql_claim_statement,
)

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


async def _scan_with(session: AsyncSession, user_id: int, due_offsets_minutes: list[int]) -> int:
    await get_or_create_user(session, user_id, user_id * 10, NOW - timedelta(days=30))
    reminders = [("snooze", None, NOW + timedelta(minutes=offset)) for offset in due_offsets_minutes]
    scan = await create_scan(session, user_id, date(2027, 3, 15), time(14, 0), "Europe/Berlin", reminders)
    return scan.id


async def test_only_due_reminders_are_claimed_earliest_first(db_session: AsyncSession) -> None:
    scan_id = await _scan_with(db_session, 1, [5, -1, -30, 0, 60])
    claimed = await claim_due_reminders(db_session, NOW, 120, 10)
    assert [c.due_at for c in claimed] == [NOW - timedelta(minutes=30), NOW - timedelta(minutes=1), NOW]
    first = claimed[0]
    assert (first.kind, first.lead_days, first.attempts, first.lease_until) == (
        "snooze",
        None,
        1,
        NOW + timedelta(seconds=120),
    )
    assert (first.user_id, first.chat_id, first.scan_id, first.scan_status) == (1, 10, scan_id, "upcoming")
    assert (first.scan_date, first.scan_time, first.timezone) == (
        date(2027, 3, 15),
        time(14, 0),
        "Europe/Berlin",
    )
    assert (first.paused, first.reminders_enabled, first.blocked) == (False, True, False)
    assert first.claim_token
    statuses = {r.due_at: r.status for r in await list_reminders(db_session, 1, None)}
    assert sorted(statuses.values()) == ["claimed", "claimed", "claimed", "pending", "pending"]
    assert await claim_due_reminders(db_session, NOW, 120, 10) == []


async def test_claim_respects_the_limit(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [-5, -4, -3, -2, -1])
    first = await claim_due_reminders(db_session, NOW, 60, 2)
    second = await claim_due_reminders(db_session, NOW, 60, 2)
    third = await claim_due_reminders(db_session, NOW, 60, 2)
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    ids = [c.reminder_id for c in first + second + third]
    assert len(set(ids)) == 5
    assert [c.due_at for c in first + second + third] == sorted(c.due_at for c in first + second + third)


async def test_claim_carries_the_users_current_flags(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [-1])
    await update_user(db_session, 1, paused=True, reminders_enabled=False)
    (claimed,) = await claim_due_reminders(db_session, NOW, 60, 10)
    assert (claimed.paused, claimed.reminders_enabled, claimed.blocked) == (True, False, False)


async def test_an_expired_lease_is_claimed_again_and_the_old_token_loses(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [0])
    (first,) = await claim_due_reminders(db_session, NOW, 60, 10)
    assert await claim_due_reminders(db_session, NOW + timedelta(seconds=59), 60, 10) == []
    (second,) = await claim_due_reminders(db_session, first.lease_until, 60, 10)
    assert second.reminder_id == first.reminder_id
    assert second.claim_token != first.claim_token
    assert second.attempts == 2
    assert await mark_reminder_sent(db_session, first.reminder_id, first.claim_token, NOW) is False
    sent_at = NOW + timedelta(seconds=61)
    assert await mark_reminder_sent(db_session, second.reminder_id, second.claim_token, sent_at) is True
    assert await mark_reminder_sent(db_session, second.reminder_id, second.claim_token, sent_at) is False
    (stored,) = await list_reminders(db_session, 1, ["sent"])
    assert (stored.sent_at, stored.attempts) == (sent_at, 2)
    assert await claim_due_reminders(db_session, NOW + timedelta(days=1), 60, 10) == []


async def test_stale_claims_come_before_pending_reminders(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [-10])
    (stale,) = await claim_due_reminders(db_session, NOW, 60, 10)
    await _scan_with(db_session, 2, [-20, -15])
    (picked,) = await claim_due_reminders(db_session, NOW + timedelta(minutes=5), 60, 1)
    assert picked.reminder_id == stale.reminder_id


async def test_mark_reminder_closes_a_claim_with_an_error_code(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [-2, -1])
    first, second = await claim_due_reminders(db_session, NOW, 60, 10)
    assert await mark_reminder(db_session, first.reminder_id, "not-the-token", "failed", "forbidden") is False
    assert (
        await mark_reminder(db_session, first.reminder_id, first.claim_token, "failed", "forbidden") is True
    )
    assert await mark_reminder(db_session, second.reminder_id, second.claim_token, "missed") is True
    stored = {r.id: (r.status, r.last_error) for r in await list_reminders(db_session, 1, None)}
    assert stored == {first.reminder_id: ("failed", "forbidden"), second.reminder_id: ("missed", None)}
    assert await claim_due_reminders(db_session, NOW + timedelta(days=1), 60, 10) == []


async def test_mark_reminder_refuses_bad_statuses_and_message_text(db_session: AsyncSession) -> None:
    with pytest.raises(ValueError):
        await mark_reminder(db_session, 1, "token", "sent")
    with pytest.raises(ValueError):
        await mark_reminder(db_session, 1, "token", "failed", "Forbidden: bot was blocked by the user")


async def test_release_puts_a_reminder_back_for_later(db_session: AsyncSession) -> None:
    await _scan_with(db_session, 1, [0])
    (claimed,) = await claim_due_reminders(db_session, NOW, 60, 10)
    retry_at = NOW + timedelta(seconds=30)
    assert await release_reminder(db_session, claimed.reminder_id, "wrong", retry_at) is False
    assert await release_reminder(
        db_session, claimed.reminder_id, claimed.claim_token, retry_at, "retry_after"
    )
    (pending,) = await list_reminders(db_session, 1)
    assert (pending.due_at, pending.status, pending.last_error) == (retry_at, "pending", "retry_after")
    assert await claim_due_reminders(db_session, NOW + timedelta(seconds=29), 60, 10) == []
    (again,) = await claim_due_reminders(db_session, retry_at, 60, 10)
    assert (again.reminder_id, again.attempts) == (claimed.reminder_id, 2)
    # The released token is dead even though the reminder is claimed again.
    assert await mark_reminder_sent(db_session, claimed.reminder_id, claimed.claim_token, NOW) is False


async def test_claim_checks_its_arguments(db_session: AsyncSession) -> None:
    with pytest.raises(ValueError):
        await claim_due_reminders(db_session, NOW, 60, 0)
    with pytest.raises(ValueError):
        await claim_due_reminders(db_session, datetime(2027, 3, 10, 9, 0), 60, 10)


async def test_two_dispatchers_never_claim_the_same_reminder(database: Database) -> None:
    async with database.session() as session:
        for user_id in range(1, 5):
            await _scan_with(session, user_id, [-offset for offset in range(50)])
        expected = sorted(r.id for r in await list_reminders(session, 1) + await list_reminders(session, 2))
        expected += sorted(r.id for r in await list_reminders(session, 3) + await list_reminders(session, 4))
        expected.sort()
    assert len(expected) == 200
    url = database.engine.url.render_as_string(hide_password=False)
    engines = [Database.connect(url), Database.connect(url)]

    async def dispatcher(db: Database) -> list[int]:
        claimed: list[int] = []
        while True:
            async with db.session() as session:
                batch = await claim_due_reminders(session, NOW, 300, 7)
                # Keep the transaction open so the other dispatcher claims meanwhile.
                await asyncio.sleep(0.001)
            if not batch:
                return claimed
            claimed.extend(item.reminder_id for item in batch)

    try:
        first, second = await asyncio.gather(*(dispatcher(db) for db in engines))
    finally:
        for db in engines:
            await db.dispose()
    if database.dialect == "postgresql":
        # SKIP LOCKED never blocks, so both took part and the claims really interleaved. (SQLite serialises
        # writers: one dispatcher may legitimately wait out the whole run behind the other.)
        assert first and second
    assert not set(first) & set(second)
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert sorted(first + second) == expected


def _sql_literal(value: object) -> str:
    if isinstance(value, datetime):
        return f"'{value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _sqlite_plan(database: Database, statement: Any) -> str:
    """EXPLAIN QUERY PLAN the statement with ``?`` placeholders, as the driver prepares it."""
    compiled = statement.compile(dialect=database.engine.dialect)
    params = compiled.construct_params()
    values = tuple(
        str(params[name]) if isinstance(params[name], datetime) else params[name]
        for name in compiled.positiontup or ()
    )
    async with database.engine.connect() as connection:
        rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", values)).all()
    return "\n".join(str(row[-1]) for row in rows)


async def _postgres_plan(database: Database, statement: Any, plan_cache_mode: str) -> str:
    """Prepare the statement as the driver sends it, then EXPLAIN one execution of it."""
    compiled = statement.compile(dialect=database.engine.dialect)
    params = compiled.construct_params()
    values = ", ".join(_sql_literal(params[name]) for name in compiled.positiontup or ())
    async with database.engine.connect() as connection:
        await connection.exec_driver_sql(f"SET LOCAL plan_cache_mode = {plan_cache_mode}")
        await connection.exec_driver_sql(f"PREPARE claim_plan AS {compiled.string}")
        rows = (await connection.exec_driver_sql(f"EXPLAIN EXECUTE claim_plan({values})")).all()
        # Prepared statements outlive transactions; the pooled connection must not keep this one.
        await connection.exec_driver_sql("DEALLOCATE claim_plan")
        await connection.rollback()
    return "\n".join(str(row[0]) for row in rows)


async def test_the_claim_reads_partial_indexes_not_the_whole_table(database: Database) -> None:
    async with database.session() as session:
        scan_id = await _scan_with(session, 1, [])
        finished = [
            {
                "scan_id": scan_id,
                "user_id": 1,
                "kind": "snooze",
                "due_at": NOW - timedelta(minutes=i),
                "status": "sent",
            }
            for i in range(5000)
        ]
        await session.execute(insert(Reminder), finished)
        await _scan_with(session, 2, [-3, -2, -1])
        await claim_due_reminders(session, NOW - timedelta(minutes=10), 60, 10)
        await _scan_with(session, 3, [-3, -2, -1])
    async with database.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    lease_until = NOW + timedelta(minutes=1)
    for query, index in (
        (pending_due_query, "ix_reminders_pending_due_at"),
        (expired_claims_query, "ix_reminders_claimed_lease_until"),
    ):
        if database.dialect == "postgresql":
            statement = postgresql_claim_statement(query(NOW, 50), "token", lease_until)
            # A generic plan knows no parameter values: only literal status predicates keep the index usable.
            for mode in ("force_custom_plan", "force_generic_plan"):
                plan = await _postgres_plan(database, statement, mode)
                assert index in plan, plan
                assert "Seq Scan on reminders" not in plan, plan
                # Read in order and cut by LIMIT: no sort of every due row.
                assert "Sort" not in plan, plan
        else:
            plan = await _sqlite_plan(database, query(NOW, 50))
            assert f"USING INDEX {index}" in plan, plan
            assert "SCAN reminders" not in plan, plan
            assert "TEMP B-TREE" not in plan, plan
