"""Checks ``bonebot check`` runs over the safety data: translated lines, phrases, exemplars, numbers."""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path

from bot._yaml import load_yaml
from bot.safety._dose import DEFAULT_DOSE_CUES, DoseCueError, DoseCues
from bot.safety._language import ENGLISH, SAFETY_LANGUAGES
from bot.safety._lexicon import DEFAULT_LEXICON, Lexicon, LexiconError
from bot.safety._semantic import (
    DEFAULT_BANK,
    BankError,
    E5Embedder,
    cache_path,
    fingerprint,
    indexed_bank,
    read_bank,
)

# Every language's lines, and the only placeholders they may use.
SAFETY_LINE_KEYS = frozenset(
    {"crisis", "crisis_call", "urgent", "injury", "overdose", "pet", "bot", "english_only", "dose"}
)
PLACEHOLDERS = frozenset({"emergency", "crisis", "poison"})
MIN_COUNTRIES = 40


def check_safety_lines(lines: dict[str, dict[str, str]]) -> list[str]:
    """Return problems with the translated safety lines (answers/ui/safety_languages.yaml)."""
    from bot.telegram_html import TelegramHTMLError, parse

    problems = []
    where = "answers/ui/safety_languages.yaml"
    for language in SAFETY_LANGUAGES:
        if language not in lines:
            problems.append(f"{where}: no lines for {language!r}, a language the safety layer reads")
    for language, entries in sorted(lines.items()):
        missing = SAFETY_LINE_KEYS - set(entries)
        extra = set(entries) - SAFETY_LINE_KEYS
        if missing:
            problems.append(f"{where}: {language} lacks {', '.join(sorted(missing))}")
        if extra:
            problems.append(f"{where}: {language} has unknown keys {', '.join(sorted(extra))}")
        for key, text in sorted(entries.items()):
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if fields - PLACEHOLDERS:
                problems.append(
                    f"{where}: {language}.{key} uses unknown placeholders {sorted(fields - PLACEHOLDERS)}"
                )
                continue
            try:
                parse(text.format(emergency="112", crisis="116 123", poison=""))
            except (TelegramHTMLError, ValueError) as exc:
                problems.append(f"{where}: {language}.{key} is not valid Telegram HTML: {exc}")
        for key, needed in (("crisis_call", {"emergency", "crisis"}), ("urgent", {"emergency"})):
            text = entries.get(key, "")
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if key in entries and not needed <= fields:
                problems.append(f"{where}: {language}.{key} must give the numbers {sorted(needed)}")
    return problems


def check_safety_data(
    bank: Path = DEFAULT_BANK,
    lexicon: Path = DEFAULT_LEXICON,
    ordinary: Sequence[str] = (),
    dose_cues: Path = DEFAULT_DOSE_CUES,
) -> list[str]:
    """Return problems with the exemplar bank, its vector cache, the phrases, the dose cues and the contacts.

    ``ordinary``: the intents' example questions, which the index adds to the calm class.
    """
    problems: list[str] = []
    try:
        exemplars = read_bank(bank)
    except BankError as exc:
        problems.append(str(exc))
    else:
        seen: dict[str, str] = {}
        for name, texts in exemplars.items():
            for text in texts:
                key = text.casefold()
                if key in seen:
                    problems.append(f"{bank.name}: {text!r} is under both {seen[key]} and {name}")
                seen[key] = name
        cached = cache_path(bank)
        if not cached.is_file():
            problems.append(f"{cached.name} is missing: run `bonebot safety-index`")
        else:
            import numpy as np

            with np.load(cached) as stored:
                key = fingerprint(indexed_bank(bank, ordinary), E5Embedder.name)
                if str(stored["fingerprint"]) != key:
                    problems.append(f"{cached.name} is stale for {bank.name}: run `bonebot safety-index`")
    try:
        loaded = Lexicon.load(lexicon)
    except LexiconError as exc:
        problems.append(str(exc))
    else:
        for language in SAFETY_LANGUAGES:
            if language not in loaded.languages:
                problems.append(f"{lexicon.name}: no phrases for {language!r}")
    try:
        cues = DoseCues.load(dose_cues)
    except DoseCueError as exc:
        problems.append(str(exc))
    else:
        for language in (ENGLISH, *SAFETY_LANGUAGES):
            if language not in cues.languages:
                problems.append(f"{dose_cues.name}: no dose cues for {language!r}")
    from bot.contacts import DEFAULT_CONTACTS_PATH, ContactsError, EmergencyDirectory

    try:
        directory = EmergencyDirectory.load()
    except ContactsError as exc:
        problems.append(str(exc))
    else:
        if len(directory) < MIN_COUNTRIES:
            problems.append(
                f"{DEFAULT_CONTACTS_PATH.name}: {len(directory)} countries, fewer than {MIN_COUNTRIES}"
            )

        rows = load_yaml(DEFAULT_CONTACTS_PATH.read_text(encoding="utf-8")) or {}
        for code, row in rows.items():
            if not isinstance(row, dict) or not str(row.get("source", "")).strip():
                problems.append(f"{DEFAULT_CONTACTS_PATH.name}: {code} has no source")
    return problems
