"""Pytest fixtures for the fake Bot API; register with ``pytest_plugins = ["tests.fakes.plugin"]``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fakes.bot_api import FakeBotApi


def fail_on_violations(fake: FakeBotApi) -> None:
    """Fail the running test if the bot made any request Telegram would have refused."""
    if fake.violations:
        listed = "\n".join(f"  - {violation}" for violation in fake.violations)
        pytest.fail(
            f"the bot made {len(fake.violations)} invalid Bot API request(s):\n{listed}", pytrace=False
        )


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """Yield a started FakeBotApi; the test fails at teardown if the bot made an invalid request."""
    async with FakeBotApi() as fake:
        yield fake
    fail_on_violations(fake)
