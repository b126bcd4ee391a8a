"""Crisis, urgent and overdose phrases in the other languages BoneBot recognises (a data file)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bot._yaml import load_yaml
from bot.safety._rules import CRISIS, URGENT, RuleHit

DEFAULT_LEXICON = Path(__file__).resolve().parent.parent / "data" / "safety_lexicon.yaml"
_KINDS = ("crisis", "urgent", "overdose")
# Optional per language: a fall told as harmless ("rien de cassé, même pas mal"), and what keeps it an alarm
# all the same ("no puedo levantarme"). As in English, such a message is answered, with the emergency line.
_FALL_KINDS = ("unharmed", "still_hurt")
# Optional per language: what is taken out before the phrases are read, as the English idioms are ("no pienso
# hacerme daño" says the opposite of "hacerme daño").
_IDIOMS = "idioms"
# Optional per language: a pet that ate its owner's tablets (the urgent reply sends them to a vet).
_PET = "pet"
_OPTIONAL = (*_FALL_KINDS, _IDIOMS, _PET)


class LexiconError(ValueError):
    """Raise when the lexicon file cannot be used."""


def read_phrase_file(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """Return a per-language phrase file's mapping, raising ``error`` when it cannot be read."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of language to phrases")
    return {str(language): entries for language, entries in data.items()}


def compile_any(sources: Sequence[str], where: str, error: type[ValueError]) -> re.Pattern[str]:
    """Return one pattern matching any of ``sources``, raising ``error`` naming ``where`` on a bad one."""
    try:
        return re.compile("|".join(f"(?:{s})" for s in sources))
    except re.error as exc:
        raise error(f"{where}: {exc}") from exc


def fold(text: str) -> str:
    """Lowercase, take accents off and squeeze punctuation to spaces, as the lexicon's patterns expect."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


class Lexicon:
    """Per-language regular expressions for the three alarm kinds."""

    def __init__(self, patterns: dict[str, dict[str, re.Pattern[str]]]) -> None:
        self._patterns = patterns

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._patterns))

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON) -> Lexicon:
        """Read and compile the lexicon, folding the patterns as messages are folded."""
        data = read_phrase_file(path, LexiconError)
        patterns: dict[str, dict[str, re.Pattern[str]]] = {}
        for language, kinds in data.items():
            if not isinstance(kinds, dict) or set(kinds) - {*_KINDS, *_OPTIONAL}:
                raise LexiconError(f"{path}: {language!r} takes only {', '.join((*_KINDS, *_OPTIONAL))}")
            if ("unharmed" in kinds) != ("still_hurt" in kinds):
                raise LexiconError(f"{path}: {language!r} needs unharmed and still_hurt together")
            compiled: dict[str, re.Pattern[str]] = {}
            for kind in (*_KINDS, *_OPTIONAL):
                sources = [fold_pattern(str(p)) for p in kinds.get(kind) or []]
                if not sources:
                    if kind in _OPTIONAL:
                        continue
                    raise LexiconError(f"{path}: {language!r} has no {kind} patterns")
                compiled[kind] = compile_any(sources, f"{path}: {language}/{kind}", LexiconError)
            patterns[language] = compiled
        return cls(patterns)

    def hit(self, language: str, text: str) -> RuleHit | None:
        """Return what the lexicon finds in ``text`` written in ``language``, or None."""
        compiled = self._patterns.get(language)
        if compiled is None:
            return None
        folded = self._without_idioms(compiled, fold(text))
        if compiled["crisis"].search(folded):
            return RuleHit(CRISIS, "crisis")
        pet = compiled.get(_PET)
        if pet is not None and pet.search(folded):
            return RuleHit(URGENT, "pet")
        if compiled["overdose"].search(folded):
            return RuleHit(URGENT, "overdose")
        if compiled["urgent"].search(folded) and not self._unharmed(compiled, folded):
            return RuleHit(URGENT, "injury")
        return None

    def unharmed(self, language: str, text: str) -> bool:
        """Tell whether ``text``, written in ``language``, says a fall hurt nobody and nothing says otherwise."""
        compiled = self._patterns.get(language)
        return compiled is not None and self._unharmed(compiled, self._without_idioms(compiled, fold(text)))

    @staticmethod
    def _without_idioms(compiled: dict[str, re.Pattern[str]], folded: str) -> str:
        idioms = compiled.get(_IDIOMS)
        return folded if idioms is None else " ".join(idioms.sub(" ", folded).split())

    @staticmethod
    def _unharmed(compiled: dict[str, re.Pattern[str]], folded: str) -> bool:
        unharmed, still_hurt = compiled.get("unharmed"), compiled.get("still_hurt")
        if unharmed is None or still_hurt is None:
            return False
        return bool(unharmed.search(folded)) and not still_hurt.search(folded)


def fold_pattern(source: str) -> str:
    decomposed = unicodedata.normalize("NFKD", source)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
