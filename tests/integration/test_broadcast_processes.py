"""Broadcasts sent by real `bonebot worker` / `bonebot run` processes: kill -9 and resume, a shared job."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.dispatch._broadcasts import CONCURRENT_SENDS
from bot.storage import Database, get_or_create_user, update_user, upgrade_sync
from bot.storage.models import BroadcastDelivery
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams
from tests.conftest import BACKENDS, fresh_database_url
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below
from tests.integration.test_dispatch_processes import TIMEOUT, Worker, workers

STAFF_CHAT = 5
FIRST_PATIENT = 1000


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield a fresh, migrated database (an SQLite file or a PostgreSQL database) for this test alone."""
    with fresh_database_url(request.param, tmp_path) as fresh:
        upgrade_sync(fresh)
        yield fresh


async def start_broadcast(url: str, patients: int, *, paused: tuple[int, ...] = ()) -> int:
    """Create a team with ``patients`` patients and a confirmed broadcast to all of them; return its id."""
    now = dt.datetime.now(dt.UTC)
    database = Database.connect(url)
    try:
        async with database.session() as session:
            await get_or_create_user(session, STAFF_CHAT, STAFF_CHAT, now)
            team = await teams.create_team(session, "Clinic", STAFF_CHAT, now)
            for user_id in range(FIRST_PATIENT, FIRST_PATIENT + patients):
                await get_or_create_user(session, user_id, user_id, now)
                await teams.add_patient(session, team.id, user_id, now)
            for user_id in paused:
                await update_user(session, user_id, paused=True)
            draft = await bc.create_draft(
                session, team.id, STAFF_CHAT, "The clinic is closed on Friday.", now
            )
            await bc.update_draft(session, draft.id, audience="all")
            await bc.start_broadcast(session, draft.id, now, now.date(), STAFF_CHAT, None)
        return draft.id
    finally:
        await database.dispose()


async def statuses(url: str) -> Counter[str]:
    database = Database.connect(url)
    try:
        async with database.session() as session:
            rows = await session.execute(
                select(BroadcastDelivery.status, func.count()).group_by(BroadcastDelivery.status)
            )
            return Counter({status: int(n) for status, n in rows.all()})
    finally:
        await database.dispose()


async def sent_users(url: str) -> set[int]:
    database = Database.connect(url)
    try:
        async with database.session() as session:
            rows = await session.scalars(
                select(BroadcastDelivery.user_id).where(BroadcastDelivery.status == "sent")
            )
            return set(rows.all())
    finally:
        await database.dispose()


async def wait_until_settled(url: str, total: int, running: list[Worker]) -> Counter[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT * 2
    while True:
        counts = await statuses(url)
        if sum(counts.values()) == total and counts["pending"] == 0 and counts["claimed"] == 0:
            return counts
        if loop.time() > deadline:
            logs = "\n".join(w.log.read_text(errors="replace")[-3000:] for w in running)
            pytest.fail(f"the broadcast did not finish: {dict(counts)}\n{logs}")
        await asyncio.sleep(0.2)


def patient_messages(fake: FakeBotApi) -> Counter[int]:
    """Return how many broadcast messages the fake accepted per patient chat."""
    return Counter(
        int(r.chat_id) for r in fake.calls("sendMessage") if r.ok and int(r.chat_id) >= FIRST_PATIENT
    )


async def test_two_processes_share_one_job_and_send_each_message_once(
    url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    patients = 150
    async with workers(0, url, fake_bot_api, tmp_path, commands=("run", "worker")) as running:
        await start_broadcast(url, patients, paused=(FIRST_PATIENT,))
        counts = await wait_until_settled(url, patients, running)
        await fake_bot_api.wait_for("sendMessage", chat_id=STAFF_CHAT, timeout=TIMEOUT)
        await fake_bot_api.settle(timeout=10)
    assert counts == Counter({"sent": patients - 1, "skipped": 1})
    per_chat = patient_messages(fake_bot_api)
    assert sorted(per_chat) == list(range(FIRST_PATIENT + 1, FIRST_PATIENT + patients))  # paused: none
    assert max(per_chat.values()) == 1
    shares = [sum(int(n) for n in _claims(w)) for w in running]
    assert sum(shares) == patients  # every delivery claimed once: no lease expired, none taken twice
    assert all(share > 0 for share in shares), f"the processes did not share the job: {shares}"
    (report,) = [r for r in fake_bot_api.calls("sendMessage") if r.chat_id == STAFF_CHAT]
    assert "Delivered: 149" in str(report.params["text"]) and "Skipped" in str(report.params["text"])


def _claims(worker: Worker) -> list[str]:
    return re.findall(r"broadcast tick: claimed=(\d+)", worker.log.read_text(errors="replace"))


async def test_a_broadcast_killed_midway_completes_after_restart(
    url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    patients = 200
    fake.set_delay(0.2, method="sendMessage")  # keep sends in flight when the worker dies
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    lease = {"BONEBOT_LEASE_SECONDS": "2"}
    async with workers(1, url, fake, tmp_path / "before", **lease) as (victim,):
        mark = fake.mark()
        await start_broadcast(url, patients)
        await fake.wait_for("sendMessage", count=60, since=mark, timeout=TIMEOUT)
        victim.process.send_signal(signal.SIGKILL)  # kill -9: nothing recorded, nothing cleaned up
        await victim.process.wait()
        await fake.settle(timeout=10)
    # Accepted by Telegram but recorded by nobody: the only messages that may go out twice.
    unrecorded = set(patient_messages(fake)) - await sent_users(url)
    before = await statuses(url)
    assert before["sent"] < patients
    fake.set_delay(0.0, method="sendMessage")
    async with workers(1, url, fake, tmp_path / "after", **lease) as restarted:
        counts = await wait_until_settled(url, patients, restarted)
        await fake.settle(timeout=10)
    assert counts == Counter({"sent": patients})
    per_chat = patient_messages(fake)
    assert sorted(per_chat) == list(range(FIRST_PATIENT, FIRST_PATIENT + patients))  # none lost
    twice = {chat for chat, n in per_chat.items() if n > 1}
    assert max(per_chat.values()) <= 2
    assert twice <= unrecorded  # only messages in flight at the crash were repeated
    assert len(twice) <= CONCURRENT_SENDS
