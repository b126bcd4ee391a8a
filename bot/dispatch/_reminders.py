"""The reminder dispatcher: the database is the only truth, claims are leased, sends are rate-limited.

Every tick takes a batch of due reminders with one indexed query and leases them to this process. A
crash between claim and send leaves the lease to expire, and another tick (here or in another
process) takes the reminder again: at least once, never lost, and at most one duplicate for a
message that was in flight when the process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Renderer
from bot.dispatch._messages import reminder_reply
from bot.dispatch._outcomes import (
    SendFn,
    SendOutcome,
    SendResult,
    Verdict,
    decide,
    exhausted,
    send_guarded,
)
from bot.metrics import DISPATCH_TICK, REMINDERS
from bot.scheduling import is_stale
from bot.storage import Database, storage_problem
from bot.storage import repositories as repo
from bot.storage.records import ClaimedReminder

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
LEASE_SECONDS = 120.0  # longer than one batch takes to send at Telegram's rate limit
CONCURRENT_SENDS = 25
SEND_WINDOW = 0.5  # share of the lease in which sends may start
WRITE_RETRY_FIRST = 0.5  # seconds; doubling up to the cap while the database is unreachable
WRITE_RETRY_CAP = 5.0
UNANSWERED_RETENTION = dt.timedelta(days=90)
MAINTENANCE_EVERY = dt.timedelta(hours=1)
ABANDONED_FLOW = dt.timedelta(days=2)  # the service forgets a flow this old too (DIALOG_TTL)
HANDLED_UPDATE_RETENTION = dt.timedelta(days=1)  # Telegram gives up redelivering an update after 24 hours


Clock = Callable[[], dt.datetime]


@dataclass
class TickReport:
    """Counts for one dispatch tick."""

    claimed: int = 0
    sent: int = 0
    missed: int = 0
    skipped: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0
    lost_claims: int = 0  # our lease expired and someone else took the reminder
    released: int = 0  # handed back unsent because the dispatcher is stopping


class ReminderDispatcher:
    """Claim due reminders and send them."""

    def __init__(
        self,
        database: Database,
        renderer: Renderer,
        send: SendFn,
        clock: Clock,
        *,
        batch_size: int = BATCH_SIZE,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = database
        self.renderer = renderer
        self.send = send
        self.clock = clock
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self._semaphore = asyncio.Semaphore(CONCURRENT_SENDS)
        self._last_maintenance: dt.datetime | None = None
        self._stopping = asyncio.Event()

    async def dispatch_due_reminders(self) -> TickReport:
        """Claim one batch of due reminders and deliver each; return what happened."""
        started = time.perf_counter()
        now = self.clock()
        async with self.db.session() as session:
            claimed = await repo.claim_due_reminders(session, now, self.lease_seconds, self.batch_size)
        report = TickReport(claimed=len(claimed))
        # Sends start only in the first half of the lease, so that the slowest still ends before it runs out
        # and another dispatcher takes the reminder; the rest are handed back for the next tick.
        send_until = started + self.lease_seconds * SEND_WINDOW
        await asyncio.gather(*(self._deliver_one(reminder, report, send_until) for reminder in claimed))
        DISPATCH_TICK.observe(time.perf_counter() - started)
        if claimed:
            logger.info(
                "dispatch tick: claimed=%d sent=%d missed=%d skipped=%d retried=%d blocked=%d failed=%d"
                " released=%d",
                report.claimed,
                report.sent,
                report.missed,
                report.skipped,
                report.retried,
                report.blocked,
                report.failed,
                report.released,
            )
        return report

    async def _close(self, reminder: ClaimedReminder, status: str, code: str) -> bool:
        async with self.db.session() as session:
            return await repo.mark_reminder(session, reminder.reminder_id, reminder.claim_token, status, code)

    async def _deliver_one(self, reminder: ClaimedReminder, report: TickReport, send_until: float) -> None:
        try:
            await self._deliver(reminder, report, send_until)
        except Exception as exc:
            # One reminder's trouble (usually the database) never stops the batch; its claim expires and
            # the next claim counts it as unconfirmed, so it is repeated at most MAX_UNCONFIRMED_RETRIES times.
            logger.error("delivering reminder %d failed: %s", reminder.reminder_id, type(exc).__name__)
            report.failed += 1

    async def _deliver(self, reminder: ClaimedReminder, report: TickReport, send_until: float) -> None:
        now = self.clock()
        if reminder.scan_status != "upcoming":
            await self._close(reminder, "cancelled", "scan_closed")
            report.skipped += 1
            return
        if reminder.blocked:
            await self._close(reminder, "failed", "blocked")
            report.blocked += 1
            return
        if reminder.paused or not reminder.reminders_enabled:
            await self._close(reminder, "cancelled", "paused" if reminder.paused else "disabled")
            report.skipped += 1
            return
        if is_stale(reminder.due_at, now):
            # Sent hours late, "your scan is tomorrow" could be wrong; it is recorded, never sent.
            await self._close(reminder, "missed", "stale")
            REMINDERS.labels(outcome="missed").inc()
            report.missed += 1
            return
        code = exhausted(attempts=reminder.attempts, unconfirmed=reminder.unconfirmed_claims)
        if code is not None:
            # Earlier claims ended without an outcome (a crash, a hung send): another copy may already be there.
            await self._close(reminder, "failed", code)
            logger.warning(
                "reminder %d closed unsent after %d claims: %s", reminder.reminder_id, reminder.attempts, code
            )
            REMINDERS.labels(outcome="failed").inc()
            report.failed += 1
            return
        reply = reminder_reply(self.renderer, reminder)
        # The slot is held until the outcome is recorded: a crash can then repeat at most CONCURRENT_SENDS
        # messages, however slowly the database records them.
        async with self._semaphore:
            if self._stopping.is_set() or time.perf_counter() > send_until:
                # Shutting down, or the lease is running short: hand the reminder back as it was, for the
                # next dispatcher (or tick) to send at once.
                async with self.db.session() as session:
                    await repo.release_reminder(
                        session, reminder.reminder_id, reminder.claim_token, reminder.due_at, unsent=True
                    )
                report.released += 1
                return
            result = await send_guarded(self.send, reminder.chat_id, reply, "reminder")
            await self._record(reminder, result, report)

    async def _record(self, reminder: ClaimedReminder, result: SendResult, report: TickReport) -> None:
        now = self.clock()
        REMINDERS.labels(outcome=result.outcome.value).inc()
        decision = decide(result, attempts=reminder.attempts, unconfirmed=reminder.unconfirmed_claims)
        if result.outcome is SendOutcome.ERROR:
            logger.error("reminder %d failed: %s", reminder.reminder_id, result.error or "error")
        token, rid = reminder.claim_token, reminder.reminder_id

        async def write(session: AsyncSession) -> None:
            if decision.verdict is Verdict.SENT:
                if not await repo.mark_reminder_sent(session, rid, token, now):
                    report.lost_claims += 1
                    logger.warning("reminder was sent after its lease expired; another dispatcher may resend")
            elif decision.verdict is Verdict.BLOCKED:
                await repo.set_blocked(session, reminder.user_id, True)
                await repo.mark_reminder(session, rid, token, "failed", decision.code)
            elif decision.verdict is Verdict.RETRY:
                retry_at = now + decision.retry_in
                await repo.release_reminder(
                    session, rid, token, retry_at, decision.code, unconfirmed=decision.unconfirmed
                )
            else:
                await repo.mark_reminder(
                    session, rid, token, "failed", decision.code, unconfirmed=decision.unconfirmed
                )

        await self._write_retrying(write)
        if decision.verdict is Verdict.SENT:
            report.sent += 1
        elif decision.verdict is Verdict.BLOCKED:
            report.blocked += 1
        elif decision.verdict is Verdict.RETRY:
            report.retried += 1
        else:
            report.failed += 1

    async def _write_retrying(self, write: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Record an outcome, retrying while the database is unreachable, for up to half the lease.

        A message already sent must be recorded, or its claim expires and it goes out again.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease_seconds / 2
        delay = WRITE_RETRY_FIRST
        while True:
            try:
                async with self.db.session() as session:
                    await write(session)
                return
            except Exception as exc:
                if storage_problem(exc) is None or loop.time() + delay > deadline:
                    raise
                logger.warning("recording a reminder's outcome failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, WRITE_RETRY_CAP)

    async def maintain(self) -> None:
        """Delete old unanswered questions, abandoned flows and handled update ids (hourly)."""
        now = self.clock()
        if self._last_maintenance and now - self._last_maintenance < MAINTENANCE_EVERY:
            return
        self._last_maintenance = now
        async with self.db.session() as session:
            purged = await repo.purge_unanswered_before(session, now - UNANSWERED_RETENTION)
            # A flow left unfinished can hold text typed before consent: it does not outlive the flow.
            abandoned = await repo.purge_dialogs_before(session, now - ABANDONED_FLOW)
            handled = await repo.purge_handled_updates_before(session, now - HANDLED_UPDATE_RETENTION)
        if purged or abandoned or handled:
            logger.info(
                "purged %d old unanswered questions, %d abandoned flows and %d handled update ids",
                purged,
                abandoned,
                handled,
            )

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Dispatch until ``stop`` is set: a full batch goes round again at once, otherwise wait."""
        logger.info("reminder dispatcher running every %.1f s", interval)
        self._stopping = stop  # checked before each send: on stop, claims not yet sent are handed back
        await self._loop(stop, interval)
        logger.info("reminder dispatcher stopped")

    async def _loop(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await self.maintain()
                report = await self.dispatch_due_reminders()
            except Exception as exc:
                # The database may be restarting; the next tick tries again and nothing is lost. The type
                # only: a driver's message can quote statement parameters.
                logger.error("dispatch tick failed: %s", type(exc).__name__)
                report = TickReport()
            if report.claimed >= self.batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
