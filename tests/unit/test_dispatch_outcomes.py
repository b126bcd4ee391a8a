"""What a dispatcher records after each kind of send outcome (shared by reminders and broadcasts)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dispatch import (
    MAX_ATTEMPTS,
    MAX_CLAIMS,
    MAX_UNCONFIRMED_RETRIES,
    SendOutcome,
    SendResult,
    Verdict,
    decide,
    exhausted,
    send_guarded,
)


@pytest.mark.parametrize(
    ("outcome", "verdict", "code"),
    [
        (SendOutcome.SENT, Verdict.SENT, None),
        (SendOutcome.BLOCKED, Verdict.BLOCKED, "forbidden"),
        (SendOutcome.RETRY_AFTER, Verdict.RETRY, "retry_after"),
        (SendOutcome.TRANSIENT, Verdict.RETRY, "network"),
        (SendOutcome.UNCONFIRMED, Verdict.RETRY, "unconfirmed"),
        (SendOutcome.REJECTED, Verdict.FAILED, "bad_request"),
        (SendOutcome.ERROR, Verdict.FAILED, "error"),
    ],
)
def test_each_outcome_on_a_first_attempt(outcome: SendOutcome, verdict: Verdict, code: str | None) -> None:
    decision = decide(SendResult(outcome, retry_after=3), attempts=1, unconfirmed=0)
    assert (decision.verdict, decision.code) == (verdict, code)
    assert decision.unconfirmed == (outcome is SendOutcome.UNCONFIRMED)


def test_retry_after_waits_what_telegram_asked_at_least_a_second() -> None:
    assert decide(SendResult(SendOutcome.RETRY_AFTER, 7), attempts=1, unconfirmed=0).retry_in == dt.timedelta(
        seconds=7
    )
    assert decide(SendResult(SendOutcome.RETRY_AFTER, 0), attempts=1, unconfirmed=0).retry_in == dt.timedelta(
        seconds=1
    )


def test_unconfirmed_sends_are_retried_at_most_twice() -> None:
    verdicts = [
        decide(SendResult(SendOutcome.UNCONFIRMED), attempts=n + 1, unconfirmed=n).verdict
        for n in range(MAX_UNCONFIRMED_RETRIES + 1)
    ]
    assert verdicts == [Verdict.RETRY] * MAX_UNCONFIRMED_RETRIES + [Verdict.FAILED]


def test_network_errors_give_up_at_the_last_attempt() -> None:
    assert (
        decide(SendResult(SendOutcome.TRANSIENT), attempts=MAX_ATTEMPTS - 1, unconfirmed=0).verdict
        is Verdict.RETRY
    )
    assert (
        decide(SendResult(SendOutcome.TRANSIENT), attempts=MAX_ATTEMPTS, unconfirmed=0).verdict
        is Verdict.FAILED
    )


def test_a_row_past_its_bounds_is_closed_before_sending() -> None:
    assert exhausted(attempts=1, unconfirmed=MAX_UNCONFIRMED_RETRIES) is None
    assert exhausted(attempts=1, unconfirmed=MAX_UNCONFIRMED_RETRIES + 1) == "unconfirmed"
    assert exhausted(attempts=MAX_CLAIMS, unconfirmed=0) is None
    assert exhausted(attempts=MAX_CLAIMS + 1, unconfirmed=0) == "claim_limit"


async def test_an_exception_from_the_send_function_becomes_error() -> None:
    async def explode(chat_id: int, reply: object) -> SendResult:
        raise KeyError("the patient's text")

    result = await send_guarded(explode, 1, object())  # type: ignore[arg-type]
    assert (result.outcome, result.error) == (SendOutcome.ERROR, "KeyError")
