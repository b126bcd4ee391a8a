"""Several `bonebot worker` processes on one PostgreSQL database, sending to the fake Bot API.

PostgreSQL only (SQLite is one process's database): skipped unless TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot.dispatch import LEASE_SECONDS, ReminderDispatcher
from bot.dispatch._reminders import CONCURRENT_SENDS
from bot.domain import load_domain
from bot.settings import Settings
from bot.storage import Database, upgrade_sync
from bot.storage import repositories as repo
from bot.storage.models import Reminder
from bot.telegram._sender import telegram_send
from tests.conftest import fresh_postgres_database, postgres_server_url
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
REMINDERS = 200
WORKERS = 3
# A batch (100) for each worker, so that the one killed is always in the middle of one.
KILL_REMINDERS = 300
TIMEOUT = 60.0
_CLAIMED = re.compile(r"dispatch tick: claimed=(\d+) sent=(\d+)")
# Once the bot reads a lease setting, the workers recover a dead worker's claims themselves.
LEASE_SETTING = "lease_seconds" in getattr(Settings, "__dataclass_fields__", {})


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield a fresh, migrated PostgreSQL database for this test alone."""
    with fresh_postgres_database(postgres_server_url()) as url:
        upgrade_sync(url)
        yield url


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log: Path

    def running(self) -> bool:
        """Tell whether the worker's dispatcher loop has started (it says so at INFO)."""
        return "reminder dispatcher running" in self.log.read_text(errors="replace")

    def claims(self) -> int:
        """Return how many reminders this worker claimed, from its INFO log."""
        return sum(int(m.group(1)) for m in _CLAIMED.finditer(self.log.read_text(errors="replace")))


@asynccontextmanager
async def workers(
    count: int, url: str, fake: FakeBotApi, folder: Path, *, commands: tuple[str, ...] = (), **extra_env: str
) -> AsyncIterator[list[Worker]]:
    """Run ``count`` `bonebot worker` processes (or ``commands``) against ``url`` and the fake; stop them after."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": url,
        "BONEBOT_DISPATCH_INTERVAL": "0.2",
        **extra_env,
    }
    started: list[Worker] = []
    try:
        for index, command in enumerate(commands or ("worker",) * count):
            log = folder / f"{command}-{index}.log"
            with log.open("wb") as sink:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", command, cwd=ROOT, env=env, stdout=sink, stderr=sink
                )
            started.append(Worker(process, log))
        # Wait until every worker's dispatcher loop runs, so that they race from the first reminder on.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not all(w.running() for w in started):
            if loop.time() > deadline or any(w.process.returncode is not None for w in started):
                logs = "\n".join(w.log.read_text(errors="replace")[-2000:] for w in started)
                pytest.fail(f"the workers did not start:\n{logs}")
            await asyncio.sleep(0.1)
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                await asyncio.wait_for(worker.process.wait(), 15)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()


async def insert_due_reminders(url: str, count: int) -> None:
    """Create ``count`` users, each with a scan and one reminder due a minute ago, in one transaction."""
    now = dt.datetime.now(dt.UTC)
    database = Database.connect(url)
    try:
        async with database.session() as session:
            for user_id in range(1, count + 1):
                await repo.get_or_create_user(session, user_id, user_id, now - dt.timedelta(days=1))
                due = now - dt.timedelta(minutes=1, seconds=user_id)
                await repo.create_scan(
                    session, user_id, dt.date.today() + dt.timedelta(days=7), None, "UTC", [("lead", 7, due)]
                )
    finally:
        await database.dispose()


async def count_by_status(url: str) -> Counter[str]:
    database = Database.connect(url)
    try:
        async with database.session() as session:
            rows = await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
            return Counter({status: int(n) for status, n in rows.all()})
    finally:
        await database.dispose()


async def wait_for_statuses(url: str, done: Any, workers: list[Worker], why: str) -> Counter[str]:
    """Poll the database until ``done(counts)`` holds; fail with the workers' logs after TIMEOUT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        counts = await count_by_status(url)
        if done(counts):
            return counts
        if loop.time() > deadline:
            logs = "\n".join(w.log.read_text(errors="replace")[-2000:] for w in workers)
            pytest.fail(f"timed out waiting until {why}: {dict(counts)}\n{logs}")
        await asyncio.sleep(0.2)


def delivered(fake: FakeBotApi) -> Counter[int]:
    """Return how many sendMessage calls the fake accepted per chat."""
    return Counter(int(r.chat_id) for r in fake.calls("sendMessage") if r.ok)


async def deliver_all_exactly_once(
    url: str, fake: FakeBotApi, folder: Path, commands: tuple[str, ...]
) -> list[Worker]:
    """Run ``commands`` until REMINDERS due reminders are sent; check none was lost or sent twice."""
    async with workers(0, url, fake, folder, commands=commands) as running:
        await insert_due_reminders(url, REMINDERS)
        await wait_for_statuses(url, lambda c: c["sent"] == REMINDERS, running, f"all {REMINDERS} are sent")
        await fake.settle(timeout=10)
    per_chat = delivered(fake)
    assert sorted(per_chat) == list(range(1, REMINDERS + 1))  # none lost
    assert {chat: n for chat, n in per_chat.items() if n > 1} == {}  # none twice
    assert all(w.process.returncode == 0 for w in running)  # SIGTERM stops each process cleanly
    assert sum(w.claims() for w in running) == REMINDERS  # no claim was ever taken twice
    return running


async def test_workers_deliver_every_reminder_exactly_once(
    postgres_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    running = await deliver_all_exactly_once(postgres_url, fake_bot_api, tmp_path, ("worker",) * WORKERS)
    claims = [w.claims() for w in running]
    assert sum(1 for n in claims if n > 0) >= 2, f"the workers did not share the work: {claims}"


async def test_run_and_worker_together_deliver_every_reminder_exactly_once(
    postgres_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    # `bonebot run` polls for updates and dispatches; `bonebot worker` only dispatches. On one PostgreSQL
    # they share the reminders between them.
    await deliver_all_exactly_once(postgres_url, fake_bot_api, tmp_path, ("run", "worker"))
    assert fake_bot_api.calls("getUpdates"), "bonebot run did not poll for updates"


async def chats_with_status(url: str, status: str) -> set[int]:
    """Return the chats whose reminder the database records in ``status`` (chat id = user id here)."""
    database = Database.connect(url)
    try:
        async with database.session() as session:
            rows = await session.scalars(select(Reminder.user_id).where(Reminder.status == status))
            return set(rows.all())
    finally:
        await database.dispose()


async def test_killed_worker_loses_nothing_and_repeats_only_unrecorded_sends(
    postgres_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    fake.set_delay(0.3, method="sendMessage")  # keep sends in flight when the worker dies
    extra = {"BONEBOT_LEASE_SECONDS": "3"} if LEASE_SETTING else {}
    async with workers(WORKERS, postgres_url, fake, tmp_path, **extra) as running:
        victim, survivors = running[0], running[1:]
        mark = fake.mark()
        await insert_due_reminders(postgres_url, KILL_REMINDERS)
        await fake.wait_for("sendMessage", count=30, since=mark, timeout=TIMEOUT)
        # Freeze the survivors so that the moment of the crash can be photographed.
        for worker in survivors:
            worker.process.send_signal(signal.SIGSTOP)
        victim.process.send_signal(signal.SIGKILL)
        await victim.process.wait()
        await fake.settle(timeout=10)  # the fake answers every request it had already received
        # Accepted by Telegram but recorded by nobody: the only messages that may go out twice.
        unrecorded = set(delivered(fake)) - await chats_with_status(postgres_url, "sent")
        for worker in survivors:
            worker.process.send_signal(signal.SIGCONT)

        if LEASE_SETTING:
            await wait_for_statuses(
                postgres_url, lambda c: c["sent"] == KILL_REMINDERS, running, "the survivors sent everything"
            )
            dead_in_flight = None
        else:
            # Everything but the dead worker's claims goes out; those wait for its 120 s lease.
            await wait_for_statuses(postgres_url, lambda c: c["pending"] == 0, running, "nothing is pending")
            # Stop the survivors (a clean stop records every send they began) so that what is still
            # claimed is exactly the dead worker's share.
            for worker in survivors:
                worker.process.send_signal(signal.SIGTERM)
            for worker in survivors:
                assert await asyncio.wait_for(worker.process.wait(), 15) == 0
            await fake.settle(timeout=20)
            stranded = await chats_with_status(postgres_url, "claimed")
            assert stranded and stranded <= set(range(1, KILL_REMINDERS + 1))
            dead_in_flight = stranded & set(delivered(fake))
            await recover_after_the_lease(postgres_url, fake)
        await fake.settle(timeout=20)

    assert await count_by_status(postgres_url) == Counter({"sent": KILL_REMINDERS})
    per_chat = delivered(fake)
    assert sorted(per_chat) == list(range(1, KILL_REMINDERS + 1))  # at least once: nothing lost
    twice = {chat for chat, n in per_chat.items() if n > 1}
    assert max(per_chat.values()) <= 2
    assert twice <= unrecorded, twice - unrecorded
    # A worker holds a send slot until the outcome is recorded, so it can die owing at most this many.
    assert len(twice) <= CONCURRENT_SENDS
    if dead_in_flight is not None:
        # Exactly the dead worker's accepted-but-unrecorded messages were repeated, and nothing else.
        assert twice == dead_in_flight


async def recover_after_the_lease(url: str, fake: FakeBotApi) -> None:
    """Play a surviving worker once the dead one's lease (LEASE_SECONDS) has run out.

    The workers' lease cannot be shortened yet (no BONEBOT_LEASE_SECONDS), so instead of waiting two
    minutes this dispatcher's clock runs that far ahead: to the database it is the same moment.
    """

    def later() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEASE_SECONDS + 5)

    database = Database.connect(url)
    bot = ExtBot(TEST_TOKEN, base_url=fake.base_url, defaults=Defaults(parse_mode=ParseMode.HTML))
    try:
        async with bot:
            dispatcher = ReminderDispatcher(database, load_domain().renderer, telegram_send(bot), later)
            while (await dispatcher.dispatch_due_reminders()).claimed:
                pass
    finally:
        await database.dispose()


async def test_reminder_set_before_kill_9_arrives_once_after_restart(
    postgres_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    now = dt.datetime.now(dt.UTC)
    due = now + dt.timedelta(seconds=10)
    database = Database.connect(postgres_url)
    try:
        async with database.session() as session:
            await repo.get_or_create_user(session, 1, 1, now)
            await repo.create_scan(
                session, 1, due.date() + dt.timedelta(days=1), None, "UTC", [("lead", 1, due)]
            )
    finally:
        await database.dispose()
    (tmp_path / "before").mkdir()
    async with workers(1, postgres_url, fake_bot_api, tmp_path / "before") as (first,):
        first.process.kill()  # kill -9: no cleanup, nothing flushed
        await first.process.wait()
    assert fake_bot_api.calls("sendMessage") == []
    (tmp_path / "after").mkdir()
    async with workers(1, postgres_url, fake_bot_api, tmp_path / "after") as restarted:
        await wait_for_statuses(postgres_url, lambda c: c["sent"] == 1, restarted, "the reminder is sent")
        await fake_bot_api.settle(timeout=10)
    assert delivered(fake_bot_api) == Counter({1: 1})
    (sent,) = fake_bot_api.calls("sendMessage")
    assert "tomorrow" in str(sent.params["text"])
