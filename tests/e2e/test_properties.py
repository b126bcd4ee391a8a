"""Property-based tests: whatever text or button data arrives, the running bot answers validly.

One harness per test function; Hypothesis's examples share it, so they run on SQLite only to stay fast.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation._actions import VERBS
from bot.storage import repositories as repo
from tests import factories
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage

pytestmark = pytest.mark.parametrize("database_url", [pytest.param("sqlite", id="sqlite")], indirect=True)

BOUNDED = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TELEGRAM_MAX_TEXT = 4096

# Characters that have broken chat bots before: HTML markup, entities, emoji (two UTF-16 units), RTL and
# zero-width marks, combining accents, control characters, line and paragraph separators.
_TRICKY = "<>&\"'/;:@#_*`[]()~|\\ \n\t\r\x0b\x0c\x1b\x7f\u0085\u00a0\u2028\u2029\u200b\u200d\u200e\u200f\u202e\u2066\ufeff\u0301é😀👍🏽👩‍⚕️中文العربيةעברית"
_MARKUP = st.sampled_from(
    ["<b>", "</b>", "<i>x</i>", "<a href='javascript:alert(1)'>x</a>", "&amp;", "&lt;", "&#0;", "&", "<", ">"]
)
_WORDS = st.sampled_from(
    ["dexa", "arimidex", "anastrozole", "bone", "scan", "15 March", "2027-03-15", "tomorrow", "Europe/London"]
)


def _telegram_text(text: str) -> str:
    """Cut text to what one Telegram message holds; a blank message is never delivered, so give it a dot."""
    text = text[:TELEGRAM_MAX_TEXT]
    return text if text.strip() else text + "."


texts = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet=_TRICKY, min_size=1, max_size=200),
    st.lists(st.one_of(_MARKUP, _WORDS, st.text(alphabet=_TRICKY, max_size=5)), min_size=1, max_size=30).map(
        " ".join
    ),
    st.builds(
        lambda part, times: part * times,
        st.text(alphabet=_TRICKY, min_size=1, max_size=8),
        st.integers(500, 1200),
    ),
).map(_telegram_text)

# What the text is sent as: a question, a command's argument, or the answer a guided flow waits for.
contexts = st.sampled_from(
    [
        ("", None),
        ("/questions ", None),
        ("/reflect ", None),
        ("/scan ", None),
        ("/timezone ", None),
        ("/start ", None),
        ("", "/scan"),
        ("", "/reflect"),
        ("", "/timezone"),
    ]
)


async def fresh_patient(harness: Harness, timezone: str | None = None) -> dict[str, Any]:
    """Return a new patient who has consented (set up through the repositories, to save round trips).

    Each example gets its own patient: one example's leftovers (a flow under way, a time zone chosen by
    a random "/timezone …") must not decide what the next example exercises.
    """
    user = harness.new_user()
    async with harness.session() as session:
        await repo.get_or_create_user(session, user["id"], user["id"], harness.clock())
        await repo.update_user(session, user["id"], consent=True, timezone=timezone)
    return user


@pytest.fixture
async def answer(harness: Harness) -> SentMessage:
    """Return a real answer with buttons to a patient who has consented, for pressing any data on."""
    await harness.consent()
    replies = await harness.say("what is a dexa scan?")
    assert replies and replies[0].buttons
    return replies[0]


def assert_healthy(harness: Harness, replies: list[SentMessage], errors_before: int) -> None:
    """Fail if the bot apologised for an error, raised one, or made a request Telegram would refuse."""
    apology = harness.ui("error")
    assert harness.errors[errors_before:] == []
    assert harness.fake.violations == []
    assert all(reply.text != apology for reply in replies)


@BOUNDED
@given(text=texts, context=contexts)
async def test_any_text_gets_a_valid_reply_and_no_error(
    harness: Harness, text: str, context: tuple[str, str | None]
) -> None:
    prefix, flow = context
    user = await fresh_patient(harness)
    errors_before = len(harness.errors)
    if flow is not None:
        assert await harness.say(flow, user)
    message = (prefix + text)[:TELEGRAM_MAX_TEXT]
    replies = await harness.say(message, user)
    assert replies, f"no reply to {message!r}"
    assert_healthy(harness, replies, errors_before)


@BOUNDED
@given(text=texts, inline=st.booleans())
async def test_any_text_as_a_scan_date_gets_a_valid_reply_and_no_error(
    harness: Harness, text: str, inline: bool
) -> None:
    user = await fresh_patient(harness, timezone="Europe/London")  # so /scan asks for the date at once
    errors_before = len(harness.errors)
    if inline:
        replies = await harness.say(("/scan " + text)[:TELEGRAM_MAX_TEXT], user)
    else:
        assert await harness.say("/scan", user)
        replies = await harness.say(text, user)
    assert replies
    assert_healthy(harness, replies, errors_before)


_VERB_DATA = st.builds(
    lambda verb, args: ":".join([verb, *args]),
    st.sampled_from(sorted(VERBS)),
    st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["yes", "no", "1", "0", "-1", "I", "A", "F"])),
        max_size=3,
    ),
)
callback_data = st.one_of(st.text(min_size=1, max_size=64), _VERB_DATA).filter(
    lambda data: 1 <= len(data.encode()) <= 64
)


@BOUNDED
@given(data=callback_data)
async def test_any_button_data_is_answered_validly(harness: Harness, answer: SentMessage, data: str) -> None:
    # The same patient and message for every example: presses pile up as a real session's would.
    errors_before = len(harness.errors)
    update = factories.make_callback_update(data, answer.payload, harness.user)
    replies = await harness.send(update, harness.user["id"])
    assert str(update["callback_query"]["id"]) in harness.fake.callback_answers, f"{data!r} was not answered"
    assert harness.fake.unanswered_callback_queries() == []
    assert_healthy(harness, replies, errors_before)
