"""Log formats: JSON lines or text, fields shown, secrets redacted, the format chosen by the stream."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import REDACTED, configure_logging, pseudonym, use_json

TOKEN = "123456789:AAsecret-part-of-the-token"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_json_unless_the_stream_is_a_terminal() -> None:
    assert use_json("auto", io.StringIO())
    assert not use_json("auto", _Terminal())
    assert use_json("json", _Terminal())
    assert not use_json("text", io.StringIO())


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_fields_are_shown_and_the_token_is_redacted(log_format: str, restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(log_format, logging.INFO, secrets=(TOKEN,), stream=stream)
    logger = logging.getLogger("bot.test")
    logger.info("update handled", extra={"fields": {"kind": "text", "outcome": "answer"}})
    logger.warning("request to https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    logger.warning("half a token: %s", TOKEN.split(":")[1])
    out = stream.getvalue()
    assert "AAsecret" not in out and out.count(REDACTED) == 2
    if log_format == "json":
        first, *_ = (json.loads(line) for line in out.splitlines())
        assert (first["message"], first["kind"], first["outcome"], first["severity"]) == (
            "update handled",
            "text",
            "answer",
            "INFO",
        )
    else:
        assert "update handled kind=text outcome=answer" in out


def test_pseudonyms_are_stable_keyed_and_short() -> None:
    assert pseudonym(42, TOKEN) == pseudonym(42, TOKEN)
    assert pseudonym(42, TOKEN) != pseudonym(43, TOKEN)
    assert pseudonym(42, TOKEN) != pseudonym(42, "another-key")
    assert len(pseudonym(42, TOKEN)) == 16 and pseudonym(42, TOKEN) != "42"
