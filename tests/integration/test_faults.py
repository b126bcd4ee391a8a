"""Fault injection: the fake Bot API misbehaving on a schedule while reminders go out.

Each test states what it injects and checks that nothing is lost and nothing is doubled beyond the
documented bound: a send whose delivery is unknown (timeout, dropped connection, unreadable answer) may
arrive twice; every other fault costs a retry, never a copy.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from telegram.ext import ExtBot

from bot.dispatch import ReminderDispatcher
from bot.domain import load_domain
from bot.storage import Database
from bot.storage import repositories as repo
from bot.telegram._sender import telegram_send
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.plugin import fake_bot_api  # noqa: F401 - the fixture, requested by name below
from tests.integration.test_dispatch_outcomes import LEASE, NOW, READ_TIMEOUT, Clock, bot  # noqa: F401

REMINDERS = 30
FIRST_CHAT = 8001
# Injected on the first sends, one step per sendMessage call, in this order; then all is well again.
SCHEDULE = [None, 429, "hang", 500, None, "drop", 502, "malformed", "drop_before", None, 429, "hang"]
MAYBE_DELIVERED = {"hang", "drop", "malformed"}  # the message was stored before the fault


async def add_reminders(database: Database) -> None:
    async with database.session() as session:
        for chat in range(FIRST_CHAT, FIRST_CHAT + REMINDERS):
            await repo.get_or_create_user(session, chat, chat, NOW - dt.timedelta(days=3))
            due = NOW - dt.timedelta(minutes=1)
            await repo.create_scan(session, chat, dt.date(2027, 3, 15), None, "UTC", [("lead", 7, due)])


async def test_reminders_survive_a_schedule_of_bot_api_faults(
    database: Database,
    fake_bot_api: FakeBotApi,  # noqa: F811
    bot: ExtBot[None],  # noqa: F811
) -> None:
    fake = fake_bot_api
    fake.hang_seconds = READ_TIMEOUT * 5
    fake.script("sendMessage", *SCHEDULE)
    await add_reminders(database)
    clock = Clock()
    dispatcher = ReminderDispatcher(
        database, load_domain().renderer, telegram_send(bot), clock, lease_seconds=LEASE
    )
    for _ in range(10):
        await dispatcher.dispatch_due_reminders()
        clock.now += dt.timedelta(hours=1)
    await fake.settle(timeout=10)

    statuses: Counter[str] = Counter()
    async with database.session() as session:
        for chat in range(FIRST_CHAT, FIRST_CHAT + REMINDERS):
            statuses.update(r.status for r in await repo.list_reminders(session, chat, None))
    assert statuses == Counter({"sent": REMINDERS})  # nothing lost, nothing stuck
    per_chat = Counter(
        {chat: len(fake.messages_to(chat)) for chat in range(FIRST_CHAT, FIRST_CHAT + REMINDERS)}
    )
    assert min(per_chat.values()) >= 1
    # Exactly the sends that were stored before their fault went out twice; 429s, 5xx and a connection
    # dropped before the request was handled cost a retry only.
    assert sum(n - 1 for n in per_chat.values()) == sum(step in MAYBE_DELIVERED for step in SCHEDULE)
    assert max(per_chat.values()) <= 2
