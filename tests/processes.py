"""Run `bonebot` commands as real processes against the fake Bot API, for lifecycle and replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    """One `python -m bot ...` process and the file its output goes to."""

    process: asyncio.subprocess.Process
    log: Path
    port: int | None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:  # noqa: ASYNC109
        """GET ``path`` from the process's HTTP server; return the status and body."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(self.url + path) as response,
        ):
            return response.status, await response.text()

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait until /healthz answers 200; fail with the process's output if it exits or never does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.process.returncode is not None:
                raise AssertionError(
                    f"the process exited with {self.process.returncode}:\n{self.output()[-3000:]}"
                )
            try:
                status, _ = await self.get("/healthz", timeout=2.0)
                if status == 200:
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if loop.time() > deadline:
                raise AssertionError(f"/healthz never answered 200:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.2)

    async def wait_for_output(self, text: str, timeout: float = START_TIMEOUT) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.output():
            if self.process.returncode is not None or loop.time() > deadline:
                raise AssertionError(f"never logged {text!r}:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.1)

    async def terminate(self, timeout: float = STOP_TIMEOUT) -> tuple[int, float]:  # noqa: ASYNC109
        """Send SIGTERM; return the exit code and the seconds it took to exit (kill -9 after ``timeout``)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"no exit within {timeout} s of SIGTERM:\n{self.output()[-3000:]}") from None
        return code, loop.time() - started


def bot_env(fake: FakeBotApi, database_url: str, **extra: str) -> dict[str, str]:
    """Return the environment for a bot process on ``database_url`` talking to ``fake``."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "BONEBOT_DISPATCH_INTERVAL": "0.2",
        "BONEBOT_LOG_FORMAT": "text",
    }
    env.update(extra)
    return env


@asynccontextmanager
async def bot_process(
    args: tuple[str, ...],
    env: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
) -> AsyncIterator[BotProcess]:
    """Start `python -m bot *args`; on leaving, SIGTERM it if still running (kill -9 if it hangs)."""
    full_env = dict(env)
    if port is not None:
        full_env["BONEBOT_PORT"] = str(port)
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, env=full_env, stdout=sink, stderr=sink
        )
    running = BotProcess(process, log, port)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
