"""The database failing under a running bot: a full SQLite disk is reported clearly and loses no answer."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.telegram._context import runtime_of
from tests.e2e.conftest import Harness

ENTRY = "A long private reflection. " * 140  # about 3.8 kB: every entry needs a new page


async def test_a_full_sqlite_disk_is_reported_clearly_and_questions_are_still_answered(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    database = runtime_of(harness.app).database
    if database.dialect != "sqlite":
        pytest.skip("SQLite's own 'database or disk is full'")
    await harness.consent()
    # No free pages left for SQLite to reuse: the next entry must grow the file.
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM")
        pages = int((await connection.execute(text("PRAGMA page_count"))).scalar_one())

    # The disk fills up: SQLite may not grow the file by a single page more (SQLITE_FULL, as on ENOSPC).
    def no_more_pages(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(database.engine.sync_engine, "connect", no_more_pages)
    await database.engine.dispose()  # every connection from now on sees the full disk
    caplog.set_level(logging.INFO)

    cant_save = harness.ui("cant_save")
    replies: list[str] = []
    for _ in range(5):
        await harness.say("/reflect")
        replies.extend(m.text or "" for m in await harness.say(ENTRY))
        if cant_save in replies:
            break
    assert cant_save in replies, replies
    assert not any(r.startswith("Saved to your private journal") for r in replies[replies.index(cant_save) :])
    full = [
        r for r in caplog.records if r.levelno == logging.CRITICAL and "database is full" in r.getMessage()
    ]
    assert full, "the operator was not told the disk is full"
    assert "private reflection" not in caplog.text

    # The journal prompt stays open, so that the entry can be sent again later; questions are still answered.
    await harness.say("cancel")
    answer = await harness.say("what is a dexa scan?")
    assert any("DEXA" in (m.text or "") for m in answer), [m.text for m in answer]
    assert harness.fake.violations == []
