"""The broadcast dispatcher: care-team updates delivered exactly like reminders, after them.

A broadcast is a database job. Its recipients are copied into one delivery row each by the database
(``populate_step``), a chunk per transaction, and deliveries are then leased in batches to whichever
process claims them, as reminders are: a crash leaves the lease to expire and another process (or the
restarted one) takes the rest, so nothing is lost and at most the messages in flight go out twice.

Every process has one rate limiter for everything it sends (PTB's limiter on the bot: about 30 messages
a second overall) and one :class:`PerChatLimiter` (at most one message a second to a chat) that the
reminder and broadcast senders share. Reminders go first: a broadcast batch waits while a reminder is
due and unclaimed, and the loop runs the reminder tick before every broadcast batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Renderer
from bot.conversation import Action, Button, Reply
from bot.dispatch._outcomes import SendFn, SendOutcome, SendResult
from bot.dispatch._reminders import ReminderDispatcher
from bot.metrics import BROADCAST_DELIVERIES
from bot.scheduling import retry_backoff
from bot.storage import Database
from bot.storage import repositories as repo
from bot.storage.records import ClaimedDelivery
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams
from bot.telegram_html import escape

logger = logging.getLogger(__name__)

BROADCAST_BATCH = 100  # about three seconds of sending at 30/s: a due reminder waits at most that long
BROADCAST_LEASE_SECONDS = 120.0
CONCURRENT_SENDS = 25
MAX_ATTEMPTS = 6  # a delivery claimed this often (crashes, repeated 429s) is recorded as failed
UNCONFIRMED_RETRY_BELOW = 2  # an unconfirmed send on the first attempt is retried once, never again
PROGRESS_EVERY = dt.timedelta(seconds=3)
POPULATE_SECONDS = 0.5  # the most a tick spends copying recipients before it sends
PER_CHAT_INTERVAL = 1.0
GROUP_COMMIT_SECONDS = 0.05
JOIN_ATTEMPT_RETENTION = dt.timedelta(hours=1)
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class OutgoingBroadcast:
    """One broadcast message as it goes to a patient."""

    html: str
    link_preview: bool
    paid: bool = False


BroadcastSendFn = Callable[[int, OutgoingBroadcast], Awaitable[SendResult]]
# Edit the message (chat, message id) to show ``reply``, or send it as a new message when the id is None.
NotifyFn = Callable[[int, int | None, Reply], Awaitable[None]]


def broadcast_html(renderer: Renderer, team_name: str, text: str, formatted: bool) -> str:
    """Return a broadcast exactly as patients see it: the staff text escaped unless they chose formatting."""
    body = Markup(text) if formatted else Markup(escape(text))
    return renderer.ui("broadcast_message", team=team_name, body=body)


class PerChatLimiter:
    """At most one message per ``interval`` seconds to any one chat, across every sender of a process."""

    def __init__(
        self, interval: float = PER_CHAT_INTERVAL, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.monotonic = monotonic
        self._next: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        """Wait until this chat may get its next message, and book the slot after it."""
        now = self.monotonic()
        slot = max(now, self._next.get(chat_id, now))
        self._next[chat_id] = slot + self.interval
        if len(self._next) > 10_000:
            # Forget chats whose slot has passed, so the table stays the size of one second's traffic.
            self._next = {chat: at for chat, at in self._next.items() if at > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    def wrap(self, send: SendFn) -> SendFn:
        """Return ``send`` (a reminder sender) behind this limiter."""

        async def limited(chat_id: int, reply: Reply) -> SendResult:
            await self.wait(chat_id)
            return await send(chat_id, reply)

        return limited


@dataclass
class BroadcastTick:
    """Counts for one broadcast tick."""

    populated: int = 0
    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    retried: int = 0
    deferred: bool = False  # reminders were due: this tick sent no broadcast
    reports: int = 0

    @property
    def busy(self) -> bool:
        """Tell whether there is more work right away (a full batch, or recipients still being copied)."""
        return self.claimed >= BROADCAST_BATCH or self.populated > 0


class BroadcastDispatcher:
    """Copy recipients, claim deliveries, send them, keep the sender's progress message and report."""

    def __init__(
        self,
        database: Database,
        renderer: Renderer,
        send: BroadcastSendFn,
        notify: NotifyFn,
        clock: Clock,
        *,
        per_chat: PerChatLimiter | None = None,
        paid: bool = False,
        batch_size: int = BROADCAST_BATCH,
        lease_seconds: float = BROADCAST_LEASE_SECONDS,
        concurrency: int = CONCURRENT_SENDS,
    ) -> None:
        self.db = database
        self.renderer = renderer
        self.send = send
        self.notify = notify
        self.clock = clock
        self.per_chat = per_chat or PerChatLimiter()
        self.paid = paid
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self._semaphore = asyncio.Semaphore(concurrency)
        self._last_maintenance: dt.datetime | None = None
        # SQLite has one writer at a time: sessions of this process queue here instead of sleeping in
        # SQLite's busy handler, which cut recording to about 30 rows a second under contention.
        self._writes: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if database.dialect == "sqlite" else contextlib.nullcontext()
        )
        self._queued: list[tuple[Callable[[AsyncSession], Awaitable[None]], asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._commits: set[asyncio.Task[None]] = set()

    # -- the job --------------------------------------------------------------------------------

    async def populate(self, budget: float = POPULATE_SECONDS) -> int:
        """Copy recipients of broadcasts being prepared, for about ``budget`` seconds; return how many."""
        started = time.perf_counter()
        copied = 0
        async with self.db.session() as session:
            jobs = await bc.broadcasts_to_populate(session)
        for broadcast_id in jobs:
            while time.perf_counter() - started < budget:
                async with self.db.session() as session:
                    step = await bc.populate_step(session, broadcast_id, self.clock())
                if step <= 0:
                    break
                copied += step
        return copied

    async def tick(self) -> BroadcastTick:
        """Copy some recipients, then (unless reminders are waiting) send one batch, then report."""
        report = BroadcastTick()
        report.populated = await self.populate()
        now = self.clock()
        async with self.db.session() as session:
            if await bc.reminders_waiting(session, now):
                report.deferred = True
                return report
            claimed = await bc.claim_deliveries(session, now, self.lease_seconds, self.batch_size)
        report.claimed = len(claimed)
        await asyncio.gather(*(self._deliver(delivery, report) for delivery in claimed))
        touched = {delivery.broadcast_id for delivery in claimed}
        for broadcast_id in sorted(touched):
            await self._progress(broadcast_id)
        report.reports = await self._finish()
        if claimed:
            logger.info(
                "broadcast tick: claimed=%d sent=%d blocked=%d failed=%d skipped=%d cancelled=%d retried=%d",
                report.claimed,
                report.sent,
                report.blocked,
                report.failed,
                report.skipped,
                report.cancelled,
                report.retried,
            )
        return report

    async def _write(self, apply: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Record one outcome in the next group commit, and return once it is committed.

        Outcomes that finish together share one transaction (up to CONCURRENT_SENDS of them, or what
        arrives within GROUP_COMMIT_SECONDS): one commit per delivery costs more than sending it.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((apply, done))
        if len(self._queued) >= CONCURRENT_SENDS:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(GROUP_COMMIT_SECONDS, self._flush)
        await done

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        group, self._queued = self._queued, []
        if group:
            task = asyncio.create_task(self._commit(group))
            self._commits.add(task)
            task.add_done_callback(self._commits.discard)

    async def _commit(
        self, group: list[tuple[Callable[[AsyncSession], Awaitable[None]], asyncio.Future[None]]]
    ) -> None:
        try:
            async with self._writes, self.db.session() as session:
                for apply, _ in group:
                    await apply(session)
        except BaseException as exc:
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for _, done in group:
            if not done.done():
                done.set_result(None)

    async def _close(self, delivery: ClaimedDelivery, status: str, code: str | None = None) -> None:
        async def apply(session: AsyncSession) -> None:
            await bc.close_delivery(
                session, delivery.delivery_id, delivery.claim_token, status, self.clock(), code
            )

        await self._write(apply)

    async def _deliver(self, delivery: ClaimedDelivery, report: BroadcastTick) -> None:
        if delivery.broadcast_status == "cancelled":
            await self._close(delivery, "cancelled", "cancelled")
            report.cancelled += 1
            return
        if delivery.attempts > MAX_ATTEMPTS:
            # Claimed again and again (a process dying on it, repeated flood waits): give up, recorded.
            await self._close(delivery, "failed", "too_many_attempts")
            report.failed += 1
            return
        if delivery.blocked:
            await self._close(delivery, "blocked", "blocked")
            report.blocked += 1
            return
        if delivery.paused or not delivery.updates_enabled:
            await self._close(delivery, "skipped", "paused" if delivery.paused else "updates_off")
            report.skipped += 1
            return
        message = OutgoingBroadcast(
            broadcast_html(self.renderer, delivery.team_name, delivery.text, delivery.formatted),
            delivery.link_preview,
            self.paid,
        )
        # The slot is held until the outcome is recorded: a crash repeats at most CONCURRENT_SENDS messages.
        async with self._semaphore:
            await self.per_chat.wait(delivery.chat_id)
            try:
                result = await self.send(delivery.chat_id, message)
            except Exception as exc:
                # Whatever went wrong, it is recorded as failed: never left claimed to be resent without end.
                logger.error("unexpected error sending a broadcast: %s", type(exc).__name__)
                BROADCAST_DELIVERIES.labels(outcome=SendOutcome.ERROR.value).inc()
                await self._close(delivery, "failed", "error")
                report.failed += 1
                return
            await self._record(delivery, result, report)

    async def _record(self, delivery: ClaimedDelivery, result: SendResult, report: BroadcastTick) -> None:
        BROADCAST_DELIVERIES.labels(outcome=result.outcome.value).inc()

        async def apply(session: AsyncSession) -> None:
            await self._apply(session, delivery, result, report)

        await self._write(apply)

    async def _apply(
        self, session: AsyncSession, delivery: ClaimedDelivery, result: SendResult, report: BroadcastTick
    ) -> None:
        now = self.clock()
        token, did = delivery.claim_token, delivery.delivery_id
        if result.outcome is SendOutcome.SENT:
            if not await bc.close_delivery(session, did, token, "sent", now):
                logger.warning("a broadcast was sent after its lease expired; another sender may resend")
            report.sent += 1
        elif result.outcome is SendOutcome.BLOCKED:
            await repo.set_blocked(session, delivery.user_id, True)
            await bc.close_delivery(session, did, token, "blocked", now, "forbidden")
            report.blocked += 1
        elif result.outcome is SendOutcome.RETRY_AFTER:
            retry_at = now + dt.timedelta(seconds=max(result.retry_after, 1.0))
            await bc.release_delivery(session, did, token, retry_at, "retry_after")
            report.retried += 1
        elif result.outcome is SendOutcome.TRANSIENT and delivery.attempts < MAX_ATTEMPTS:
            await bc.release_delivery(session, did, token, now + retry_backoff(delivery.attempts), "network")
            report.retried += 1
        elif result.outcome is SendOutcome.UNCONFIRMED and delivery.attempts < UNCONFIRMED_RETRY_BELOW:
            # Maybe delivered (a timeout after sending, a 5xx): one retry at most, so one duplicate at most.
            await bc.release_delivery(
                session, did, token, now + retry_backoff(delivery.attempts), "unconfirmed"
            )
            report.retried += 1
        else:
            code = {
                SendOutcome.REJECTED: "bad_request",
                SendOutcome.TRANSIENT: "network",
                SendOutcome.UNCONFIRMED: "unconfirmed",
            }.get(result.outcome, "error")
            await bc.close_delivery(session, did, token, "failed", now, code)
            report.failed += 1

    # -- progress and reports -------------------------------------------------------------------

    def _stop_button(self, broadcast_id: int) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.renderer.label("broadcast_stop"), Action("bc", ("stop", str(broadcast_id)))),),)

    async def _progress(self, broadcast_id: int) -> None:
        now = self.clock()
        async with self.db.session() as session:
            if not await bc.claim_progress_update(session, broadcast_id, now, PROGRESS_EVERY):
                return
            job = await bc.get_broadcast(session, broadcast_id)
            counts = await bc.delivery_counts(session, broadcast_id)
        if job is None or job.progress_chat_id is None or job.status not in bc.LIVE_STATUSES:
            return
        html = self.renderer.ui(
            "broadcast_progress",
            total=job.total,
            populated=job.status != "populating",
            sent=counts.sent,
            blocked=counts.blocked,
            failed=counts.failed,
            skipped=counts.skipped,
            open=counts.open,
        )
        try:
            await self.notify(
                job.progress_chat_id, job.progress_message_id, Reply(html, self._stop_button(job.id))
            )
        except Exception as exc:  # a progress message is a courtesy: failing to edit it stops nothing
            logger.info("could not update a broadcast's progress: %s", type(exc).__name__)

    async def _finish(self) -> int:
        """Mark finished broadcasts done and send each sender one final report; return how many."""
        now = self.clock()
        async with self.db.session() as session:
            for broadcast_id in await bc.sending_broadcasts(session):
                if await bc.finish_if_done(session, broadcast_id, now):
                    logger.info("broadcast id=%d finished", broadcast_id)
            due = await bc.reports_due(session)
        sent = 0
        for broadcast_id in due:
            async with self.db.session() as session:
                if not await bc.claim_report(session, broadcast_id, now):
                    continue
                job = await bc.get_broadcast(session, broadcast_id)
                counts = await bc.delivery_counts(session, broadcast_id)
                team = await teams.get_team(session, job.team_id) if job else None
            if job is None or job.progress_chat_id is None:
                continue
            html = self.renderer.ui(
                "broadcast_report",
                team=team.name if team else "",
                cancelled=job.status == "cancelled",
                sent=counts.sent,
                blocked=counts.blocked,
                failed=counts.failed,
                skipped=counts.skipped,
                not_sent=counts.cancelled,
            )
            try:
                if job.progress_message_id is not None:
                    await self.notify(job.progress_chat_id, job.progress_message_id, Reply(html))
                await self.notify(job.progress_chat_id, None, Reply(html))
                sent += 1
            except Exception as exc:
                logger.warning("could not send a broadcast report: %s", type(exc).__name__)
        return sent

    async def seconds_until_next_due(self) -> float:
        """Return how long until the next pending delivery is due (infinity when there is none)."""
        async with self.db.session() as session:
            due = await bc.next_delivery_due(session)
        if due is None:
            return float("inf")
        return max((due - self.clock()).total_seconds(), 0.05)

    async def maintain(self) -> None:
        """Forget failed join-code attempts older than an hour (hourly)."""
        now = self.clock()
        if self._last_maintenance and now - self._last_maintenance < JOIN_ATTEMPT_RETENTION:
            return
        self._last_maintenance = now
        async with self.db.session() as session:
            await teams.purge_join_attempts_before(session, now - JOIN_ATTEMPT_RETENTION)


async def run_dispatch_loop(
    reminders: ReminderDispatcher,
    broadcasts: BroadcastDispatcher,
    stop: asyncio.Event,
    interval: float,
    wake: asyncio.Event | None = None,
) -> None:
    """Run reminders, then broadcasts, until ``stop``: busy goes round at once, idle waits ``interval``.

    ``wake`` (set when a staff member confirms a broadcast) cuts the wait short.
    """
    wake = wake or asyncio.Event()
    # The reminder dispatcher checks this before each send: on stop, claims not yet sent are handed back.
    reminders._stopping = stop
    logger.info("reminder dispatcher running every %.1f s, with broadcasts", interval)
    while not stop.is_set():
        busy = False
        try:
            await reminders.maintain()
            report = await reminders.dispatch_due_reminders()
            busy = report.claimed >= reminders.batch_size
        except Exception:
            # The database may be restarting; the next tick tries again and nothing is lost.
            logger.exception("dispatch tick failed")
        try:
            await broadcasts.maintain()
            tick = await broadcasts.tick()
            busy = busy or tick.busy
        except Exception:
            logger.exception("broadcast tick failed")
        if busy:
            continue
        if wake.is_set():
            wake.clear()
            continue
        # A delivery handed back for later (a 429's retry_after, a backoff) is due before the next interval.
        try:
            timeout = min(interval, await broadcasts.seconds_until_next_due())
        except Exception:
            timeout = interval
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({stopped, woken}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (stopped, woken):
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
    logger.info("reminder dispatcher stopped")
