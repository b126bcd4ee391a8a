"""Read a message as a turn in a conversation: follow-ups, introductions, feelings, small talk, question kinds.

The words live in ``intents/_dialogue.yaml``; this module only applies them. Every function here is pure:
it takes the message (in the matcher's spelling) and what the conversation knows, and says what the
message is, leaving the answering to the conversation core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot._yaml import load_yaml
from bot.content import KnowledgeBase
from bot.matching import Normalizer, fold

FOLLOWUP_FORMS = ("why", "how", "how_much", "does_it_work", "how_often", "other", "meaning", "more")
_LEADING = re.compile(r"^(?:(?:and|but|so|ok|okay|hmm|right|oh|ah|then|well|sorry)\s+)+")
_TRAILING = re.compile(r"(?:\s+(?:then|please|too|as well|again|exactly|though))+$")
_SEGMENTS = re.compile(r"[,.;:!?\n]+|\s+(?:and|but|so|because|cos|cause)\s+", re.IGNORECASE)
_EMOJI_ONLY = re.compile(r"^[\W_]+$")


class DialogueError(ValueError):
    """Raise when ``intents/_dialogue.yaml`` is missing a section or holds a bad pattern."""


@dataclass(frozen=True)
class FollowUp:
    """Where a follow-up leads: an intent at a level, tailored to a subject, or a topic not covered."""

    form: str  # why, how, how_much, how_often, other, meaning, more, profile, medicine, site, topic
    intent: str | None
    level: str = "short"
    profile: str | None = None
    medicine: str | None = None
    not_covered: str | None = None


@dataclass(frozen=True)
class Introduction:
    """What a message says about the patient, and the part of it that still asks something."""

    profile: str | None
    medicine: str | None
    age: int | None
    remainder: str  # the raw text of the segments that are not introduction; "" when none


@dataclass(frozen=True)
class KindRoute:
    """One row of the question-kind routes."""

    kind: str
    when: frozenset[str]  # intents the matcher chose; "-" for none
    to: str
    needs: str | None = None  # "bone_drug" or "bone_loss": the message must also say this
    level: str = "short"  # the level that holds the answer to this kind of question


def _compile(patterns: Any, where: str, *, whole: bool = False) -> re.Pattern[str]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise DialogueError(f"intents/_dialogue.yaml: {where} must be a pattern or a list of patterns")
    body = "|".join(f"(?:{p})" for p in patterns)
    try:
        return re.compile(f"^(?:{body})$" if whole else body)
    except re.error as exc:
        raise DialogueError(f"intents/_dialogue.yaml: {where}: {exc}") from exc


class Dialogue:
    """Apply the conversation rules of ``intents/_dialogue.yaml``."""

    def __init__(self, knowledge: KnowledgeBase, normalizer: Normalizer, data: dict[str, Any]) -> None:
        self.knowledge = knowledge
        self.normalizer = normalizer
        try:
            followups = data["followups"]
            self._forms = {
                form: _compile(followups[form], f"followups.{form}", whole=True) for form in FOLLOWUP_FORMS
            }
            self._subject = [_compile(p, "followups.subject", whole=True) for p in followups["subject"]]
            self._profiles: dict[str, re.Pattern[str]] = {
                str(profile): _compile(p, f"followups.profiles.{profile}", whole=True)
                for profile, p in followups["profiles"].items()
            }
            self._sites = _compile(followups["sites"], "followups.sites", whole=True)
            self._mentions: dict[str, re.Pattern[str]] = {
                str(profile): _compile(p, f"followups.mentions.{profile}")
                for profile, p in followups["mentions"].items()
            }
            self._routes: dict[str, dict[str, str]] = {
                str(k): {str(f): str(t) for f, t in v.items()} for k, v in followups["routes"].items()
            }
            self._profile_routes = {str(k): str(v) for k, v in followups["profile_routes"].items()}
            intro = data["introductions"]
            self._age = [_compile(p, "introductions.age") for p in intro["age"]]
            self._intro = {
                part: _compile(intro[part], f"introductions.{part}")
                for part in ("caregiver", "man", "woman", "started", "man_hints", "woman_hints")
            }
            self._filler = _compile(intro["filler"], "introductions.filler", whole=True)
            self._feelings = _compile(data["feelings"], "feelings")
            self._question = _compile(data["question"], "question")
            self._someone_else = _compile(data["someone_else"], "someone_else")
            self._smalltalk: dict[str, re.Pattern[str]] = {
                str(name): _compile(p, f"smalltalk.{name}", whole=True)
                for name, p in data["smalltalk"].items()
            }
            self._kinds: dict[str, re.Pattern[str]] = {
                str(kind): _compile(p, f"kinds.{kind}") for kind, p in data["kinds"].items()
            }
            self._kind_routes = [
                KindRoute(
                    str(r["kind"]),
                    frozenset(str(w) for w in r["when"]),
                    str(r["to"]),
                    r.get("needs"),
                    str(r.get("level", "short")),
                )
                for r in data["routes"]
            ]
            self._needs = {
                "bone_drug": _compile(data["bone_drug"], "bone_drug"),
                "bone_loss": _compile(data["bone_loss"], "bone_loss"),
                "trial": _compile(data["trial"], "trial"),
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise DialogueError(f"intents/_dialogue.yaml: missing or malformed section {exc}") from exc
        known = set(knowledge.intents)
        targets = [t for routes in self._routes.values() for t in routes.values()]
        targets += [*self._profile_routes.values(), *(r.to for r in self._kind_routes)]
        for target in [*targets, *self._routes]:
            if target not in known:
                raise DialogueError(f"intents/_dialogue.yaml: {target!r} is not an intent")
        for route in self._kind_routes:
            if route.kind not in self._kinds or (route.needs is not None and route.needs not in self._needs):
                raise DialogueError(f"intents/_dialogue.yaml: bad route {route}")
            if route.level not in knowledge.intent(route.to).levels:
                raise DialogueError(f"intents/_dialogue.yaml: {route.to} has no level {route.level!r}")

    @classmethod
    def load(cls, root: Path, knowledge: KnowledgeBase, normalizer: Normalizer) -> Dialogue:
        """Load ``root/intents/_dialogue.yaml``."""
        path = root / "intents" / "_dialogue.yaml"
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DialogueError(f"{path}: cannot read: {exc}") from exc
        if not isinstance(data, dict):
            raise DialogueError(f"{path}: must be a mapping")
        return cls(knowledge, normalizer, data)

    # -- small talk and feelings -------------------------------------------------------------------

    def smalltalk(self, text: str) -> str | None:
        """Return the small-talk reply name for a message that is only small talk, else None."""
        if text.strip() and _EMOJI_ONLY.match(text.strip()):
            return "acknowledge"  # an emoji or a thumbs-up on its own
        folded = fold(text)
        for name, pattern in self._smalltalk.items():
            if pattern.match(folded) or pattern.match(_core(folded)):
                return name
        return None

    def asks(self, text: str) -> bool:
        """Return whether the message asks something (a question mark or a clause opening with a question word)."""
        if "?" in text:
            return True
        return any(self._question.search(self.normalizer.spelling(part)) for part in _SEGMENTS.split(text))

    def about_someone_else(self, spelled: str) -> bool:
        """Return whether the message speaks of another person (she, he, my mother ...)."""
        return bool(self._someone_else.search(spelled))

    def feels(self, spelled: str) -> bool:
        """Return whether the message speaks of fear, sadness, worry or distress."""
        return bool(self._feelings.search(spelled))

    # -- follow-ups --------------------------------------------------------------------------------

    def followup_form(self, spelled: str) -> str | None:
        """Return the follow-up form the whole message takes (why, how, ...), or None."""
        core = _core(spelled)
        for form, pattern in self._forms.items():
            if pattern.match(core) or pattern.match(spelled):
                return form
        return None

    def subject(self, spelled: str) -> str | None:
        """Return X of "what about X" and its kin, or None."""
        for text in (spelled, _core(spelled)):
            for pattern in self._subject:
                found = pattern.match(text)
                if found:
                    subject = _TRAILING.sub("", found.group("subject")).strip()
                    return subject or None
        return None

    def route(self, intent: str, form: str) -> str | None:
        """Return where ``form`` leads from ``intent`` when not to the same intent."""
        return self._routes.get(intent, {}).get(form)

    def subject_profile(self, subject: str) -> str | None:
        for profile, pattern in self._profiles.items():
            if pattern.match(subject):
                return profile
        return None

    def mentioned_profile(self, spelled: str) -> str | None:
        """Return the one profile a whole question names ("do men lose bone"), or None for none or both."""
        named = [profile for profile, pattern in self._mentions.items() if pattern.search(spelled)]
        return named[0] if len(named) == 1 else None

    def profile_route(self, profile: str) -> str | None:
        return self._profile_routes.get(profile)

    def names_only_medicines(self, subject: str) -> bool:
        """Return whether ``subject`` is a medicine's name and little else ("the injection one, prolia")."""
        named = set(self.normalizer.medicine_of) | {"ai", "bisphosphonate"}
        words = [w for w in subject.split() if w not in named and not self._filler.match(w)]
        return len(words) <= 2

    def is_site(self, subject: str) -> bool:
        return bool(self._sites.match(subject))

    # -- introductions -----------------------------------------------------------------------------

    def introduction(self, text: str) -> Introduction | None:
        """Return what ``text`` says about the patient, or None when it introduces no one."""
        spelled = self.normalizer.spelling(text)
        age = next((int(m.group("age")) for p in self._age if (m := p.search(spelled))), None)
        found = {part: bool(p.search(spelled)) for part, p in self._intro.items()}
        if age is None and not any(found[p] for p in ("caregiver", "man", "woman", "started")):
            return None
        medicines = [self.knowledge.medicine(g) for g in self.normalizer.medicines(spelled)]
        ai = next((m.generic for m in medicines if m is not None and m.kind == "ai"), None)
        if found["caregiver"]:
            profile: str | None = "caregiver"
        elif found["man"] or found["man_hints"]:
            profile = "man_trt"
        elif found["woman"] or found["woman_hints"] or ai is not None or " ai" in f" {spelled}":
            profile = "woman_ai"
        else:
            profile = None
        if profile is None and ai is None:
            return None  # an age alone ("i am 62") is too little to welcome anyone by
        return Introduction(profile, ai, age, self._remainder(text))

    def _remainder(self, text: str) -> str:
        kept = []
        for segment in _SEGMENTS.split(text):
            spelled = self.normalizer.spelling(segment)
            if not spelled:
                continue
            leftover = spelled
            for pattern in (*self._age, *self._intro.values()):
                leftover = pattern.sub(" ", leftover)
            words = [w for w in leftover.split() if not self._filler.match(w)]
            if words or self.feels(spelled):
                kept.append(segment.strip())
        return ", ".join(kept)

    # -- question kinds ----------------------------------------------------------------------------

    def kind(self, spelled: str) -> str | None:
        """Return the first kind of question ``spelled`` asks, in the order the data file lists them."""
        for kind, pattern in self._kinds.items():
            if pattern.search(spelled):
                return kind
        return None

    def kind_route(self, spelled: str, intent: str | None, medicines: tuple[str, ...]) -> KindRoute | None:
        """Return the route to the intent and level that answer this kind of question, or None."""
        kind = self.kind(spelled)
        if kind is None:
            return None
        chosen = intent or "-"
        for route in self._kind_routes:
            if route.kind != kind or chosen not in route.when:
                continue
            if route.needs is not None and not self._has(route.needs, spelled, medicines):
                continue
            return route
        return None

    def _has(self, need: str, spelled: str, medicines: tuple[str, ...]) -> bool:
        if need == "bone_drug" and any(
            (m := self.knowledge.medicine(g)) is not None and m.kind == "bone_drug" for g in medicines
        ):
            return True
        return bool(self._needs[need].search(spelled))


def _core(text: str) -> str:
    """Drop the leading "and", "so", "ok" and the trailing "then", "please" of a short message."""
    return _TRAILING.sub("", _LEADING.sub("", text.strip())).strip()
