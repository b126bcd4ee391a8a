"""Logging set-up: JSON lines or text on stderr, secrets redacted, libraries that quote requests kept quiet.

Events with fields (one per update) pass them as ``extra={"fields": {...}}``; both formats show them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

REDACTED = "[redacted]"
# Loggers that would write request parameters or server answers (message text, the token in URLs).
_QUIET = {
    "httpx": logging.WARNING,  # request lines carry the token in the URL
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,  # DEBUG lists every request's parameters and every update received
    "telegram.request.BaseRequest": logging.CRITICAL,  # logs unreadable answers in full
    "aiohttp.access": logging.WARNING,
    "aiosqlite": logging.INFO,  # DEBUG quotes every statement's parameters: journal text, questions
    "asyncpg": logging.INFO,
    "sqlalchemy": logging.WARNING,  # INFO/DEBUG (echo) quote parameters too
}


def _redactor(secrets: Iterable[str | None]) -> list[str]:
    found: set[str] = set()
    for secret in secrets:
        if secret:
            found.add(secret)
            if ":" in secret:  # a bot token: its secret half alone is just as sensitive
                found.add(secret.split(":", 1)[1])
    # Longest first, so that the whole token is replaced before its half.
    return sorted((s for s in found if len(s) >= 6), key=len, reverse=True)


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = _redactor(secrets)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def _fields(record: logging.LogRecord) -> Mapping[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


class JsonFormatter(_Redacting):
    """One JSON object per line: time, severity, logger, message, the event's fields, any exception type."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "severity": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_fields(record))
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = type(record.exc_info[1]).__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(_Redacting):
    """``time LEVEL logger: message key=value ...`` for people reading a terminal."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__(secrets)
        self.base = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = self.base.format(record)
        fields = _fields(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return self.redact(text)


def use_json(log_format: str, stream: TextIO) -> bool:
    """Tell whether to write JSON: asked for, or ``auto`` and the stream is not a terminal."""
    if log_format == "auto":
        return not (hasattr(stream, "isatty") and stream.isatty())
    return log_format == "json"


def configure_logging(
    log_format: str = "auto",
    level: int = logging.WARNING,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> None:
    """Send every log record to ``stream`` (stderr) in the chosen format, with ``secrets`` redacted."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    formatter = JsonFormatter(secrets) if use_json(log_format, stream) else TextFormatter(secrets)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, level))


def pseudonym(user_id: int, key: str | None) -> str:
    """Return a short keyed hash of a user id: the same across replicas, not reversible without the key."""
    digest = hmac.new((key or "bonebot").encode(), str(user_id).encode(), hashlib.sha256)
    return digest.hexdigest()[:16]
