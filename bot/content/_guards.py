"""The clinical guards of ``bonebot check``, run over every rendered combination of an answer."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import textstat
import yaml

from bot._yaml import load_yaml
from bot.content._model import (
    ARTICLE_REFERENCE,
    PROFILES,
    REFERENCE_LIST_INTENT,
    Intent,
    KnowledgeBase,
    Medicine,
)
from bot.content._render import AnswerContext, EmergencyContacts, Renderer
from bot.telegram_html import parse, utf16_length

MAX_FIRST_REPLY_CHARS = 600
MAX_FIRST_REPLY_GRADE = 8.0
SAVED_SCAN_DATE = "Tuesday 16 March 2027"
KNOWN_CONTACTS = EmergencyContacts(
    "the United Kingdom", "999", "Samaritans: call 116 123", poison="NHS 111", code="GB"
)
FALLBACK_CONTACTS = EmergencyContacts("", "112", "findahelpline.com", international=True)
DENIED_CLAIMS_FILE = "_denied_claims.yaml"

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_NUMBER = r"(?:\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?:%|per\s?cent\b|mg\b|mcg\b|µg\b|g\b|ml\b|iu\b|years?\b|months?\b|weeks?\b|days?\b|hours?\b|times\b|fold\b)"
# A figure with its unit: "6.1%", "4 mg", "3-5 years", "one to two years", "10-year", "two to four times".
FIGURE = re.compile(
    rf"(?<![\w.,])(?P<low>{_NUMBER})(?:\s*(?:-|–|—|to)\s*(?P<high>{_NUMBER}))?(?:\s*|-)(?P<unit>{_UNIT})",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Rendering:
    """One answer as a patient would see it, with the combination that produced it."""

    intent: Intent
    level: str
    profile: str
    medicine: Medicine | None
    scan_saved: bool
    contacts_known: bool
    body: str  # plain text, without the source line
    full: str  # plain text, with the source line
    html: str  # the Telegram HTML, with the source line
    body_html: str

    @property
    def source_line(self) -> str:
        return self.full[len(self.body) :].strip() if self.full.startswith(self.body) else ""

    @property
    def variant(self) -> str:
        medicine = self.medicine.generic if self.medicine else "no medicine"
        scan = "scan saved" if self.scan_saved else "no scan saved"
        contacts = "country known" if self.contacts_known else "country unknown"
        return f"{medicine}, {scan}, {contacts}"


@dataclass(frozen=True)
class DeniedClaim:
    """A claim the article does not make, which no answer may make either."""

    phrase: str
    why: str
    profiles: tuple[str, ...] = ()  # empty: denied for every profile

    @property
    def pattern(self) -> re.Pattern[str]:
        words = r"\s+".join(re.escape(word) for word in self.phrase.split())
        return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def renderings(renderer: Renderer, knowledge: KnowledgeBase, intent: Intent) -> Iterator[Rendering]:
    """Yield ``intent`` at every level, profile, medicine, saved-or-unsaved scan and known-or-unknown country.

    Rendering errors propagate: ``check_content`` reports them before the guards run.
    """
    medicines: list[Medicine | None] = [None, *knowledge.medicines]
    plain: dict[str, str] = {}  # many combinations share a text: parse each once

    def parsed(html: str) -> str:
        if html not in plain:
            plain[html] = parse(html)
        return plain[html]

    for level in intent.levels:
        for profile in PROFILES:
            for medicine in medicines:
                for scan_date in (None, SAVED_SCAN_DATE):
                    # Safety replies also vary by what happened and by a known, unknown or fallback country.
                    reasons = (None, "injury", "overdose", "pet") if intent.kind == "safety" else (None,)
                    contact_options = (
                        (None, KNOWN_CONTACTS, FALLBACK_CONTACTS)
                        if intent.kind == "safety"
                        else (None, KNOWN_CONTACTS)
                    )
                    for contacts, reason in itertools.product(contact_options, reasons):
                        context = AnswerContext(
                            profile, medicine, scan_date, contacts, knowledge.version, reason=reason
                        )
                        body_html, source = renderer.answer_parts(intent.id, level, context)
                        html = f"{body_html}\n\n{source}" if source else body_html
                        yield Rendering(
                            intent=intent,
                            level=level,
                            profile=profile,
                            medicine=medicine,
                            scan_saved=scan_date is not None,
                            contacts_known=contacts is not None,
                            body=parsed(body_html),
                            full=parsed(html),
                            html=html,
                            body_html=body_html,
                        )


def sentences(text: str) -> list[str]:
    """Split plain text into sentences (and list items), for reporting the one at fault."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _sentence_with(text: str, needle: str | re.Pattern[str]) -> str:
    for sentence in sentences(text):
        found = needle.search(sentence) is not None if isinstance(needle, re.Pattern) else needle in sentence
        if found:
            return sentence
    return text.strip().splitlines()[0] if text.strip() else ""


def reading_grade(text: str) -> float:
    """Return the Flesch-Kincaid grade of plain ``text`` (textstat 0.7.4, offline)."""
    return float(textstat.flesch_kincaid_grade(text))


def _where(rendering: Rendering) -> str:
    return f"{rendering.intent.id} [{rendering.level}, {rendering.profile}]"


def _quote(sentence: str) -> str:
    return f"“{sentence}”"


# -- every number with its unit is in the article ----------------------------------------------------------


def figure_key(match: re.Match[str]) -> str:
    """Return a figure in one spelling: digits, a hyphen for ranges, singular units ("1-2 year")."""

    def number(value: str) -> str:
        return _NUMBER_WORDS.get(value.lower(), value.replace(",", "."))

    unit = re.sub(r"\s+", "", match["unit"].lower())
    if unit == "percent":
        unit = "%"
    elif unit in {"years", "months", "weeks", "days", "hours"}:
        unit = unit[:-1]
    low = number(match["low"])
    span = f"{low}-{number(match['high'])}" if match["high"] else low
    return f"{span} {unit}"


def article_figures(article: str) -> frozenset[str]:
    """Return every figure with a unit the article states, in ``figure_key`` spelling."""
    return frozenset(figure_key(m) for m in FIGURE.finditer(article))


def check_figures(rendering: Rendering, in_article: frozenset[str]) -> list[str]:
    """Report every number-with-unit in the answer that the article does not state."""
    problems = []
    for match in FIGURE.finditer(rendering.body):
        if figure_key(match) not in in_article:
            sentence = _sentence_with(rendering.body, match.group(0))
            problems.append(
                f"{_where(rendering)}: figure {match.group(0)!r} is not in the article: {_quote(sentence)}"
            )
    return problems


# -- references: limited to profiles, cited only for a fact the answer states ------------------------------


def check_references(rendering: Rendering, knowledge: KnowledgeBase) -> list[str]:
    """Report citations a profile may not see, or that the intent's YAML does not tie to a stated fact."""
    intent, body = rendering.intent, rendering.body.casefold()
    cited: dict[str, str] = {}  # key -> the sentence that cites it
    source_line = rendering.source_line
    for key, reference in knowledge.references.items():
        if reference.cite and reference.cite in source_line:
            cited.setdefault(key, source_line)
        for name in reference.names:
            pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
            # Naming a reference cites it, in the text or inside another citation ("as reviewed by ...").
            # The reference list names every reference by design, so only its source line counts.
            if intent.id != REFERENCE_LIST_INTENT and pattern.search(rendering.body):
                cited.setdefault(key, _sentence_with(rendering.body, pattern))
            elif pattern.search(source_line) and reference.cite not in source_line:
                cited.setdefault(key, source_line)
    problems = []
    for key, sentence in cited.items():
        reference = knowledge.references[key]
        if not reference.allowed_for(rendering.profile, intent.audience):
            problems.append(
                f"{_where(rendering)}: cites {key}, which is only for {', '.join(reference.profiles)} "
                f"content: {_quote(sentence)}"
            )
            continue
        if key not in intent.references:
            problems.append(
                f"{_where(rendering)}: cites {key}, which intents/{intent.id}.yaml does not list: "
                f"{_quote(sentence)}"
            )
            continue
        facts = intent.facts_for(key)
        if not facts and key != ARTICLE_REFERENCE:
            problems.append(
                f"{_where(rendering)}: cites {key}, which intents/{intent.id}.yaml maps to no fact: "
                f"{_quote(sentence)}"
            )
        elif facts and not any(" ".join(f.split()).casefold() in " ".join(body.split()) for f in facts):
            problems.append(
                f"{_where(rendering)}: cites {key}, but the answer states none of its facts "
                f"({'; '.join(facts)}): {_quote(sentence)}"
            )
    return problems


# -- the first reply: short and plain -----------------------------------------------------------------------


def check_first_reply(rendering: Rendering) -> list[str]:
    """Report a first reply over 600 characters or above reading grade 8."""
    if rendering.level != "short":
        return []
    problems = []
    length = utf16_length(rendering.body)
    if length > MAX_FIRST_REPLY_CHARS:
        running, crossing = 0, ""
        for sentence in sentences(rendering.body):
            running += utf16_length(sentence) + 1
            if running > MAX_FIRST_REPLY_CHARS:
                crossing = sentence
                break
        problems.append(
            f"{_where(rendering)}: the first reply is {length} characters (at most "
            f"{MAX_FIRST_REPLY_CHARS}); it passes the limit at: {_quote(crossing)}"
        )
    grade = reading_grade(rendering.body)
    if grade > MAX_FIRST_REPLY_GRADE:
        hardest = max(sentences(rendering.body), key=reading_grade, default="")
        problems.append(
            f"{_where(rendering)}: the first reply reads at grade {grade:.1f} (at most "
            f"{MAX_FIRST_REPLY_GRADE:g}); hardest sentence: {_quote(hardest)}"
        )
    return problems


# -- claims the article does not make ---------------------------------------------------------------------


def load_denied_claims(root: Path) -> tuple[list[DeniedClaim], list[str]]:
    """Read ``intents/_denied_claims.yaml``; return the claims and any problem with the file."""
    path = root / "intents" / DENIED_CLAIMS_FILE
    if not path.is_file():
        return [], [f"intents/{DENIED_CLAIMS_FILE}: missing"]
    try:
        data: Any = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [], [f"intents/{DENIED_CLAIMS_FILE}: cannot read: {exc}"]
    claims, problems = [], []
    for entry in data if isinstance(data, list) else [data]:
        if not isinstance(entry, dict) or not isinstance(entry.get("phrase"), str) or not entry["phrase"]:
            problems.append(f"intents/{DENIED_CLAIMS_FILE}: bad entry {entry!r} (needs `phrase` and `why`)")
            continue
        profiles = entry.get("profiles") or []
        if not isinstance(profiles, list) or any(p not in PROFILES for p in profiles):
            problems.append(
                f"intents/{DENIED_CLAIMS_FILE}: {entry['phrase']!r}: profiles must be in {PROFILES}"
            )
            continue
        claims.append(DeniedClaim(entry["phrase"], str(entry.get("why", "")), tuple(profiles)))
    return claims, problems


def check_denied_claims(rendering: Rendering, claims: list[DeniedClaim]) -> list[str]:
    """Report every denied claim the answer makes."""
    problems = []
    for claim in claims:
        if claim.profiles and rendering.profile not in claim.profiles:
            continue
        pattern = claim.pattern
        if pattern.search(rendering.body):
            problems.append(
                f"{_where(rendering)}: says {claim.phrase!r}, a claim the article does not make"
                f"{f' ({claim.why})' if claim.why else ''}: {_quote(_sentence_with(rendering.body, pattern))}"
            )
    return problems
