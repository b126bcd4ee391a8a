"""The broadcast dispatcher with a scripted sender: outcomes, retries, failures, priority and reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass, field

import pytest

from bot.content import Renderer
from bot.conversation import Reply
from bot.dispatch import BroadcastDispatcher, OutgoingBroadcast, PerChatLimiter, SendOutcome, SendResult
from bot.dispatch._broadcasts import MAX_ATTEMPTS
from bot.domain import load_domain
from bot.metrics import REGISTRY
from bot.storage import Database, create_scan, get_or_create_user, get_user
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams

NOW = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
STAFF = 1


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class ScriptedSender:
    """Answer each chat as scripted (default: sent); record every call."""

    script: dict[int, list[SendResult | Exception]] = field(default_factory=dict)
    calls: list[tuple[int, OutgoingBroadcast]] = field(default_factory=list)

    async def __call__(self, chat_id: int, message: OutgoingBroadcast) -> SendResult:
        self.calls.append((chat_id, message))
        answers = self.script.get(chat_id)
        answer = answers.pop(0) if answers else SendResult(SendOutcome.SENT)
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class Notes:
    messages: list[tuple[int, int | None, str]] = field(default_factory=list)

    async def __call__(self, chat_id: int, message_id: int | None, reply: Reply) -> None:
        self.messages.append((chat_id, message_id, reply.html))


@functools.cache
def renderer() -> Renderer:
    return load_domain().renderer


async def job(database: Database, patients: list[int]) -> int:
    async with database.session() as session:
        await get_or_create_user(session, STAFF, STAFF, NOW)
        team = await teams.create_team(session, "Clinic", STAFF, NOW)
        for user_id in patients:
            await get_or_create_user(session, user_id, user_id, NOW)
            await teams.add_patient(session, team.id, user_id, NOW)
        draft = await bc.create_draft(session, team.id, STAFF, "Hello <all>", NOW)
        await bc.update_draft(session, draft.id, audience="all")
        await bc.start_broadcast(session, draft.id, NOW, NOW.date(), STAFF, 77)
    return draft.id


def engine(
    database: Database, send: ScriptedSender, clock: Clock, notes: Notes | None = None, **options: object
) -> BroadcastDispatcher:
    return BroadcastDispatcher(
        database,
        renderer(),
        send,
        notes or Notes(),
        clock,
        per_chat=PerChatLimiter(interval=0.0),
        **options,  # type: ignore[arg-type]
    )


async def counts(database: Database, broadcast_id: int) -> dict[str, int]:
    """Return the broadcast's non-zero delivery counts by status."""
    async with database.session() as session:
        found = await bc.delivery_counts(session, broadcast_id)
    names = ("pending", "claimed", "sent", "blocked", "failed", "skipped", "cancelled")
    return {name: getattr(found, name) for name in names if getattr(found, name)}


async def test_outcomes_are_recorded_and_the_sender_gets_one_report(database: Database) -> None:
    broadcast_id = await job(database, [10, 11, 12, 13])
    send = ScriptedSender(
        {
            11: [SendResult(SendOutcome.BLOCKED)],
            12: [SendResult(SendOutcome.REJECTED)],
            13: [RuntimeError("boom")],
        }
    )
    notes = Notes()
    clock = Clock()
    dispatcher = engine(database, send, clock, notes)

    def delivered(outcome: str) -> float:
        return REGISTRY.get_sample_value("bonebot_broadcast_deliveries_total", {"outcome": outcome}) or 0.0

    before = {outcome: delivered(outcome) for outcome in ("sent", "blocked", "rejected", "error")}
    await dispatcher.tick()
    await dispatcher.tick()
    assert await counts(database, broadcast_id) == {"sent": 1, "blocked": 1, "failed": 2}
    # The dashboard's broadcast panel counts each delivery's outcome once.
    assert {outcome: delivered(outcome) - before[outcome] for outcome in before} == {
        "sent": 1,
        "blocked": 1,
        "rejected": 1,
        "error": 1,
    }
    async with database.session() as session:
        blocked = await get_user(session, 11)
    assert blocked is not None and blocked.blocked
    reports = [text for chat, message_id, text in notes.messages if message_id is None]
    assert len(reports) == 1 and "Delivered: 1" in reports[0] and "Failed: 2" in reports[0]
    assert "Hello &lt;all&gt;" in send.calls[0][1].html  # staff text escaped as plain text
    # Nothing more happens on later ticks: no resend, no second report.
    await dispatcher.tick()
    assert len(send.calls) == 4 and len([m for m in notes.messages if m[1] is None]) == 1


async def test_retry_after_and_transient_errors_come_back_later(database: Database) -> None:
    broadcast_id = await job(database, [10, 11])
    send = ScriptedSender(
        {10: [SendResult(SendOutcome.RETRY_AFTER, 7.0)], 11: [SendResult(SendOutcome.TRANSIENT)]}
    )
    clock = Clock()
    dispatcher = engine(database, send, clock)
    await dispatcher.tick()
    assert await counts(database, broadcast_id) == {"pending": 2}
    assert 0 < await dispatcher.seconds_until_next_due() <= 7.0
    clock.now += dt.timedelta(seconds=7)
    await dispatcher.tick()
    clock.now += dt.timedelta(minutes=10)
    await dispatcher.tick()
    assert await counts(database, broadcast_id) == {"sent": 2}
    assert [chat for chat, _ in send.calls].count(10) == 2


async def test_a_delivery_claimed_too_often_is_failed_not_resent_forever(database: Database) -> None:
    broadcast_id = await job(database, [10])
    send = ScriptedSender({10: [SendResult(SendOutcome.TRANSIENT)] * (MAX_ATTEMPTS + 5)})
    clock = Clock()
    dispatcher = engine(database, send, clock)
    for _ in range(MAX_ATTEMPTS + 5):
        await dispatcher.tick()
        clock.now += dt.timedelta(hours=1)
    assert await counts(database, broadcast_id) == {"failed": 1}
    assert len(send.calls) == MAX_ATTEMPTS


async def test_reminders_due_go_before_broadcasts(database: Database) -> None:
    broadcast_id = await job(database, [10])
    async with database.session() as session:
        await create_scan(session, 10, dt.date(2027, 3, 17), None, "UTC", [("lead", 7, NOW)])
    send = ScriptedSender()
    dispatcher = engine(database, send, Clock())
    tick = await dispatcher.tick()
    assert tick.deferred and send.calls == []
    assert await counts(database, broadcast_id) == {"pending": 1}


async def test_paid_broadcasts_are_marked_paid(database: Database) -> None:
    await job(database, [10])
    send = ScriptedSender()
    await engine(database, send, Clock(), paid=True).tick()
    assert [message.paid for _, message in send.calls] == [True]


async def test_the_per_chat_limiter_spaces_messages_to_one_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    moments: list[float] = []
    now = [0.0]
    limiter = PerChatLimiter(interval=1.0, monotonic=lambda: now[0])
    original_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        await original_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    for chat in (1, 1, 2, 1):
        await limiter.wait(chat)
        moments.append(now[0])
    assert moments == [0.0, 1.0, 1.0, 2.0]
