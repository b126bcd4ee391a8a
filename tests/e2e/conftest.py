"""The whole application against the fake Bot API: real PTB networking, a real database, a fake clock."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import ContextTypes

import bot.runtime
from bot.dispatch import ReminderDispatcher, TickReport
from bot.domain import Domain, load_domain
from bot.settings import Settings
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.records import DialogState, ReminderRecord, ScanRecord, UserRecord
from bot.telegram._context import runtime_of
from bot.telegram._sender import telegram_send
from bot.telegram.app import build_application
from bot.telegram_html import parse as parse_html
from tests import factories
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
    errors: list[BaseException] = field(default_factory=list)  # every error the application's handlers saw
    _user_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500001))

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the fake server is quiet and the application has finished every update it fetched.

        Quiet on the wire is not enough: the safety model reads in a worker thread, and a slow database
        query sends nothing, so a handler can be busy for longer than the fake's quiet period.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.fake.settle()
            busy = self.app.update_processor.current_concurrent_updates
            if self.app.update_queue.empty() and busy == 0:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the application is still handling {busy} updates")
            await asyncio.sleep(0.01)

    async def say(self, text: str, user: dict[str, Any] | None = None) -> list[SentMessage]:
        """Send a message as the patient and return the bot's new messages to them."""
        who = user or self.user
        before = len(self.fake.messages_to(who["id"]))
        await self.fake.send_text(who, text)
        await self.settle()
        return self.fake.messages_to(who["id"])[before:]

    async def press(
        self, message: SentMessage, label: str, user: dict[str, Any] | None = None
    ) -> list[SentMessage]:
        """Press a button on one of the bot's messages and return the bot's new messages."""
        who = user or self.user
        before = len(self.fake.messages_to(who["id"]))
        await self.fake.click(who, message, label)
        await self.settle()
        return self.fake.messages_to(who["id"])[before:]

    def last(self, user: dict[str, Any] | None = None) -> SentMessage:
        return self.fake.messages_to((user or self.user)["id"])[-1]

    async def consent(self, user: dict[str, Any] | None = None) -> None:
        """Send /start and agree to storage, as a patient must before saving a scan."""
        replies = await self.say("/start", user)
        await self.press(replies[0], "Yes, save what I choose", user)

    def dispatcher(self, **options: Any) -> ReminderDispatcher:
        """Return a reminder dispatcher sending through the app's bot (rate limiter included) on the fake clock."""
        renderer = runtime_of(self.app).domain.renderer
        return ReminderDispatcher(self.database, renderer, telegram_send(self.app.bot), self.clock, **options)

    async def dispatch(self, dispatcher: ReminderDispatcher | None = None) -> TickReport:
        """Run one dispatch tick and wait until the fake has answered everything it sent."""
        report = await (dispatcher or self.dispatcher()).dispatch_due_reminders()
        await self.settle()
        return report

    async def db_user(self, user: dict[str, Any] | None = None) -> UserRecord | None:
        async with self.database.session() as session:
            return await repo.get_user(session, (user or self.user)["id"])

    async def db_dialog(self, user: dict[str, Any] | None = None) -> DialogState | None:
        async with self.database.session() as session:
            return await repo.get_dialog(session, (user or self.user)["id"])

    async def db_scan(self, user: dict[str, Any] | None = None) -> ScanRecord | None:
        """Return the patient's upcoming scan, if any."""
        async with self.database.session() as session:
            return await repo.get_upcoming_scan(session, (user or self.user)["id"])

    async def db_reminders(
        self, statuses: tuple[str, ...] | None = ("pending",), user: dict[str, Any] | None = None
    ) -> list[ReminderRecord]:
        async with self.database.session() as session:
            return await repo.list_reminders(session, (user or self.user)["id"], statuses)

    def new_user(self, first_name: str = "Pat") -> dict[str, Any]:
        """Return a patient the bot has never seen."""
        return make_user(next(self._user_ids), first_name)

    async def send(
        self, update: Mapping[str, Any], chat_id: int, *, expect_reply: bool = True
    ) -> list[SentMessage]:
        """Push any update and return the bot's new messages in ``chat_id``.

        A new message or channel post is renumbered to follow the chat's last message: the factories
        number messages from one global counter, which would collide with the bot's own message ids.
        """
        update = copy.deepcopy(dict(update))
        for kind in ("message", "channel_post"):
            message = update.get(kind)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                message["message_id"] = self.next_message_id(message["chat"]["id"])
        before = len(self.fake.messages_to(chat_id))
        await self.fake.send_update(update, expect_reply=expect_reply)
        await self.settle()
        return self.fake.messages_to(chat_id)[before:]

    def next_message_id(self, chat_id: int) -> int:
        """Return the id Telegram would give the next message in a chat."""
        history = self.fake.history(chat_id, include_deleted=True)
        return max((message.message_id for message in history), default=0) + 1

    def label(self, key: str, **variables: Any) -> str:
        """Return a button label as the bot renders it."""
        return runtime_of(self.app).domain.renderer.label(key, **variables)

    async def say_in(
        self,
        chat: Mapping[str, Any],
        text: str,
        user: dict[str, Any] | None = None,
        *,
        expect_reply: bool = True,
    ) -> list[SentMessage]:
        """Send a message as the patient in another chat (a group) and return the bot's new messages there."""
        who = user or self.user
        before = len(self.fake.messages_to(chat["id"]))
        await self.fake.send_text(who, text, chat=chat, expect_reply=expect_reply)
        await self.settle()
        return self.fake.messages_to(chat["id"])[before:]

    async def press_data(
        self, message: SentMessage, data: str, user: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, list[SentMessage]]:
        """Press a button carrying any callback_data (forged or stale) on a message of the bot's.

        Return the bot's answerCallbackQuery parameters (None if it never answered) and its new messages.
        """
        who = user or self.user
        update = factories.make_callback_update(data, message.payload, who)
        before = len(self.fake.messages_to(message.chat_id))
        await self.fake.send_update(update)
        await self.settle()
        answer = self.fake.callback_answers.get(str(update["callback_query"]["id"]))
        return answer, self.fake.messages_to(message.chat_id)[before:]

    def ui(self, name: str, **variables: Any) -> str:
        """Return an interface message's visible text as the bot renders it (HTML removed)."""
        return parse_html(runtime_of(self.app).domain.renderer.ui(name, **variables))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a database session on the bot's database, to check its state through the repositories."""
        async with self.database.session() as session:
            yield session


_DOMAINS: dict[Path | None, Domain] = {}


def _shared_domain(root: Path | None = None) -> Domain:
    """Load the content once per test session, as a process does once per run."""
    if root not in _DOMAINS:
        _DOMAINS[root] = load_domain(root)
    return _DOMAINS[root]


@asynccontextmanager
async def running_bot(
    database_url: str, database: Database, fake: FakeBotApi, **settings_overrides: Any
) -> AsyncIterator[Harness]:
    """Run the whole application with long polling against the fake and yield the harness around it."""
    clock = FakeClock()
    settings = Settings(
        telegram_token=TEST_TOKEN,
        telegram_api_base_url=fake.base_url,
        database_url=database_url,
        dispatch_interval=3600,
        **settings_overrides,
    )
    app = build_application(settings, clock=clock, dispatch=False)
    errors: list[BaseException] = []

    async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            errors.append(context.error)

    app.add_error_handler(record_error)
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bot.runtime, "load_domain", _shared_domain)
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            yield Harness(fake, app, database, clock, make_user(424242, "Sam"), errors)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


@pytest.fixture
async def harness(
    database_url: str,
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811 - the imported fixture, requested by name
) -> AsyncIterator[Harness]:
    """Yield a bot running against the fake Bot API on a migrated SQLite or PostgreSQL database."""
    async with running_bot(database_url, database, fake_bot_api) as running:
        yield running
