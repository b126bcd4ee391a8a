"""Telegram HTML validation, length counting and message splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram_html import TelegramHTMLError, escape, parse, split_message, to_plain_text, utf16_length


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>bold</b> and <i>it</i>", "bold and it"),
        ('<a href="https://example.org">link</a>', "link"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("<blockquote>quoted</blockquote>", "quoted"),
        ('<code class="language-python">x</code>', "x"),
    ],
)
def test_parse_returns_visible_text(html: str, text: str) -> None:
    assert parse(html) == text


@pytest.mark.parametrize(
    "html",
    [
        "<p>para</p>",
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "<br/>",
        "&nbsp;",
        "<a>no href</a>",
        "a < b",
        "<b",
    ],
)
def test_parse_refuses_what_telegram_refuses(html: str) -> None:
    with pytest.raises(TelegramHTMLError):
        parse(html)


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_length("ab") == 2
    assert utf16_length("🦴") == 2


def test_plain_text_shows_link_targets() -> None:
    assert to_plain_text('see <a href="https://t.me/x">this</a>') == "see this (https://t.me/x)"


def test_split_keeps_short_messages_whole() -> None:
    assert split_message("<b>short</b>") == ["<b>short</b>"]


def test_split_breaks_at_paragraphs_and_keeps_tags_whole() -> None:
    paragraph = "<b>" + "word " * 300 + "</b>"
    parts = split_message("\n\n".join([paragraph] * 5))
    assert len(parts) > 1
    for part in parts:
        assert utf16_length(parse(part)) <= 4096


def _squash(text: str) -> str:
    return "".join(text.split())


@given(st.text(min_size=0, max_size=12000))
def test_split_of_any_escaped_text_is_valid_within_limits_and_loses_nothing(text: str) -> None:
    parts = split_message(escape(text))
    for part in parts:
        assert utf16_length(parse(part)) <= 4096
    assert _squash("".join(parse(p) for p in parts)) == _squash(text)


def test_split_never_cuts_inside_a_surrogate_pair() -> None:
    parts = split_message("🦴" * 3000)
    assert all(utf16_length(parse(p)) <= 4096 for p in parts)
    assert "".join(parse(p) for p in parts) == "🦴" * 3000
