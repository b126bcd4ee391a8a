"""Turn a patient's message into canonical text and index tokens.

Canonical text is lower-case ASCII with spelling variants, abbreviations, brand names and common
misspellings rewritten (``Arimidex`` → ``anastrozole ai``). Index tokens are canonical words with
function words dropped and a Snowball stem applied, so "fractures" and "fracture" meet.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

from bot.content import KnowledgeBase

_NON_WORD = re.compile(r"[^a-z0-9_]+")
_APOSTROPHES = re.compile(r"[’'`´]")

# Function words carry no topic; question words ("why", "how", "often", "what") are kept on purpose.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "our",
        "us",
        "you",
        "your",
        "yours",
        "he",
        "she",
        "him",
        "her",
        "his",
        "it",
        "its",
        "they",
        "them",
        "their",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "would",
        "could",
        "can",
        "will",
        "just",
        "really",
        "very",
        "also",
        "too",
        "please",
        "ok",
        "okay",
        "um",
        "uh",
        "there",
        "here",
        "some",
        "any",
        "get",
        "got",
        "getting",
        "go",
        "going",
        "know",
        "tell",
        "say",
        "said",
    ]
)

# Medicine classes add a shared token so "how does letrozole work" meets "how does an AI work".
_CLASS_TOKEN = {"ai": "ai", "bone_drug": "", "serm": ""}
_BISPHOSPHONATES = frozenset({"zoledronic_acid", "ibandronate"})


_MONTH = (
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|"
    r"september|october|november|december)"
)
# A date in the message ("14 may", "3 4 27" once folded, "next tuesday") is what "my scan is on …" shares.
_DATE = re.compile(
    rf"\b(\d{{1,2}}(st|nd|rd|th)? (of )?{_MONTH}\b|{_MONTH} \d{{1,2}}(st|nd|rd|th)?\b|"
    r"\d{1,4} \d{1,2} \d{2,4}\b|(next|this|on) (monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"in \d+ (days|weeks|months))"
)


def _alternation(table: dict[str, str]) -> re.Pattern[str] | None:
    keys = sorted(table, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None


def fold(text: str) -> str:
    """Lower-case, strip accents, and turn punctuation into spaces."""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _APOSTROPHES.sub("", text).replace("-", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Analysis:
    """A message in the forms the matcher uses."""

    spelled: str  # folded, spelling rewritten: what the safety rules read
    corrected: str  # and unknown words corrected towards known ones
    matching: str  # and dates and lay phrasings rewritten to concept words


class Normalizer:
    """Normalise messages with the knowledge base's vocabulary and medicine names."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        vocabulary = knowledge.vocabulary
        self._phrases: dict[str, str] = {}
        for source, target in vocabulary.get("phrases", {}).items():
            self._phrases[fold(source)] = fold(target) if target != "zoledronic_acid" else target
        self._words: dict[str, str] = {fold(k): v for k, v in vocabulary.get("words", {}).items()}
        self.medicine_of: dict[str, str] = {}  # canonical token -> generic name
        for medicine in knowledge.medicines:
            generic_token = medicine.generic.replace(" ", "_")
            for alias in (medicine.generic, *medicine.brands, *medicine.misspellings):
                key = fold(alias)
                if " " in key:
                    self._phrases[key] = generic_token
                else:
                    self._words[key] = generic_token
            self.medicine_of[generic_token] = medicine.generic
            extra = _CLASS_TOKEN.get(medicine.kind, "")
            if generic_token in _BISPHOSPHONATES:
                extra = "bisphosphonate"
            if extra:
                self._words[generic_token] = f"{generic_token} {extra}"
                for alias in (*medicine.brands, *medicine.misspellings):
                    if " " not in fold(alias):
                        self._words[fold(alias)] = f"{generic_token} {extra}"
        self._phrase_pattern = _alternation(self._phrases)
        self._concepts = {fold(k): fold(v) for k, v in vocabulary.get("concepts", {}).items()}
        self._concept_pattern = _alternation(self._concepts)
        self._stemmer = snowballstemmer.stemmer("english")
        self._known: list[str] = []
        self._known_set: frozenset[str] = frozenset()
        self._known_by_initial: defaultdict[str, list[str]] = defaultdict(list)

    def learn(self, texts: Iterable[str]) -> None:
        """Record the words of ``texts`` as known, so unknown words can be corrected towards them."""
        known = set(self._known_set)
        for text in texts:
            known.update(w for w in self.canonical(text).split() if len(w) >= 4 and not w.isdigit())
        known.update(w for w in self._words.values() for w in w.split())
        self._known_set = frozenset(known)
        self._known = sorted(known)
        # Typos rarely change a word's first letter: comparing within that letter keeps correction cheap.
        self._known_by_initial = defaultdict(list)
        for word in self._known:
            self._known_by_initial[word[0]].append(word)
        self._correct.cache_clear()

    @property
    def english_words(self) -> frozenset[str]:
        """Return the English words the bot knows: its examples' vocabulary and common short words."""
        return self._known_set | _ENGLISH

    def spelling(self, text: str) -> str:
        """Return ``text`` folded with spelling variants, abbreviations and medicine names rewritten."""
        folded = fold(text)
        if self._phrase_pattern is not None:
            folded = self._phrase_pattern.sub(lambda m: self._phrases[m.group(1)], folded)
        return " ".join(self._words.get(word, word) for word in folded.split())

    def with_concepts(self, spelled: str) -> str:
        """Rewrite dates and lay phrasings to concept words: the form the matcher compares."""
        text = _DATE.sub(" scandate ", spelled)
        if self._concept_pattern is not None:
            text = self._concept_pattern.sub(lambda m: self._concepts[m.group(1)], text)
        return " ".join(text.split())

    def canonical(self, text: str, *, concepts: bool = True) -> str:
        """Return the canonical form of ``text``: spelling rewritten and, for matching, concepts."""
        spelled = self.spelling(text)
        return self.with_concepts(spelled) if concepts else spelled

    @lru_cache(maxsize=65536)  # noqa: B019 - one Normalizer lives for the whole process
    def _correct(self, word: str) -> str:
        if len(word) < 5 or word in self._known_set or word.isdigit() or not self._known:
            return word
        best = process.extractOne(
            word, self._known_by_initial.get(word[0], ()), scorer=fuzz.ratio, score_cutoff=84
        )
        if best is None:
            return word
        corrected = best[0]
        return self._words.get(corrected, corrected)

    def correct(self, spelled: str) -> str:
        """Correct unknown words of already-spelled text to the nearest known word."""
        return " ".join(self._correct(word) for word in spelled.split())

    def corrected(self, text: str, *, concepts: bool = True) -> str:
        """Return canonical text with unknown words corrected to the nearest known word."""
        fixed = self.correct(self.spelling(text))
        return self.with_concepts(fixed) if concepts else fixed

    def analyse(self, text: str) -> Analysis:
        """Return every form of ``text`` the matcher needs, computing each step once."""
        spelled = self.spelling(text)
        fixed = self.correct(spelled)
        return Analysis(spelled=spelled, corrected=fixed, matching=self.with_concepts(fixed))

    def tokens(self, canonical_text: str) -> list[str]:
        """Return index tokens for already-canonical text."""
        return [self._stem(w) for w in canonical_text.split() if w not in STOPWORDS]

    @lru_cache(maxsize=65536)  # noqa: B019 - one Normalizer lives for the whole process
    def _stem(self, word: str) -> str:
        # Stemming is most of the work per question and words repeat endlessly: remember each one.
        return str(self._stemmer.stemWord(word))

    def medicines(self, canonical_text: str) -> list[str]:
        """Return the generic names of medicines mentioned, in order of mention."""
        found: list[str] = []
        for word in canonical_text.split():
            generic = self.medicine_of.get(word)
            if generic and generic not in found:
                found.append(generic)
        return found


# Function words of the languages patients most often write in besides English. A message built from
# them is not English, and the catalog puts every non-English message out of scope.
_FOREIGN = frozenset(
    [
        "que",
        "el",
        "la",
        "los",
        "las",
        "es",
        "est",
        "un",
        "una",
        "por",
        "para",
        "como",
        "con",
        "del",
        "al",
        "mi",
        "mis",
        "y",
        "o",
        "pero",
        "esta",
        "estoy",
        "tengo",
        "puedo",
        "le",
        "les",
        "des",
        "une",
        "et",
        "est",
        "ce",
        "qui",
        "avec",
        "pour",
        "pas",
        "je",
        "suis",
        "mon",
        "ma",
        "mes",
        "dans",
        "sur",
        "au",
        "aux",
        "du",
        "cest",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ich",
        "mein",
        "meine",
        "mit",
        "fur",
        "ein",
        "eine",
        "wie",
        "was",
        "kann",
        "bei",
        "auch",
        "jak",
        "czy",
        "nie",
        "jest",
        "mam",
        "moje",
        "moja",
        "sie",
        "na",
        "do",
        "po",
        "ze",
        "co",
        "il",
        "lo",
        "gli",
        "che",
        "non",
        "sono",
        "della",
        "per",
        "con",
        "mio",
        "mia",
        "come",
        "o",
        "os",
        "as",
        "um",
        "uma",
        "voce",
        "nao",
        "com",
        "meu",
        "minha",
        "het",
        "een",
        "van",
        "en",
        "niet",
        "ik",
        "mijn",
        "met",
        "hoe",
        "wat",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "is",
        "are",
        "am",
        "i",
        "my",
        "me",
        "you",
        "your",
        "it",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "what",
        "how",
        "why",
        "when",
        "can",
        "do",
        "does",
        "will",
        "should",
        "bone",
        "bones",
        "my",
        "scan",
    ]
)


def looks_foreign(canonical_text: str) -> bool:
    """Tell whether a message reads as another language rather than English."""
    words = canonical_text.split()
    foreign = sum(word in _FOREIGN for word in words)
    english = sum(word in _ENGLISH for word in words)
    return foreign >= 2 and foreign > english
