"""PostgreSQL unreachable mid-run, through a fault-injecting TCP proxy between the bot and the server.

Injected: every connection reset and new ones refused for a while, then the server is back. Expected:
questions are still answered (with a word that nothing was saved), /healthz says 503, reminders that fell
due meanwhile are all sent once the database returns, each exactly once.
PostgreSQL only: skipped unless TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.factories import make_message_update, make_user
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below
from tests.integration.test_dispatch_processes import (  # noqa: F401 - postgres_url is a fixture
    count_by_status,
    delivered,
    insert_due_reminders,
    postgres_url,
)
from tests.processes import BotProcess, bot_env, bot_process, free_port
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

REMINDERS = 20
PATIENT = 770001


async def ask(fake: FakeBotApi, text: str) -> list[str]:
    """Send a question as the patient and return the texts of the bot's new messages to them."""
    before = len(fake.messages_to(PATIENT))
    history = fake.history(PATIENT, include_deleted=True)
    update = make_message_update(text, make_user(PATIENT, "Pat"))
    update["message"]["message_id"] = max((m.message_id for m in history), default=0) + 1
    fake.push_update(update)
    await fake.wait_until(lambda: len(fake.messages_to(PATIENT)) > before, timeout=30)
    await fake.settle(quiet=0.5, timeout=30)
    return [m.text or "" for m in fake.messages_to(PATIENT)[before:]]


async def health(bot: BotProcess) -> int:
    status, _ = await bot.get("/healthz", timeout=10)
    return status


async def wait_for_health(bot: BotProcess, wanted: int, timeout: float = 30) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (status := await health(bot)) != wanted:
        if loop.time() > deadline:
            raise AssertionError(f"/healthz stayed {status}, not {wanted}:\n{bot.output()[-3000:]}")
        await asyncio.sleep(0.3)


async def test_the_bot_rides_out_a_database_outage(
    postgres_url: str,  # noqa: F811
    fake_bot_api: FakeBotApi,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = fake_bot_api
    real = make_url(postgres_url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    proxied = real.set(host="127.0.0.1", port=await proxy.start()).render_as_string(hide_password=False)
    port = free_port()
    try:
        async with bot_process(("run",), bot_env(fake, proxied), tmp_path / "run.log", port=port) as bot:
            await bot.wait_healthy()
            assert any("DEXA" in text for text in await ask(fake, "what is a dexa scan?"))

            proxy.cut()
            await wait_for_health(bot, 503)
            during = await ask(fake, "how often should I have a dexa scan?")
            cant_save = "I can't save anything right now"
            assert any(cant_save in text for text in during), during
            assert any("scan" in text.lower() and cant_save not in text for text in during), during
            # Reminders fall due while the bot cannot see the database.
            mark = fake.mark()
            await insert_due_reminders(postgres_url, REMINDERS)
            await asyncio.sleep(2)
            assert [r for r in fake.requests[mark:] if r.method == "sendMessage"] == []

            proxy.restore()
            await wait_for_health(bot, 200)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while (await count_by_status(postgres_url))["sent"] < REMINDERS:
                assert loop.time() < deadline, bot.output()[-3000:]
                await asyncio.sleep(0.3)
            await fake.settle(timeout=10)
            after = await ask(fake, "what is a dexa scan?")
            assert after and all(cant_save not in text for text in after)
            code, _ = await bot.terminate()
    finally:
        await proxy.stop()
    assert code == 0
    reminders = Counter({chat: n for chat, n in delivered(fake).items() if chat != PATIENT})
    assert reminders == Counter(dict.fromkeys(range(1, REMINDERS + 1), 1))  # every one, once
    assert "dexa scan" not in bot.output().lower()  # the questions never reached the log
