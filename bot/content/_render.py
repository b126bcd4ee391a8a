"""Render answer and interface templates from ``answers/`` as Telegram HTML."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from bot._yaml import load_yaml
from bot.content._model import Intent, KnowledgeBase, Medicine

_BLANK_RUNS = re.compile(r"\n{3,}")
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class EmergencyContacts:
    """Emergency and crisis numbers for one country, from the operator's table."""

    country: str  # display name, e.g. "the United Kingdom"
    emergency: str  # e.g. "999"
    crisis: str  # e.g. "Samaritans: call 116 123"
    poison: str | None = None  # the poison centre, where the table has one
    international: bool = False  # the fallback for a user whose country is unknown
    code: str = ""  # ISO 3166 code


@dataclass(frozen=True)
class AnswerContext:
    """What an answer may be tailored to."""

    profile: str = "other"
    medicine: Medicine | None = None
    scan_date: str | None = None
    contacts: EmergencyContacts | None = None
    content_version: str = ""
    reason: str | None = None  # for the urgent reply: "overdose", "pet" or "injury"

    def variables(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "medicine": self.medicine,
            "scan_date": self.scan_date,
            "contacts": self.contacts,
            "content_version": self.content_version,
            "reason": self.reason,
            "you": "the person you care for" if self.profile == "caregiver" else "you",
        }


def tidy(text: str) -> str:
    """Strip template indentation and collapse blank lines so paragraphs are separated by one blank line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


class Renderer:
    """Render intents' answers and the bot's interface text."""

    def __init__(self, root: Path, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self._answers = root / "answers"
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._answers),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # The answers are fixed for the life of the process (their version is logged with each
            # answer): no file check on every render.
            auto_reload=False,
        )
        languages_path = self._answers / "ui" / "safety_languages.yaml"
        self._safety_lines: dict[str, dict[str, str]] = {}
        if languages_path.is_file():
            loaded = load_yaml(languages_path.read_text(encoding="utf-8")) or {}
            self._safety_lines = {str(k): {str(a): str(b) for a, b in v.items()} for k, v in loaded.items()}
        labels_path = self._answers / "ui" / "labels.yaml"
        self._labels: dict[str, str] = {}
        if labels_path.is_file():
            self._labels = {str(k): str(v) for k, v in (load_yaml(labels_path.read_text()) or {}).items()}

    def template_name(self, intent: Intent) -> str:
        return f"{intent.id}.html.j2"

    def answer(self, intent_id: str, level: str, context: AnswerContext, *, with_source: bool = True) -> str:
        """Return the answer to ``intent_id`` at ``level``; article answers end with their source."""
        body, source = self.answer_parts(intent_id, level, context)
        return f"{body}\n\n{source}" if with_source and source else body

    def answer_parts(self, intent_id: str, level: str, context: AnswerContext) -> tuple[str, str]:
        """Return the answer's body and its source line ("" for answers that are not about the article)."""
        intent = self.knowledge.intent(intent_id)
        if level not in intent.levels:
            raise ValueError(f"{intent_id} has no level {level!r}")
        template = self._env.get_template(self.template_name(intent))
        block = template.blocks.get(level)
        if block is None:
            raise ValueError(f"answers/{self.template_name(intent)} has no block {level!r}")
        body = tidy("".join(block(template.new_context(context.variables()))))
        source = self.source(intent, body, context.profile) if intent.kind == "article" else ""
        return body, source

    def cited(self, intent: Intent, body: str, profile: str) -> list[str]:
        """Return the reference keys an answer cites: those its profile may see whose fact it states."""
        text = " ".join(html.unescape(_TAGS.sub(" ", body)).split()).casefold()
        keys = []
        for key in intent.references:
            reference = self.knowledge.references[key]
            if not reference.allowed_for(profile, intent.audience):
                continue
            facts = intent.facts_for(key)
            if facts and not any(" ".join(f.split()).casefold() in text for f in facts):
                continue
            keys.append(key)
        return keys

    def source(self, intent: Intent, body: str, profile: str) -> str:
        """Return the source line for ``body``, an answer to ``intent`` for ``profile``."""
        citations = [self.knowledge.references[key].cite for key in self.cited(intent, body, profile)]
        return tidy(self._env.get_template("_source.html.j2").render(citations=citations))

    def ui(self, name: str, **variables: Any) -> str:
        """Render ``answers/ui/<name>.html.j2``."""
        return tidy(self._env.get_template(f"ui/{name}.html.j2").render(**variables))

    def has_ui(self, name: str) -> bool:
        return (self._answers / "ui" / f"{name}.html.j2").is_file()

    def safety_languages(self) -> dict[str, dict[str, str]]:
        """Return the safety lines of every language, unfilled, for ``bonebot check``."""
        return {k: dict(v) for k, v in self._safety_lines.items()}

    def safety_lines(self, language: str, contacts: EmergencyContacts | None) -> dict[str, Markup] | None:
        """Return the safety lines in ``language`` with the numbers filled in, or None if there are none."""
        lines = self._safety_lines.get(language)
        if lines is None:
            return None
        numbers = {
            "emergency": escape(contacts.emergency if contacts else "112"),
            "crisis": escape(contacts.crisis if contacts else "findahelpline.com"),
            "poison": escape(f" / {contacts.poison}" if contacts and contacts.poison else ""),
        }
        # The lines are the content team's own markup (<b>); only the numbers are escaped.
        return {key: Markup(text.format(**numbers)) for key, text in lines.items()}

    def label(self, key: str, **variables: Any) -> str:
        """Return a button label from ``answers/ui/labels.yaml``."""
        template = self._labels.get(key)
        if template is None:
            raise KeyError(f"answers/ui/labels.yaml has no label {key!r}")
        return template.format(**variables) if variables else template

    def labels(self) -> dict[str, str]:
        return dict(self._labels)
