"""Tell which language a message is in, offline, with py3langid plus what English chat looks like.

Short English messages ("ok", "hi", "dexa?") carry too few letters for a character model, so a message
whose words are mostly known English words is English whatever the model says; a message in a non-Latin
script is never English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from py3langid.langid import MODEL_FILE, LanguageIdentifier

ENGLISH = "en"
# The languages whose crisis and urgent messages BoneBot recognises and answers in their own words.
SAFETY_LANGUAGES = ("es", "fr", "de", "ru", "pt", "it", "pl", "uk")
# The model chooses among these: the safety languages and others patients write in, so that a Dutch or
# Turkish message is not forced into the nearest safety language.
_CANDIDATES = (
    ENGLISH,
    *SAFETY_LANGUAGES,
    *("nl", "sv", "da", "no", "fi", "tr", "ro", "cs", "sk", "hu", "el", "bg", "hr", "sr", "lt", "lv"),
    *("et", "ca", "ar", "he", "fa", "hi", "bn", "ur", "zh", "ja", "ko", "th", "vi", "id", "ms", "tl"),
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_MIN_CONFIDENCE = 0.5  # below this the model is guessing: stay with English


class LanguageGuesser:
    """Guess a message's language: ISO 639-1 code, ``en`` when in doubt."""

    def __init__(self, english_words: Iterable[str]) -> None:
        self._english = frozenset(w.lower() for w in english_words)
        self._model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._model.set_languages(list(_CANDIDATES))

    def identify(self, text: str) -> str:
        """Return the language code of ``text``."""
        words = _WORD.findall(text.lower())
        if not words:
            return ENGLISH
        latin = sum(_is_latin(w) for w in words)
        if latin == len(words):
            known = sum(w in self._english for w in words)
            if known * 2 >= len(words):
                return ENGLISH
        language, confidence = self._model.classify(text)
        if latin < len(words) and language == ENGLISH:
            # A Cyrillic, Greek or Arabic message the model calls English: trust the script.
            language, confidence = self._best_non_english(text)
        if latin == len(words) and confidence < _MIN_CONFIDENCE:
            return ENGLISH
        return str(language)

    def _best_non_english(self, text: str) -> tuple[str, float]:
        for language, confidence in self._model.rank(text):
            if language != ENGLISH:
                return str(language), float(confidence)
        return ENGLISH, 0.0


def _is_latin(word: str) -> bool:
    return all("LATIN" in unicodedata.name(ch, "") for ch in word)
