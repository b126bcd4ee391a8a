"""Two `bonebot run --webhook` replicas on one PostgreSQL: any update on either, redeliveries handled once.

PostgreSQL only (replicas share one database server): skipped unless TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.dispatch._reminders import CONCURRENT_SENDS
from bot.storage import Database
from bot.storage import repositories as repo
from bot.telegram.webhook import SECRET_HEADER
from tests.factories import make_callback_update, make_message_update, make_user
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below
from tests.integration.test_dispatch_processes import (  # noqa: F401 - postgres_url is a fixture
    chats_with_status,
    count_by_status,
    delivered,
    insert_due_reminders,
    postgres_url,
)
from tests.processes import BotProcess, bot_env, bot_process, free_port

pytestmark = pytest.mark.postgres

SECRET = "replica-webhook-secret"
USERS = 20
_update_ids = itertools.count(1000)


@asynccontextmanager
async def replicas(count: int, url: str, fake: FakeBotApi, folder: Path) -> AsyncIterator[list[BotProcess]]:
    """Run ``count`` webhook replicas on ``url``, each on its own port, and wait until each is healthy."""
    async with AsyncExitStack() as stack:
        running = []
        for index in range(count):
            port = free_port()
            env = bot_env(
                fake,
                url,
                BONEBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
                BONEBOT_WEBHOOK_SECRET=SECRET,
            )
            running.append(
                await stack.enter_async_context(
                    bot_process(("run", "--webhook"), env, folder / f"replica-{index}.log", port=port)
                )
            )
        await asyncio.gather(*(replica.wait_healthy() for replica in running))
        yield running


async def post(session: aiohttp.ClientSession, replica: BotProcess, update: dict[str, Any]) -> int:
    async with session.post(
        replica.url + "/telegram", json=update, headers={SECRET_HEADER: SECRET}
    ) as response:
        return response.status


def numbered(update: dict[str, Any]) -> dict[str, Any]:
    update["update_id"] = next(_update_ids)
    return update


def redelivered(metrics: str) -> float:
    match = re.search(r"^bonebot_updates_redelivered_total (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_an_update_delivered_to_both_replicas_is_answered_once(
    postgres_url: str,  # noqa: F811
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    async with (
        replicas(2, postgres_url, fake, tmp_path) as (first, second),
        aiohttp.ClientSession() as session,
    ):
        # One delivery, for the number of messages one answer takes.
        control = make_user(990000, "Control")
        update = numbered(make_message_update("what is a dexa scan?", control))
        fake.expect_update(update)
        assert await post(session, first, update) == 200
        await fake.wait_for("sendMessage", chat_id=control["id"], timeout=20)
        await fake.settle(timeout=10)
        per_answer = len(fake.messages_to(control["id"]))

        users = [make_user(990001 + n, "Rep") for n in range(USERS)]
        updates = [numbered(make_message_update("what is a dexa scan?", user)) for user in users]
        for update in updates:
            fake.expect_update(update)
        # Telegram redelivering each update to the other replica while the first is still answering.
        statuses = await asyncio.gather(
            *(post(session, replica, update) for update in updates for replica in (first, second))
        )
        assert set(statuses) == {200}
        for user in users:
            await fake.wait_for("sendMessage", chat_id=user["id"], timeout=20)
        await fake.settle(timeout=10)
        metrics = [await replica.get("/metrics") for replica in (first, second)]

    assert {user["id"]: len(fake.messages_to(user["id"])) for user in users} == {
        user["id"]: per_answer for user in users
    }
    assert sum(redelivered(body) for _, body in metrics) == USERS


async def test_a_flow_started_on_one_replica_continues_on_the_other(
    postgres_url: str,  # noqa: F811
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    user = make_user(991000, "Flow")

    async def say(replica: BotProcess, update: dict[str, Any]) -> None:
        if "message" in update:  # follow the chat's numbering, as Telegram does
            history = fake.history(user["id"], include_deleted=True)
            update["message"]["message_id"] = max((m.message_id for m in history), default=0) + 1
        mark = len(fake.messages_to(user["id"]))
        fake.expect_update(update)
        assert await post(session, replica, update) == 200
        await fake.wait_until(lambda: len(fake.messages_to(user["id"])) > mark, timeout=20)
        await fake.settle(timeout=10)

    async with (
        replicas(2, postgres_url, fake, tmp_path) as (first, second),
        aiohttp.ClientSession() as session,
    ):
        await say(first, numbered(make_message_update("/start", user)))
        welcome = next(m for m in fake.messages_to(user["id"]) if m.buttons)
        data = welcome.button("Yes, save what I choose")["callback_data"]
        await say(second, numbered(make_callback_update(data, welcome.payload, user)))
        await say(first, numbered(make_message_update("/timezone", user)))
        await say(second, numbered(make_message_update("Europe/London", user)))

    database = Database.connect(postgres_url)
    try:
        async with database.session() as session_:
            stored = await repo.get_user(session_, user["id"])
    finally:
        await database.dispose()
    assert stored is not None and (stored.consent, stored.timezone) == (True, "Europe/London")
    assert "Europe/London" in str(fake.messages_to(user["id"])[-1].text)
    assert Counter(r.method for r in fake.requests if not r.ok and r.method != "getUpdates") == Counter()


async def test_kill_9_of_one_replica_mid_dispatch_loses_nothing_and_repeats_only_unrecorded_sends(
    postgres_url: str,  # noqa: F811
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    total = 200
    fake.set_delay(0.3, method="sendMessage")  # keep sends in flight when the replica dies
    async with AsyncExitStack() as stack:
        running = []
        for index in range(2):
            port = free_port()
            env = bot_env(
                fake,
                postgres_url,
                BONEBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
                BONEBOT_WEBHOOK_SECRET=SECRET,
                BONEBOT_LEASE_SECONDS="3",
            )
            running.append(
                await stack.enter_async_context(
                    bot_process(("run", "--webhook"), env, tmp_path / f"replica-{index}.log", port=port)
                )
            )
        victim, survivor = running
        await asyncio.gather(victim.wait_healthy(), survivor.wait_healthy())
        mark = fake.mark()
        await insert_due_reminders(postgres_url, total)
        await fake.wait_for("sendMessage", count=30, since=mark, timeout=60)
        survivor.process.send_signal(signal.SIGSTOP)  # freeze it, to photograph the moment of the crash
        victim.process.kill()
        await victim.process.wait()
        await fake.settle(timeout=10)
        unrecorded = set(delivered(fake)) - await chats_with_status(postgres_url, "sent")
        survivor.process.send_signal(signal.SIGCONT)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while (await count_by_status(postgres_url))["sent"] < total:
            assert loop.time() < deadline, survivor.output()[-3000:]
            await asyncio.sleep(0.3)
        await fake.settle(timeout=10)
        code, _ = await survivor.terminate()

    assert code == 0
    assert await count_by_status(postgres_url) == Counter({"sent": total})
    per_chat = delivered(fake)
    assert sorted(per_chat) == list(range(1, total + 1))  # nothing lost
    twice = {chat for chat, n in per_chat.items() if n > 1}
    assert max(per_chat.values()) <= 2
    assert twice <= unrecorded, twice - unrecorded  # only what was delivered but never recorded
    assert len(twice) <= CONCURRENT_SENDS
