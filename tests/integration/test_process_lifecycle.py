"""Real `bonebot` processes: /healthz and /metrics in every mode, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.storage import Database, upgrade
from bot.telegram.status import start_status_server
from tests.factories import make_message_update, make_user
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below
from tests.integration.test_dispatch_processes import count_by_status, delivered, insert_due_reminders
from tests.processes import bot_env, bot_process, free_port

SECRET = "lifecycle-webhook-secret"
STOP_WITHIN = 10.0


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bonebot.sqlite3'}"
    await upgrade(url)
    return url


def mode_args(mode: str, port: int) -> tuple[tuple[str, ...], dict[str, str]]:
    if mode == "webhook":
        return ("run", "--webhook"), {
            "BONEBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "BONEBOT_WEBHOOK_SECRET": SECRET,
        }
    return ((mode,) if mode == "worker" else ("run",)), {}


async def wait_until_sent(url: str, total: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        counts = await count_by_status(url)
        if counts["sent"] >= total:
            return
        if loop.time() > deadline:
            raise AssertionError(f"only {dict(counts)} after {timeout} s")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("mode", ["polling", "webhook", "worker"])
async def test_healthz_and_metrics_are_served_in_every_mode_and_sigterm_exits_0(
    mode: str,
    sqlite_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    port = free_port()
    args, extra = mode_args(mode, port)
    env = bot_env(fake_bot_api, sqlite_url, **extra)
    async with bot_process(args, env, tmp_path / f"{mode}.log", port=port) as bot:
        await bot.wait_healthy()
        status, body = await bot.get("/metrics")
        assert status == 200
        assert "bonebot_reminders_total" in body or "bonebot_dispatch_tick_seconds" in body
        code, seconds = await bot.terminate()
    assert code == 0, bot.output()[-3000:]
    assert seconds < STOP_WITHIN


async def test_without_bonebot_port_a_worker_serves_nothing(
    sqlite_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = bot_env(fake_bot_api, sqlite_url)
    env.pop("BONEBOT_PORT", None)
    async with bot_process(("worker",), env, tmp_path / "worker.log") as bot:
        await bot.wait_for_output("reminder dispatcher running")
        assert "serving HTTP" not in bot.output()
        code, _ = await bot.terminate()
    assert code == 0


async def test_healthz_is_503_while_the_database_does_not_answer(sqlite_url: str) -> None:
    nowhere = Database.connect(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    working = Database.connect(sqlite_url)
    port_down, port_up = free_port(), free_port()
    runners: list[web.AppRunner] = []
    try:
        runners.append(await start_status_server(lambda: nowhere, "127.0.0.1", port_down))
        runners.append(await start_status_server(lambda: working, "127.0.0.1", port_up))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port_down}/healthz") as response:
                assert response.status == 503
            async with session.get(f"http://127.0.0.1:{port_up}/healthz") as response:
                assert response.status == 200
    finally:
        for runner in runners:
            await runner.cleanup()
        await nowhere.dispose()
        await working.dispose()


async def test_sigterm_finishes_the_reply_under_way_before_exiting(
    sqlite_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    port = free_port()
    args, extra = mode_args("webhook", port)
    async with bot_process(args, bot_env(fake, sqlite_url, **extra), tmp_path / "web.log", port=port) as bot:
        await bot.wait_healthy()
        await fake.wait_for("setWebhook")
        fake.set_delay(2.0, method="sendMessage")  # the reply is in flight when SIGTERM arrives
        mark = fake.mark()
        user = make_user(880001, "Term")
        fake.push_update(make_message_update("what is a dexa scan?", user))
        await fake.wait_until(
            lambda: any(r.method == "sendMessage" for r in fake.requests[mark:]), timeout=20
        )
        code, seconds = await bot.terminate()
    assert code == 0, bot.output()[-3000:]
    assert seconds < STOP_WITHIN
    replies = [r for r in fake.requests[mark:] if r.method == "sendMessage"]
    assert replies and all(r.ok for r in replies), "the reply under way was cut off"
    assert "DEXA" in str(fake.messages_to(user["id"])[0].text)


async def test_sigterm_mid_batch_hands_back_unsent_reminders_and_a_restart_sends_each_once(
    sqlite_url: str,
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    total = 80  # more than the 25 sends a dispatcher has in flight at once
    fake.set_delay(0.5, method="sendMessage")
    env = bot_env(fake, sqlite_url)
    async with bot_process(("worker",), env, tmp_path / "first.log") as first:
        await first.wait_for_output("reminder dispatcher running")
        mark = fake.mark()
        await insert_due_reminders(sqlite_url, total)
        await fake.wait_for("sendMessage", count=1, since=mark, timeout=30)
        code, seconds = await first.terminate()
    assert code == 0, first.output()[-3000:]
    assert seconds < STOP_WITHIN
    await fake.settle(timeout=10)
    counts = await count_by_status(sqlite_url)
    assert counts["claimed"] == 0, counts  # every claim was recorded or handed back
    assert counts["sent"] == len(delivered(fake)) < total
    assert counts["pending"] == total - counts["sent"]

    fake.set_delay(0.0, method="sendMessage")
    async with bot_process(("worker",), env, tmp_path / "second.log") as second:
        await second.wait_for_output("reminder dispatcher running")
        await wait_until_sent(sqlite_url, total)
        await fake.settle(timeout=10)
    per_chat = delivered(fake)
    assert sorted(per_chat) == list(range(1, total + 1))
    assert Counter(per_chat.values()) == Counter({1: total})
