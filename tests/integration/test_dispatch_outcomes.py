"""Every way a send can go wrong, against the fake Bot API: how many messages arrive, and what is recorded.

Each case scripts the fake's answers to sendMessage and counts the sendMessage requests it received (the
messages a patient may see), then runs ticks until the reminder is closed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot
from telegram.request import HTTPXRequest

from bot.dispatch import MAX_UNCONFIRMED_RETRIES, ReminderDispatcher, SendOutcome, SendResult
from bot.dispatch._reminders import CONCURRENT_SENDS
from bot.domain import load_domain
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.records import ReminderRecord
from bot.telegram._sender import telegram_send
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi, Step
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below

NOW = dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)
USER = 7001
READ_TIMEOUT = 1.0  # long enough that a loaded machine never times out a healthy send
LEASE = 60.0


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def bot(fake_bot_api: FakeBotApi) -> AsyncIterator[ExtBot[None]]:  # noqa: F811 - the imported fixture
    """A bot on the fake with a short read timeout, so that a hung answer times out quickly."""
    request = HTTPXRequest(read_timeout=READ_TIMEOUT, connect_timeout=1.0)
    bot = ExtBot(
        TEST_TOKEN,
        base_url=fake_bot_api.base_url,
        defaults=Defaults(parse_mode=ParseMode.HTML),
        request=request,
    )
    async with bot:
        yield bot


async def add_due_reminder(database: Database) -> None:
    async with database.session() as session:
        await repo.get_or_create_user(session, USER, USER, NOW - dt.timedelta(days=3))
        await repo.create_scan(
            session, USER, dt.date(2027, 3, 15), None, "UTC", [("lead", 7, NOW - dt.timedelta(minutes=1))]
        )


async def the_reminder(database: Database) -> ReminderRecord:
    async with database.session() as session:
        (reminder,) = await repo.list_reminders(session, USER, None)
    return reminder


async def run_until_closed(
    database: Database, dispatcher: ReminderDispatcher, clock: Clock
) -> ReminderRecord:
    """Tick, moving the clock past every backoff and lease, until the reminder is no longer pending."""
    for _ in range(12):
        await dispatcher.dispatch_due_reminders()
        reminder = await the_reminder(database)
        if reminder.status not in ("pending", "claimed"):
            return reminder
        clock.now += dt.timedelta(hours=1)
    raise AssertionError(f"the reminder never closed: {reminder}")


def sends(fake: FakeBotApi) -> int:
    """Return how many sendMessage requests reached the fake, whatever it answered."""
    return sum(1 for r in fake.requests if r.method == "sendMessage")


async def play(
    database: Database, fake: FakeBotApi, bot: ExtBot[None], *steps: Step
) -> tuple[ReminderRecord, int]:
    fake.hang_seconds = READ_TIMEOUT * 5
    fake.script("sendMessage", *steps)
    await add_due_reminder(database)
    clock = Clock()
    dispatcher = ReminderDispatcher(
        database, load_domain().renderer, telegram_send(bot), clock, lease_seconds=LEASE
    )
    reminder = await run_until_closed(database, dispatcher, clock)
    return reminder, sends(fake)


ALWAYS = 10  # more steps than the dispatcher will ever use


async def test_an_unreadable_success_is_recorded_as_failed_and_never_sent_again(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The defect: the message arrives, PTB cannot make a Message of the answer and raises an
    # exception the sender does not classify. It used to be re-sent after every lease.
    caplog.set_level(logging.INFO)
    reminder, received = await play(database, fake_bot_api, bot, *["bad_result"] * ALWAYS)
    assert received == 1
    assert (reminder.status, reminder.last_error) == ("failed", "error")
    assert len(fake_bot_api.messages_to(USER)) == 1
    failure = [r for r in caplog.records if r.levelno >= logging.ERROR and "AttributeError" in r.getMessage()]
    assert failure, "the failure was not logged with the exception's type"
    text = fake_bot_api.messages_to(USER)[0].text or ""
    assert text and all(text not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param("hang", id="timeout-after-sending"),
        pytest.param(500, id="5xx"),
        pytest.param(502, id="502"),
        pytest.param("malformed", id="malformed-json"),
        pytest.param("drop", id="dropped-after-sending"),
    ],
)
async def test_unconfirmed_delivery_is_retried_at_most_twice(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
    fault: Step,
) -> None:
    reminder, received = await play(database, fake_bot_api, bot, *[fault] * ALWAYS)
    assert received == 1 + MAX_UNCONFIRMED_RETRIES
    assert (reminder.status, reminder.last_error) == ("failed", "unconfirmed")
    assert reminder.unconfirmed_claims == 1 + MAX_UNCONFIRMED_RETRIES


@pytest.mark.parametrize("fault", ["hang", 500, "malformed", "drop"])
async def test_one_unconfirmed_send_then_success_is_sent(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
    fault: Step,
) -> None:
    reminder, received = await play(database, fake_bot_api, bot, fault)
    assert received == 2
    assert (reminder.status, reminder.unconfirmed_claims) == ("sent", 1)


async def test_too_many_requests_is_not_an_unconfirmed_send(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
) -> None:
    # Telegram said it did not deliver: waiting and sending again cannot double the message.
    reminder, received = await play(database, fake_bot_api, bot, 429, None)
    assert received == 2
    assert (reminder.status, reminder.unconfirmed_claims, reminder.attempts) == ("sent", 0, 2)


async def test_a_claim_whose_holder_died_three_times_is_closed_unsent(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],
) -> None:
    await add_due_reminder(database)
    clock = Clock()
    # Three dispatchers claim the reminder and die before recording anything (each may have sent it).
    for _ in range(1 + MAX_UNCONFIRMED_RETRIES):
        async with database.session() as session:
            assert len(await repo.claim_due_reminders(session, clock.now, LEASE, 10)) == 1
        clock.now += dt.timedelta(seconds=LEASE + 1)
    dispatcher = ReminderDispatcher(
        database, load_domain().renderer, telegram_send(bot), clock, lease_seconds=LEASE
    )
    report = await dispatcher.dispatch_due_reminders()
    assert (report.claimed, report.failed, report.sent) == (1, 1, 0)
    reminder = await the_reminder(database)
    assert (reminder.status, reminder.last_error) == ("failed", "unconfirmed")
    clock.now += dt.timedelta(hours=1)
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0
    assert sends(fake_bot_api) == 0


async def test_an_exception_escaping_the_send_function_fails_one_reminder_only(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    async def explode(chat_id: int, reply: object) -> object:
        calls.append(chat_id)
        raise RuntimeError("the patient's words must not reach the log")

    await add_due_reminder(database)
    clock = Clock()
    dispatcher = ReminderDispatcher(database, load_domain().renderer, explode, clock)  # type: ignore[arg-type]
    reminder = await run_until_closed(database, dispatcher, clock)
    assert calls == [USER]
    assert (reminder.status, reminder.last_error) == ("failed", "error")
    assert "RuntimeError" in caplog.text
    assert "patient's words" not in caplog.text


async def test_sends_that_would_outlive_the_lease_are_handed_back_unsent(database: Database) -> None:
    # Sends start only in the first half of the lease: one started later could end after another
    # dispatcher had taken the reminder, and both would send it.
    async def slow(chat_id: int, reply: object) -> SendResult:
        await asyncio.sleep(0.6)
        return SendResult(SendOutcome.SENT)

    async with database.session() as session:
        for user in range(1, CONCURRENT_SENDS + 6):
            await repo.get_or_create_user(session, user, user, NOW - dt.timedelta(days=3))
            await repo.create_scan(
                session, user, dt.date(2027, 3, 15), None, "UTC", [("lead", 7, NOW - dt.timedelta(minutes=1))]
            )
    dispatcher = ReminderDispatcher(database, load_domain().renderer, slow, Clock(), lease_seconds=1.0)  # type: ignore[arg-type]
    report = await dispatcher.dispatch_due_reminders()
    assert (report.claimed, report.sent, report.released) == (CONCURRENT_SENDS + 5, CONCURRENT_SENDS, 5)
    async with database.session() as session:
        pending = [
            r
            for user in range(1, CONCURRENT_SENDS + 6)
            for r in await repo.list_reminders(session, user, ("pending",))
        ]
    assert len(pending) == 5
    assert all(r.attempts == 0 and r.due_at == NOW - dt.timedelta(minutes=1) for r in pending)
