"""The whole application against the fake Bot API: real PTB networking, a real database, a fake clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.settings import Settings
from bot.storage import Database
from bot.telegram.app import build_application
from tests.factories import make_user
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi, SentMessage
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, for every e2e test


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2027, 1, 11, 10, 0, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Harness:
    """A running bot, the fake Bot API it talks to, and a patient."""

    fake: FakeBotApi
    app: Any
    database: Database
    clock: FakeClock
    user: dict[str, Any]

    async def say(self, text: str, user: dict[str, Any] | None = None) -> list[SentMessage]:
        """Send a message as the patient and return the bot's new messages to them."""
        who = user or self.user
        before = len(self.fake.messages_to(who["id"]))
        await self.fake.send_text(who, text)
        await self.fake.settle()
        return self.fake.messages_to(who["id"])[before:]

    async def press(
        self, message: SentMessage, label: str, user: dict[str, Any] | None = None
    ) -> list[SentMessage]:
        """Press a button on one of the bot's messages and return the bot's new messages."""
        who = user or self.user
        before = len(self.fake.messages_to(who["id"]))
        await self.fake.click(who, message, label)
        await self.fake.settle()
        return self.fake.messages_to(who["id"])[before:]

    def last(self, user: dict[str, Any] | None = None) -> SentMessage:
        return self.fake.messages_to((user or self.user)["id"])[-1]


@pytest.fixture
async def harness(database_url: str, database: Database, fake_bot_api: FakeBotApi) -> AsyncIterator[Harness]:
    """Yield a bot running against the fake Bot API on a migrated SQLite or PostgreSQL database."""
    clock = FakeClock()
    settings = Settings(
        telegram_token=TEST_TOKEN,
        telegram_api_base_url=fake_bot_api.base_url,
        database_url=database_url,
        dispatch_interval=3600,
    )
    app = build_application(settings, clock=clock, dispatch=False)
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            yield Harness(fake_bot_api, app, database, clock, make_user(424242, "Sam"))
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)
