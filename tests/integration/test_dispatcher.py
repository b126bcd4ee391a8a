"""The reminder dispatcher against a real database: what is sent, when, and what is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Renderer
from bot.conversation import Reply
from bot.dispatch import MAX_ATTEMPTS, ReminderDispatcher, SendOutcome, SendResult
from bot.dispatch._reminders import CONCURRENT_SENDS
from bot.domain import load_domain
from bot.scheduling import STALE_AFTER, retry_backoff
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.records import ReminderRecord, ScanRecord

NOW = dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)
SCAN_DAY = dt.date(2027, 3, 15)
LEASE = 60.0

Spec = tuple[str, int | None, dt.datetime]


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class FakeSend:
    """A SendFn that records every call and answers SENT unless told otherwise for a chat."""

    calls: list[tuple[int, Reply]] = field(default_factory=list)
    scripted: dict[int, deque[SendResult]] = field(default_factory=dict)
    always: dict[int, SendResult] = field(default_factory=dict)

    def then(self, chat_id: int, *outcomes: SendOutcome | SendResult) -> None:
        """Answer the next sends to ``chat_id`` with ``outcomes``, in order."""
        queue = self.scripted.setdefault(chat_id, deque())
        queue.extend(o if isinstance(o, SendResult) else SendResult(o) for o in outcomes)

    async def __call__(self, chat_id: int, reply: Reply) -> SendResult:
        self.calls.append((chat_id, reply))
        queue = self.scripted.get(chat_id)
        if queue:
            return queue.popleft()
        return self.always.get(chat_id, SendResult(SendOutcome.SENT))

    def chats(self) -> list[int]:
        return [chat for chat, _ in self.calls]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_domain().renderer


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def send() -> FakeSend:
    return FakeSend()


@pytest.fixture
def dispatcher(database: Database, renderer: Renderer, send: FakeSend, clock: Clock) -> ReminderDispatcher:
    return ReminderDispatcher(database, renderer, send, clock, lease_seconds=LEASE)


def chat_of(user_id: int) -> int:
    return user_id * 10


async def add_scan(
    database: Database,
    user_id: int,
    reminders: Iterable[Spec],
    *,
    scan_day: dt.date = SCAN_DAY,
    zone: str = "Europe/London",
) -> ScanRecord:
    """Create the user (if new) and an upcoming scan with ``reminders``, through the repositories."""
    async with database.session() as session:
        await repo.get_or_create_user(session, user_id, chat_of(user_id), NOW - dt.timedelta(days=30))
        return await repo.create_scan(session, user_id, scan_day, None, zone, list(reminders), now=NOW)


def lead(days: int, due: dt.datetime) -> Spec:
    return ("lead", days, due)


async def reminders_of(database: Database, user_id: int) -> list[ReminderRecord]:
    async with database.session() as session:
        return await repo.list_reminders(session, user_id, None)


async def state(database: Database, user_id: int) -> list[tuple[str, str | None]]:
    """Return (status, last_error) of the user's reminders, earliest due first."""
    return [(r.status, r.last_error) for r in await reminders_of(database, user_id)]


def action(reply: Reply, row: int, column: int) -> tuple[str, str, tuple[str, ...]]:
    button = reply.buttons[row][column]
    assert button.action is not None
    return button.label, button.action.verb, button.action.args


# -- what is sent --------------------------------------------------------------------------------------


async def test_due_reminders_are_sent_once_and_later_ones_are_left(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(
        database,
        1,
        [
            lead(7, NOW - dt.timedelta(minutes=10)),
            lead(1, NOW + dt.timedelta(days=6)),
            ("followup", None, NOW + dt.timedelta(days=8)),
        ],
    )
    await add_scan(database, 2, [lead(7, NOW)])

    report = await dispatcher.dispatch_due_reminders()
    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(send.chats()) == [chat_of(1), chat_of(2)]
    first, later, followup = await reminders_of(database, 1)
    assert (first.status, first.sent_at, first.attempts) == ("sent", NOW, 1)
    assert [(r.status, r.attempts, r.sent_at) for r in (later, followup)] == [("pending", 0, None)] * 2
    assert await state(database, 2) == [("sent", None)]

    clock.advance(minutes=5)
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0
    assert len(send.calls) == 2


async def test_lead_reminder_says_when_and_offers_the_four_choices(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend
) -> None:
    await add_scan(database, 1, [lead(7, NOW - dt.timedelta(minutes=1)), lead(1, NOW)])
    await dispatcher.dispatch_due_reminders()
    ids = [r.id for r in await reminders_of(database, 1)]
    seven, one = (reply for _, reply in sorted(send.calls, key=lambda call: "tomorrow" in call[1].html))
    assert "in 7 days" in seven.html and "Monday 15 March 2027" in seven.html
    assert "tomorrow" in one.html
    rid = str(ids[0])
    assert [action(seven, row, col) for row, col in ((0, 0), (1, 0), (1, 1), (2, 0), (2, 1))] == [
        ("Got it", "rem", ("ack", rid)),
        ("Snooze 3 hours", "rem", ("snz3h", rid)),
        ("Tomorrow 09:00", "rem", ("snztm", rid)),
        ("Change date", "rem", ("change", rid)),
        ("Cancel", "rem", ("cancel", rid)),
    ]
    for button in (b for row in seven.buttons for b in row):
        assert button.action is not None and len(button.action.encode().encode()) <= 64


async def test_follow_up_asks_how_it_went_with_next_scan_buttons(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend
) -> None:
    scan = await add_scan(database, 1, [("followup", None, NOW)])
    await dispatcher.dispatch_due_reminders()
    ((chat, reply),) = send.calls
    assert chat == chat_of(1)
    assert "How did your DEXA scan go?" in reply.html and "Monday 15 March 2027" in reply.html
    sid = str(scan.id)
    assert [action(reply, 0, 0), action(reply, 0, 1), action(reply, 1, 0)] == [
        ("In 1 year", "next", (sid, "1y")),
        ("In 2 years", "next", (sid, "2y")),
        ("Pick a date", "next", (sid, "pick")),
    ]


# -- late, paused, blocked -----------------------------------------------------------------------------


async def test_reminder_late_by_less_than_twelve_hours_is_sent_later_is_missed(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend
) -> None:
    await add_scan(database, 1, [lead(7, NOW - dt.timedelta(hours=11))])
    await add_scan(database, 2, [lead(7, NOW - dt.timedelta(hours=13))])
    await add_scan(database, 3, [lead(7, NOW - STALE_AFTER)])  # exactly 12 h: still on time
    report = await dispatcher.dispatch_due_reminders()
    assert (report.sent, report.missed) == (2, 1)
    assert sorted(send.chats()) == [chat_of(1), chat_of(3)]
    assert await state(database, 1) == [("sent", None)]
    assert await state(database, 2) == [("missed", "stale")]


async def test_paused_user_gets_nothing_until_they_resume(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW), lead(1, NOW + dt.timedelta(days=6))])
    async with database.session() as session:
        await repo.update_user(session, 1, paused=True)
    report = await dispatcher.dispatch_due_reminders()
    assert (report.claimed, report.sent, report.skipped) == (1, 0, 1)
    assert send.calls == []
    assert await state(database, 1) == [("cancelled", "paused"), ("pending", None)]

    async with database.session() as session:
        await repo.update_user(session, 1, paused=False)  # what /start does
    clock.advance(days=6)
    assert (await dispatcher.dispatch_due_reminders()).sent == 1
    assert send.chats() == [chat_of(1)]
    assert await state(database, 1) == [("cancelled", "paused"), ("sent", None)]


async def test_reminders_switched_off_are_not_sent(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    async with database.session() as session:
        await repo.update_user(session, 1, reminders_enabled=False)
    await dispatcher.dispatch_due_reminders()
    assert send.calls == []
    assert await state(database, 1) == [("cancelled", "disabled")]


async def test_blocked_user_is_marked_and_not_tried_again_until_they_write(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(
        database,
        1,
        [lead(7, NOW), lead(1, NOW + dt.timedelta(hours=1)), ("followup", None, NOW + dt.timedelta(hours=3))],
    )
    await add_scan(database, 2, [lead(7, NOW), lead(1, NOW + dt.timedelta(hours=1))])
    send.then(chat_of(1), SendOutcome.BLOCKED)

    report = await dispatcher.dispatch_due_reminders()
    assert (report.sent, report.blocked) == (1, 1)
    async with database.session() as session:
        blocked = await repo.get_user(session, 1)
        other = await repo.get_user(session, 2)
    assert blocked is not None and blocked.blocked
    assert other is not None and not other.blocked
    assert (await state(database, 1))[0] == ("failed", "forbidden")

    clock.advance(hours=1)
    report = await dispatcher.dispatch_due_reminders()
    assert (report.sent, report.blocked) == (1, 1)
    # The blocked user's next reminder was not attempted: only user 2 got a second message.
    assert send.chats().count(chat_of(1)) == 1
    assert send.chats().count(chat_of(2)) == 2
    assert (await state(database, 1))[1] == ("failed", "blocked")

    clock.advance(hours=1)
    async with database.session() as session:
        back = await repo.get_or_create_user(session, 1, chat_of(1), clock())  # the user writes again
    assert not back.blocked
    clock.advance(hours=1)
    assert (await dispatcher.dispatch_due_reminders()).sent == 1
    assert send.chats().count(chat_of(1)) == 2
    assert (await state(database, 1))[2] == ("sent", None)


async def test_rejected_message_fails_without_blocking_or_retrying(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    send.then(chat_of(1), SendOutcome.REJECTED)
    assert (await dispatcher.dispatch_due_reminders()).failed == 1
    assert await state(database, 1) == [("failed", "bad_request")]
    async with database.session() as session:
        user = await repo.get_user(session, 1)
    assert user is not None and not user.blocked
    clock.advance(hours=1)
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0


# -- retries -------------------------------------------------------------------------------------------


async def test_too_many_requests_waits_retry_after_then_sends(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    send.then(chat_of(1), SendResult(SendOutcome.RETRY_AFTER, 30.0))
    assert (await dispatcher.dispatch_due_reminders()).retried == 1
    (released,) = await reminders_of(database, 1)
    assert (released.status, released.due_at, released.last_error) == (
        "pending",
        NOW + dt.timedelta(seconds=30),
        "retry_after",
    )
    clock.advance(seconds=29)
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0
    clock.advance(seconds=1)
    assert (await dispatcher.dispatch_due_reminders()).sent == 1
    assert len(send.calls) == 2
    (sent,) = await reminders_of(database, 1)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)


async def test_network_error_backs_off_then_succeeds(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    send.then(chat_of(1), SendOutcome.TRANSIENT, SendOutcome.TRANSIENT)
    assert (await dispatcher.dispatch_due_reminders()).retried == 1
    (first,) = await reminders_of(database, 1)
    assert (first.status, first.due_at, first.last_error) == ("pending", NOW + retry_backoff(1), "network")
    clock.now = first.due_at
    assert (await dispatcher.dispatch_due_reminders()).retried == 1
    (second,) = await reminders_of(database, 1)
    assert second.due_at == first.due_at + retry_backoff(2)  # the wait doubles
    clock.now = second.due_at - dt.timedelta(seconds=1)
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0
    clock.now = second.due_at
    assert (await dispatcher.dispatch_due_reminders()).sent == 1
    assert len(send.calls) == 3
    assert await state(database, 1) == [("sent", None)]


async def test_network_errors_give_up_after_the_last_attempt(
    database: Database, dispatcher: ReminderDispatcher, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    send.always[chat_of(1)] = SendResult(SendOutcome.TRANSIENT)
    for _ in range(MAX_ATTEMPTS):
        assert (await dispatcher.dispatch_due_reminders()).claimed == 1
        clock.advance(minutes=31)  # longer than the longest backoff
    assert len(send.calls) == MAX_ATTEMPTS
    assert await state(database, 1) == [("failed", "network")]
    assert (await dispatcher.dispatch_due_reminders()).claimed == 0


# -- crashes and races ---------------------------------------------------------------------------------


async def test_claim_lost_in_a_crash_is_sent_once_the_lease_expires(
    database: Database, renderer: Renderer, send: FakeSend, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    async with database.session() as session:
        # A dispatcher claims and dies before sending: the claim is committed, the result dropped.
        assert len(await repo.claim_due_reminders(session, clock(), LEASE, 100)) == 1
    survivor = ReminderDispatcher(database, renderer, send, clock, lease_seconds=LEASE)
    assert (await survivor.dispatch_due_reminders()).claimed == 0  # still leased
    clock.advance(seconds=LEASE - 1)
    assert (await survivor.dispatch_due_reminders()).claimed == 0
    clock.advance(seconds=1)
    assert (await survivor.dispatch_due_reminders()).sent == 1
    clock.advance(seconds=LEASE * 3)
    assert (await survivor.dispatch_due_reminders()).claimed == 0
    assert send.chats() == [chat_of(1)]
    (reminder,) = await reminders_of(database, 1)
    assert (reminder.status, reminder.attempts) == ("sent", 2)


async def test_a_send_outliving_its_lease_duplicates_at_most_once(
    database: Database, renderer: Renderer, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW)])
    release, started = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def stuck(chat_id: int, reply: Reply) -> SendResult:
        calls.append("stuck")
        started.set()
        await release.wait()  # Telegram got the message; the answer is very slow
        return SendResult(SendOutcome.SENT)

    async def quick(chat_id: int, reply: Reply) -> SendResult:
        calls.append("quick")
        return SendResult(SendOutcome.SENT)

    slow = ReminderDispatcher(database, renderer, stuck, clock, lease_seconds=LEASE)
    other = ReminderDispatcher(database, renderer, quick, clock, lease_seconds=LEASE)
    slow_tick = asyncio.create_task(slow.dispatch_due_reminders())
    await asyncio.wait_for(started.wait(), 5)
    clock.advance(seconds=LEASE + 1)
    assert (await other.dispatch_due_reminders()).sent == 1
    release.set()
    late = await slow_tick
    assert (late.sent, late.lost_claims) == (1, 1)
    assert calls == ["stuck", "quick"]
    clock.advance(seconds=LEASE * 3)
    assert (await other.dispatch_due_reminders()).claimed == 0
    (reminder,) = await reminders_of(database, 1)
    assert reminder.status == "sent"


class SlowToRecord:
    """A Database whose sessions after the first (the claim) wait for ``gate``: recording is slow."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.gate = asyncio.Event()
        self.opened = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        if self.opened > 1:
            await self.gate.wait()
        async with self.database.session() as session:
            yield session


async def test_sends_not_yet_recorded_never_exceed_the_send_concurrency(
    database: Database, renderer: Renderer, clock: Clock
) -> None:
    await _many_due(database, 60)
    slow = SlowToRecord(database)
    sends: list[int] = []
    all_sent = asyncio.Event()

    async def send(chat_id: int, reply: Reply) -> SendResult:
        sends.append(chat_id)
        if len(sends) == 60:
            all_sent.set()
        return SendResult(SendOutcome.SENT)

    dispatcher = ReminderDispatcher(cast(Database, slow), renderer, send, clock, lease_seconds=LEASE)
    tick = asyncio.create_task(dispatcher.dispatch_due_reminders())
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_sent.wait(), 0.5)
        # Each of these messages reached Telegram; if the process died now, each would be sent again.
        assert len(sends) <= CONCURRENT_SENDS
    finally:
        slow.gate.set()
        report = await tick
    assert report.sent == 60


async def _many_due(database: Database, users: int) -> None:
    async with database.session() as session:
        for user_id in range(1, users + 1):
            await repo.get_or_create_user(session, user_id, chat_of(user_id), NOW - dt.timedelta(days=1))
            await repo.create_scan(
                session,
                user_id,
                SCAN_DAY,
                None,
                "UTC",
                [lead(7, NOW - dt.timedelta(seconds=user_id))],
                now=NOW,
            )


async def test_racing_dispatchers_send_every_reminder_exactly_once(
    database_url: str, database: Database, renderer: Renderer, clock: Clock
) -> None:
    reminders = 300
    await _many_due(database, reminders)
    sent: list[int] = []

    async def record(chat_id: int, reply: Reply) -> SendResult:
        sent.append(chat_id)
        await asyncio.sleep(0)  # let the other dispatcher's work interleave with ours
        return SendResult(SendOutcome.SENT)

    # Separate engines, as in separate processes: no shared connection pool or session.
    first, second = Database.connect(database_url), Database.connect(database_url)
    try:
        dispatchers = [
            ReminderDispatcher(db, renderer, record, clock, batch_size=50, lease_seconds=LEASE)
            for db in (first, second)
        ]
        claimed: Counter[int] = Counter()
        for _ in range(4):
            ticks = [(index, d) for index, d in enumerate(dispatchers) for _ in range(3)]
            reports = await asyncio.gather(*(d.dispatch_due_reminders() for _, d in ticks))
            for (index, _), report in zip(ticks, reports, strict=True):
                claimed[index] += report.claimed
            if sum(r.claimed for r in reports) == 0:
                break
    finally:
        await first.dispose()
        await second.dispose()
    assert claimed[0] > 0 and claimed[1] > 0  # both took part
    duplicates = {chat: n for chat, n in Counter(sent).items() if n > 1}
    assert duplicates == {}
    assert sorted(sent) == [chat_of(user_id) for user_id in range(1, reminders + 1)]
    statuses: Counter[str] = Counter()
    for user_id in range(1, reminders + 1):
        statuses.update(status for status, _ in await state(database, user_id))
    assert statuses == Counter({"sent": reminders})


# -- the loop and its cost -----------------------------------------------------------------------------


async def test_run_sends_due_reminders_until_stopped(
    database: Database, renderer: Renderer, clock: Clock
) -> None:
    await _many_due(database, 7)
    chats: list[int] = []
    all_sent = asyncio.Event()

    async def send(chat_id: int, reply: Reply) -> SendResult:
        chats.append(chat_id)
        if len(chats) == 7:
            all_sent.set()
        return SendResult(SendOutcome.SENT)

    dispatcher = ReminderDispatcher(database, renderer, send, clock, batch_size=3, lease_seconds=LEASE)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop, interval=30))
    async with asyncio.timeout(10):
        # Full batches go round again at once: all seven go out without waiting the 30 s interval.
        await all_sent.wait()
        stop.set()
        await task
    assert sorted(chats) == [chat_of(user_id) for user_id in range(1, 8)]


class StatementCounter:
    """Count the SQL statements an engine sends while counting is on."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine.sync_engine
        self.count = 0

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def _tick_statements(dispatcher: ReminderDispatcher, database: Database) -> tuple[int, int]:
    with StatementCounter(database) as counter:
        report = await dispatcher.dispatch_due_reminders()
    return report.sent, counter.count


async def test_tick_statements_do_not_grow_with_stored_reminders(
    database: Database, dispatcher: ReminderDispatcher, clock: Clock
) -> None:
    await add_scan(database, 1, [lead(7, NOW - dt.timedelta(minutes=m)) for m in range(5)])
    sent, alone = await _tick_statements(dispatcher, database)
    assert sent == 5

    # Pile up reminders a tick must not look at: future, cancelled and already sent ones.
    future = [lead(7, NOW + dt.timedelta(days=1, minutes=m)) for m in range(300)]
    await add_scan(database, 2, future)
    await add_scan(database, 2, future)  # replaces the first scan: its 300 reminders are cancelled
    await add_scan(database, 3, [lead(7, NOW - dt.timedelta(minutes=m)) for m in range(5)])
    sent, crowded = await _tick_statements(dispatcher, database)
    assert sent == 5
    assert crowded == alone
    # Bounded by the batch, not the table: a few statements to claim, one to record each delivery.
    assert alone <= 6 + 2 * 5
