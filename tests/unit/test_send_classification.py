"""How the Bot API's errors map to dispatcher outcomes: surely not sent, maybe sent, or never retried."""

from __future__ import annotations

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.dispatch import SendOutcome
from bot.telegram._sender import classify_send_error


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), SendOutcome.BLOCKED),
        (BadRequest("Bad Request: chat not found"), SendOutcome.BLOCKED),
        (BadRequest("Bad Request: can't parse entities"), SendOutcome.REJECTED),
        (ChatMigrated(-100123), SendOutcome.REJECTED),
        (RetryAfter(5), SendOutcome.RETRY_AFTER),
        (InvalidToken("Unauthorized"), SendOutcome.TRANSIENT),
        (caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused")), SendOutcome.TRANSIENT),
        (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("full")), SendOutcome.TRANSIENT),
        (caused(TimedOut(), httpx.ConnectTimeout("slow")), SendOutcome.TRANSIENT),
        (caused(TimedOut(), httpx.ReadTimeout("no answer")), SendOutcome.UNCONFIRMED),
        (caused(NetworkError("x"), httpx.RemoteProtocolError("dropped")), SendOutcome.UNCONFIRMED),
        (NetworkError("Internal Server Error (500)"), SendOutcome.UNCONFIRMED),
        (NetworkError("Bad Gateway"), SendOutcome.UNCONFIRMED),
        (caused(TelegramError("Invalid server response"), ValueError("json")), SendOutcome.UNCONFIRMED),
        (TelegramError("something else"), SendOutcome.ERROR),
        (Conflict("Conflict"), SendOutcome.ERROR),
        (AttributeError("'str' object has no attribute 'copy'"), SendOutcome.ERROR),
        (RuntimeError("anything"), SendOutcome.ERROR),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_classification(error: BaseException, outcome: SendOutcome) -> None:
    result = classify_send_error(error)
    assert result.outcome is outcome
    assert result.error and " " not in result.error  # a class name, never a message
