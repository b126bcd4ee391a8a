"""Plain data for the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, field

PROFILES: tuple[str, ...] = ("woman_ai", "man_trt", "caregiver", "other")
LEVELS: tuple[str, ...] = ("short", "F", "I", "A")
LEVEL_NAMES: dict[str, str] = {
    "short": "Short answer",
    "F": "Fundamentals",
    "I": "Intermediate",
    "A": "Academic",
}
GROUPS: tuple[str, ...] = ("biology", "monitoring", "protecting", "feelings", "conversation")
KINDS: tuple[str, ...] = ("article", "smalltalk", "flow", "refusal", "safety")
SAFETY_INTENTS: frozenset[str] = frozenset({"urgent_symptoms", "crisis"})
DOSE_INTENT = "medication_dose"  # the dose guard: no advice on doses, ask the prescriber
ARTICLE_REFERENCE = "article"  # the article itself: every article answer cites it, whatever it states
REFERENCE_LIST_INTENT = "sources"  # the answer that is the article's reference list, so names every entry


@dataclass(frozen=True)
class Reference:
    """One entry of ``intents/_references.yaml``: how it is cited and who it is for."""

    key: str
    cite: str  # the short citation shown in the source line
    names: tuple[str, ...] = ()  # how an answer would name it in its text ("Eastell", "Vantage Health")
    profiles: tuple[str, ...] = ()  # empty: any profile; else only answers for (or about) these profiles

    def allowed_for(self, profile: str, audience: tuple[str, ...]) -> bool:
        """Return whether an answer for ``profile`` in an intent about ``audience`` may cite this."""
        if not self.profiles:
            return True
        return profile in self.profiles or (bool(audience) and set(audience) <= set(self.profiles))


@dataclass(frozen=True)
class Medicine:
    """A medicine the article names, with the names patients use for it."""

    generic: str
    brands: tuple[str, ...]
    kind: str  # "ai", "bone_drug" or "serm"
    misspellings: tuple[str, ...] = ()

    @property
    def brand(self) -> str:
        return self.brands[0] if self.brands else ""

    @property
    def label(self) -> str:
        return f"{self.generic} ({self.brand})" if self.brand else self.generic


@dataclass(frozen=True)
class Intent:
    """One curated question topic and how it is answered."""

    id: str
    group: str
    kind: str
    title: str
    depths: tuple[str, ...]
    examples: tuple[str, ...]
    related: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # For each reference key, the phrases that state the fact it supports: it is cited only where the
    # answer states one of them. An empty tuple (the article itself) is cited always.
    reference_facts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    suggested_questions: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()  # the profiles the whole intent is about (men_trt: man_trt)

    def facts_for(self, key: str) -> tuple[str, ...]:
        """Return the phrases the intent maps reference ``key`` to (empty if unmapped)."""
        return next((facts for k, facts in self.reference_facts if k == key), ())

    @property
    def levels(self) -> tuple[str, ...]:
        """Return every level this intent can be shown at, the short reply first."""
        return ("short", *self.depths)

    def next_level(self, level: str) -> str | None:
        """Return the level "Tell me more" leads to from ``level``, or None at the deepest."""
        levels = self.levels
        if level not in levels:
            return None
        index = levels.index(level)
        return levels[index + 1] if index + 1 < len(levels) else None


@dataclass(frozen=True)
class NearScopeTopic:
    """A topic beside the article's that it does not cover, with the phrasings patients use for it."""

    id: str
    label: str
    decides: str  # who answers it: oncologist, prescriber or care_team
    examples: tuple[str, ...]
    cues: tuple[str, ...] = ()  # regular expressions that settle the topic; {ai} is any AI's name
    unless: tuple[str, ...] = ()  # regular expressions that stop the cues from settling it


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything loaded from ``intents/``; immutable once loaded."""

    intents: dict[str, Intent]
    references: dict[str, Reference]
    medicines: tuple[Medicine, ...]
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)
    version: str = ""
    out_of_scope: tuple[str, ...] = ()  # example questions no intent owns
    near_scope: dict[str, NearScopeTopic] = field(default_factory=dict)  # topics the article leaves out

    def intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def by_group(self, group: str) -> list[Intent]:
        return [i for i in self.intents.values() if i.group == group]

    def medicine(self, generic: str | None) -> Medicine | None:
        if not generic:
            return None
        return next((m for m in self.medicines if m.generic == generic), None)
