"""Validate Telegram's HTML parse mode and turn it into plain text.

Telegram accepts a small fixed set of tags and rejects the whole message on any other tag, on an
unclosed tag or on an unknown entity. Bot API text limits count UTF-16 code units of the text
left after entity parsing, so that is what :func:`visible_length` measures.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Tags Telegram accepts, with the attributes each may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);?")
MAX_MESSAGE_LENGTH = 4096


class TelegramHTMLError(ValueError):
    """Raise when text would be refused by Telegram's HTML parser."""


@dataclass
class _Parser(HTMLParser):
    stack: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"unsupported tag <{tag}>")
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.errors.append(f"unsupported attribute {name!r} on <{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            self.errors.append("<a> without href")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.errors.append("<span> must be class tg-spoiler")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing tag <{tag}/> is not supported")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append("unescaped angle bracket")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _NAMED_ENTITIES:
            self.errors.append(f"unsupported entity &{name};")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.errors.append("HTML comments are not supported")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declarations are not supported")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("declarations are not supported")


def parse(text: str) -> str:
    """Return the visible text of Telegram HTML, raising TelegramHTMLError if Telegram would refuse it."""
    parser = _Parser()
    parser.feed(text)
    parser.close()
    if parser.rawdata:  # HTMLParser keeps an unterminated tag here
        parser.errors.append("unterminated tag")
    if parser.stack:
        parser.errors.append(f"unclosed <{parser.stack[-1]}>")
    if parser.errors:
        raise TelegramHTMLError("; ".join(dict.fromkeys(parser.errors)))
    return "".join(parser.text)


def utf16_length(text: str) -> int:
    """Count UTF-16 code units, the unit of every Bot API length limit."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(text: str) -> int:
    """Return the length Telegram counts for an HTML message."""
    return utf16_length(parse(text))


def to_plain_text(text: str) -> str:
    """Render Telegram HTML for a terminal: tags dropped, links shown after their text."""
    text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 (\1)", text, flags=re.S)
    return parse(text)


def escape(text: str) -> str:
    """Escape user text for Telegram HTML."""
    return html.escape(text, quote=False)


def split_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split HTML into messages of at most ``limit`` visible characters at paragraph or line breaks.

    Tags are never split: a paragraph is kept whole, and a single paragraph longer than the limit is
    cut at line breaks, then at spaces, with its markup removed.
    """
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if visible_length(paragraph) <= limit:
            current = paragraph
            continue
        *whole, current = _split_plain(parse(paragraph), limit)
        parts.extend(whole)
    if current.strip():
        parts.append(current.strip())
    return parts


def _split_plain(plain: str, limit: int) -> list[str]:
    """Cut plain text into escaped chunks of at most ``limit`` UTF-16 units, at spaces where possible."""
    chunks: list[str] = []
    current = ""
    for word in re.split(r"(\s+)", plain):
        while utf16_length(word) > limit:  # one "word" longer than a message: cut it raw
            head = _prefix_within(word, limit - utf16_length(current))
            word = word[len(head) :]
            chunks.append(current + head)
            current = ""
        if utf16_length(current + word) > limit:
            chunks.append(current)
            current = word.lstrip()
        else:
            current += word
    chunks.append(current)
    return [escape(chunk.strip()) for chunk in chunks if chunk.strip()] or [""]


def _prefix_within(text: str, units: int) -> str:
    """Return the longest prefix of ``text`` that fits in ``units`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text
