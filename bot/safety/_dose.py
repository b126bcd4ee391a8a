"""Tell a question about a dose (how much, when, skipped, doubled, halved) from the words it uses (a data file)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from bot.safety._lexicon import compile_any, fold, fold_pattern, read_phrase_file

DEFAULT_DOSE_CUES = Path(__file__).resolve().parent.parent / "data" / "dose_cues.yaml"
ENGLISH = "en"
_PARTS = ("medicine", "cue")


class DoseCueError(ValueError):
    """Raise when the dose cues file cannot be used."""


class DoseCues:
    """Per-language patterns: what names a medicine or a dose, and what asks about changing one."""

    def __init__(self, patterns: dict[str, tuple[re.Pattern[str], re.Pattern[str]]]) -> None:
        self._patterns = patterns

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._patterns))

    @classmethod
    def load(cls, path: Path = DEFAULT_DOSE_CUES) -> DoseCues:
        """Read and compile the cues; the other languages' are folded as their messages are."""
        data = read_phrase_file(path, DoseCueError)
        patterns: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}
        for language, parts in data.items():
            if not isinstance(parts, dict) or set(parts) != set(_PARTS):
                raise DoseCueError(f"{path}: {language!r} needs exactly {' and '.join(_PARTS)}")
            compiled = []
            for part in _PARTS:
                sources = [str(p) if language == ENGLISH else fold_pattern(str(p)) for p in parts[part] or []]
                if not sources:
                    raise DoseCueError(f"{path}: {language!r} has no {part} patterns")
                compiled.append(compile_any(sources, f"{path}: {language}/{part}", DoseCueError))
            patterns[language] = (compiled[0], compiled[1])
        return cls(patterns)

    def asks_about_dose(self, language: str, texts: Iterable[str]) -> bool:
        """Tell whether any of ``texts`` (one message's readings) asks about a dose of a medicine.

        English readings are the matcher's canonical forms; a message in another language is folded here.
        """
        compiled = self._patterns.get(language)
        if compiled is None:
            return False
        medicine, cue = compiled
        for text in texts:
            read = text if language == ENGLISH else fold(text)
            if cue.search(read) and medicine.search(read):
                return True
        return False
