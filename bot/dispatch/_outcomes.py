"""What happened to one outgoing message, and what a dispatcher does about it (reminders, broadcasts).

Telegram-free: ``bot.telegram._sender`` maps the Bot API's errors to a :class:`SendResult`; a dispatcher
passes it to :func:`decide` with the row's counters and records the :class:`Decision`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.conversation import Reply
from bot.scheduling import retry_backoff

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # sends that surely did not arrive (network down before the request went out)
# Sends that may have arrived (a timeout after the request went out, a 5xx, an unreadable answer, a lease
# that ran out with nothing recorded): each retry may deliver a second copy, so there are at most two.
MAX_UNCONFIRMED_RETRIES = 2
# Whatever goes wrong, a row claimed this many times is closed rather than claimed again.
MAX_CLAIMS = 20


class SendOutcome(enum.Enum):
    """What happened to one message, in terms the dispatcher acts on."""

    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot, or the chat is gone
    RETRY_AFTER = "retry_after"  # 429: wait retry_after seconds
    TRANSIENT = "transient"  # not delivered (no connection, pool full): retry with backoff
    UNCONFIRMED = "unconfirmed"  # maybe delivered (timeout after sending, 5xx, unreadable answer)
    REJECTED = "rejected"  # 400: this message will never go through
    ERROR = "error"  # an exception nobody classified: never retried, so never repeated


@dataclass(frozen=True)
class SendResult:
    """One send's outcome; ``error`` names the exception class (never its message) for the logs."""

    outcome: SendOutcome
    retry_after: float = 0.0
    error: str | None = None


SendFn = Callable[[int, Reply], Awaitable[SendResult]]


class Verdict(enum.Enum):
    """What to record for a message after one send."""

    SENT = "sent"
    BLOCKED = "blocked"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Decision:
    """The verdict, the short error code to store, and when to try again (for RETRY)."""

    verdict: Verdict
    code: str | None = None
    retry_in: dt.timedelta = dt.timedelta(0)
    unconfirmed: bool = False  # this send may have arrived: count it against MAX_UNCONFIRMED_RETRIES


def decide(result: SendResult, *, attempts: int, unconfirmed: int) -> Decision:
    """Decide what to record after a send; ``attempts`` counts this one, ``unconfirmed`` earlier doubtful ones."""
    outcome = result.outcome
    if outcome is SendOutcome.SENT:
        return Decision(Verdict.SENT)
    if outcome is SendOutcome.BLOCKED:
        return Decision(Verdict.BLOCKED, "forbidden")
    if outcome is SendOutcome.RETRY_AFTER:
        return Decision(Verdict.RETRY, "retry_after", dt.timedelta(seconds=max(result.retry_after, 1.0)))
    if outcome is SendOutcome.TRANSIENT:
        if attempts < MAX_ATTEMPTS:
            return Decision(Verdict.RETRY, "network", retry_backoff(attempts))
        return Decision(Verdict.FAILED, "network")
    if outcome is SendOutcome.UNCONFIRMED:
        if unconfirmed < MAX_UNCONFIRMED_RETRIES:
            return Decision(Verdict.RETRY, "unconfirmed", retry_backoff(attempts), unconfirmed=True)
        return Decision(Verdict.FAILED, "unconfirmed", unconfirmed=True)
    if outcome is SendOutcome.REJECTED:
        return Decision(Verdict.FAILED, "bad_request")
    return Decision(Verdict.FAILED, "error")


def exhausted(*, attempts: int, unconfirmed: int) -> str | None:
    """Return the error code that closes a freshly claimed row without sending, or None to send it."""
    if unconfirmed > MAX_UNCONFIRMED_RETRIES:
        return "unconfirmed"
    if attempts > MAX_CLAIMS:
        return "claim_limit"
    return None


async def send_guarded(send: SendFn, chat_id: int, reply: Reply, what: str = "message") -> SendResult:
    """Call ``send`` and turn any exception it lets through into ERROR, logged by type only."""
    try:
        return await send(chat_id, reply)
    except Exception as exc:
        # The message may quote the request (the patient's text): the class name is enough to diagnose.
        logger.error("sending a %s raised %s; recorded as failed", what, type(exc).__name__)
        return SendResult(SendOutcome.ERROR, error=type(exc).__name__)
