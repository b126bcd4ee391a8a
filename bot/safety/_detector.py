"""Decide whether a message needs a safety reply, in layers: rules, other-language phrases, semantics.

Every layer can raise an alarm; none can silence another. The rules are precise and cheap; the semantic
layer reads indirect wording and other languages, and is the one that needs the model. A message the
semantic layer finds close to an alarm but not close enough is answered normally, with one line on what
to do in an emergency.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from bot.safety._dose import DoseCues
from bot.safety._gate import AlarmGate
from bot.safety._language import ENGLISH, LanguageGuesser
from bot.safety._lexicon import Lexicon
from bot.safety._rules import (
    CRISIS,
    URGENT,
    RuleHit,
    nothing_swallowed,
    rule_hit,
    unharmed,
    without_idioms,
)
from bot.safety._semantic import ExemplarIndex, SemanticScores

logger = logging.getLogger(__name__)

INTENTS = {CRISIS: "crisis", URGENT: "urgent_symptoms"}
LAYERS = ("rules", "lexicon", "semantic")

# Chosen on the tuning halves, tests/data/safety_dev.tsv and safety_val.tsv (scripts/tune_safety.py); never
# on the held-out file. The model separates English best; in other languages the phrases come first and
# the model must be surer.
ALARM_MARGIN = {"en": 0.0075, "other": 0.008}  # this much nearer an alarm than anything calm: the alarm
AMBIGUOUS_MARGIN = {"en": 0.003, "other": 0.0}  # nearly as near: answer, and add the emergency line
ALARM_FLOOR = 0.85  # and never on a weak similarity, whatever the margin
SHORT_MESSAGE_WORDS = 7  # an English message shorter than this needs SHORT_MARGIN_FACTOR times the margin
SHORT_MARGIN_FACTOR = 2.0
# An injury the rules or phrases found is answered as an ordinary question (with the emergency line) only
# when the model puts the message this far on the calm side. On the tuning halves the true injury alarms sit
# at -0.0004 and above, the one calm message the fall rules caught at -0.055.
INJURY_VETO_MARGIN = -0.03


@dataclass(frozen=True)
class SafetyVerdict:
    """What the safety layer decided about one message."""

    kind: str | None  # "crisis", "urgent" or None
    reason: str | None = None  # "crisis", "weak_crisis", "overdose", "pet", "injury", "semantic"
    language: str = ENGLISH
    layer: str | None = None  # the layer that raised the alarm
    ambiguous: bool = False  # no alarm, but add a line on what to do in an emergency
    scores: SemanticScores | None = None
    dose_cue: bool = False  # its words ask about a dose ("forgot it yesterday, take two today?")

    @property
    def intent(self) -> str | None:
        """Return the safety intent to answer with, or None."""
        return INTENTS.get(self.kind) if self.kind else None

    @property
    def overdose(self) -> bool:
        return self.reason == "overdose"

    @property
    def dose_question(self) -> bool:
        """Tell whether the message, raising no alarm, reads as a question about changing a dose.

        Its words say so (the dose cues), or the model puts it nearer the bank's dose questions than anything
        calm.
        """
        if self.kind is not None:
            return False
        if self.dose_cue:
            return True
        if self.scores is None:
            return False
        by_class = self.scores.by_class
        return by_class.get("dose_question", -1.0) > by_class.get("calm", -1.0)


# Reads English text the way the matcher does: spelling fixed, contractions expanded, brands made generic.
CanonicalForms = Callable[[str], tuple[str, ...]]


class SafetyDetector:
    """Decide, before anything else, whether a message needs the crisis or the urgent reply."""

    def __init__(
        self,
        canonical_forms: CanonicalForms,
        guesser: LanguageGuesser,
        lexicon: Lexicon,
        index: ExemplarIndex | None = None,
        gate: AlarmGate | None = None,
        *,
        dose_cues: DoseCues | None = None,
        layers: Sequence[str] = LAYERS,
        alarm_margin: dict[str, float] | None = None,
        ambiguous_margin: dict[str, float] | None = None,
        alarm_floor: float = ALARM_FLOOR,
    ) -> None:
        self._canonical_forms = canonical_forms
        self.guesser = guesser
        self.lexicon = lexicon
        self.dose_cues = dose_cues
        self.index = index
        self.gate = gate
        self.layers = tuple(layers)
        self.alarm_margin = alarm_margin or ALARM_MARGIN
        self.ambiguous_margin = ambiguous_margin or AMBIGUOUS_MARGIN
        self.alarm_floor = alarm_floor
        self._model_thread: ThreadPoolExecutor | None = None

    @property
    def semantic(self) -> bool:
        return self.index is not None and "semantic" in self.layers

    def with_layers(self, layers: Sequence[str]) -> SafetyDetector:
        """Return a detector using only ``layers``, for measuring each alone."""
        return SafetyDetector(
            self._canonical_forms,
            self.guesser,
            self.lexicon,
            self.index,
            self.gate,
            dose_cues=self.dose_cues,
            layers=layers,
            alarm_margin=self.alarm_margin,
            ambiguous_margin=self.ambiguous_margin,
            alarm_floor=self.alarm_floor,
        )

    def assess(self, text: str) -> SafetyVerdict:
        """Return the verdict on one message."""
        return self.assess_many([text])[0]

    async def assess_in_background(self, text: str) -> SafetyVerdict:
        """Return the verdict on one message, reading it with the model off the event loop.

        The rules and phrases take a millisecond and run here; the model takes tens of milliseconds, during
        which the loop goes on serving other patients (the engine releases the GIL). One worker thread: the
        engine's buffers are not shared between threads, and one core per process is the budget.
        """
        verdict = self._lexical(text)
        if not self._needs_model(text, verdict):
            return verdict
        if self._model_thread is None:
            self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safety-model")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._model_thread, self._with_model, [text], [verdict], [0])

    def assess_many(self, texts: Sequence[str]) -> list[SafetyVerdict]:
        """Return the verdicts on several messages, embedding those that need it in one batch."""
        verdicts = [self._lexical(text) for text in texts]
        if not self.semantic:
            return verdicts
        pending = [i for i, v in enumerate(verdicts) if self._needs_model(texts[i], v)]
        if pending:
            self._with_model(texts, verdicts, pending)
        return verdicts

    def _with_model(
        self, texts: Sequence[str], verdicts: list[SafetyVerdict], pending: Sequence[int]
    ) -> SafetyVerdict:
        """Read the ``pending`` texts with the model in one batch, updating their verdicts; return the first."""
        for i, scores in zip(pending, self.nearest([texts[i] for i in pending]), strict=True):
            verdicts[i] = self._semantic_verdict(verdicts[i], scores, texts[i])
        return verdicts[pending[0]]

    def nearest(self, texts: Sequence[str]) -> list[SemanticScores]:
        """Return how near each text is to the bank's classes, read with the model in one batch.

        A long message is as alarming as its most alarming passage.
        """
        assert self.index is not None
        views = [self._views(text) for text in texts]
        scored = iter(self.index.scores([view for group in views for view in group]))
        return [max((next(scored) for _ in group), key=lambda scores: scores.margin) for group in views]

    def _views(self, text: str) -> list[str]:
        """Return the passages of ``text`` the model reads: the whole, or a long message's alarming parts.

        Mean-pooled over a long story, one sentence like "tonight i counted them out" fades into the rest;
        read two sentences at a time it stands out. Only the passages the gate lets through are read, which
        also keeps a long message's cost near a short one's.
        """
        passages = _passages(text)
        if len(passages) > 1:
            if self.gate is not None:
                gate = self.gate
                passages = sorted((p for p in passages if gate.passes(p)), key=gate.score, reverse=True)
            else:
                passages.reverse()
            # A bound on the model's work for one message, however long: the passages the gate finds most
            # alarming (without a gate, the last ones).
            passages = passages[:MAX_PASSAGES] or [text]
        return [_for_embedding(p) for p in passages]

    def _needs_model(self, text: str, verdict: SafetyVerdict) -> bool:
        if not self.semantic:
            return False
        if verdict.reason == "injury":
            # The fall and injury patterns are broad ("she fell"): the model reads the whole message too.
            return _long_enough(text)
        return verdict.kind is None and self.worth_embedding(text)

    def worth_embedding(self, text: str) -> bool:
        """Tell whether the model could change the verdict on ``text``: long enough, and past the gate."""
        # A message of a word or two ("menu", "evening all") says too little for a sentence embedding,
        # which drifts towards whatever is densest in the bank; short alarms are the rules' job.
        if not _long_enough(text):
            return False
        # Most ordinary questions look nothing like an alarm; the gate spares them the model's time.
        return self.gate is None or self.gate.passes(text)

    def _lexical(self, text: str) -> SafetyVerdict:
        language = self.guesser.identify(text)
        forms = self._canonical_forms(text)
        hit: RuleHit | None = None
        layer = None
        if "rules" in self.layers:
            # The English rules run on every message: people mix languages, and the guess can be wrong.
            for form in forms:
                hit = rule_hit(form)
                if hit is not None:
                    layer = "rules"
                    break
        if "lexicon" in self.layers and language != ENGLISH and (hit is None or hit.kind == URGENT):
            # An English word in another language ("overdose fatal") can raise the urgent rule where the
            # language's own phrases read a crisis: the crisis wins.
            other = self.lexicon.hit(language, text)
            if other is not None and (hit is None or other.kind == CRISIS):
                hit, layer = other, "lexicon"
        if hit is None:
            dose_cue = self.dose_cues is not None and self.dose_cues.asks_about_dose(
                language, forms if language == ENGLISH else (text,)
            )
            return SafetyVerdict(None, language=language, dose_cue=dose_cue)
        if hit.reason in ("overdose", "pet") and self._nothing_swallowed(text):
            return SafetyVerdict(None, language=language, ambiguous=True)
        return SafetyVerdict(hit.kind, hit.reason, language, layer)

    def _nothing_swallowed(self, text: str) -> bool:
        return any(nothing_swallowed(form) for form in self._canonical_forms(text))

    def _unharmed(self, text: str, language: str | None) -> bool:
        if language is not None and language != ENGLISH and self.lexicon.unharmed(language, text):
            return True
        return any(unharmed(form) for form in self._canonical_forms(text))

    def _semantic_verdict(self, verdict: SafetyVerdict, scores: SemanticScores, text: str) -> SafetyVerdict:
        margin = scores.margin
        if verdict.kind is not None:
            if margin < INJURY_VETO_MARGIN:
                # "fell over drunk at the wedding and bruised his pride": the words of a fall, and a message
                # far nearer the calm side than any true alarm the injury rules caught. Answer it, with the
                # emergency line.
                return replace(verdict, kind=None, reason=None, layer=None, ambiguous=True, scores=scores)
            return replace(verdict, scores=scores)
        group = ENGLISH if verdict.language == ENGLISH else "other"
        needed = self.alarm_margin[group]
        if group == ENGLISH and len(text.split()) < SHORT_MESSAGE_WORDS:
            # A few words give the model little to go on ("a note with a nul" sits near "i wrote a goodbye
            # note"); a short English alarm is the rules' to catch, and on the tuning halves every one was.
            needed *= SHORT_MARGIN_FACTOR
        if margin >= needed and scores.alarm >= self.alarm_floor:
            alarm_class = scores.alarm_class
            if alarm_class == "overdose" and self._nothing_swallowed(text):
                # "noticed before i swallowed it" sits next to "took my husband's pills by mistake".
                return replace(verdict, ambiguous=True, scores=scores)
            if alarm_class == "urgent" and self._unharmed(text, verdict.language):
                # "levei um tombo mas não doeu nada" sits next to the falls that did hurt.
                return replace(verdict, ambiguous=True, scores=scores)
            kind = CRISIS if alarm_class == "crisis" else URGENT
            reason = "overdose" if alarm_class == "overdose" else "semantic"
            return replace(verdict, kind=kind, reason=reason, layer="semantic", scores=scores)
        return replace(verdict, ambiguous=margin >= self.ambiguous_margin[group], scores=scores)


MIN_WORDS = 3
MIN_IDEOGRAPHS = 5  # Chinese and Japanese write without spaces


def _long_enough(text: str) -> bool:
    words = text.split()
    if len(words) >= MIN_WORDS:
        return True
    ideographs = sum(
        1
        for ch in text
        if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"
    )
    return ideographs >= MIN_IDEOGRAPHS


LONG_MESSAGE_WORDS = 40  # from here on a message is read in passages of two sentences
MAX_PASSAGES = 4
_SENTENCE_END = re.compile(r"(?<=[.!?…。])\s+|\n+")


def _passages(text: str) -> list[str]:
    """Return a long message's overlapping two-sentence passages and its last sentence, or the message."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(text.split()) < LONG_MESSAGE_WORDS or len(sentences) < 2:
        return [text]
    # Pairs, and the last sentence alone: people often keep the thing they find hardest to say for last.
    pairs = (" ".join(sentences[i : i + 2]) for i in range(len(sentences)))
    return list(dict.fromkeys(pairs))


def _for_embedding(text: str) -> str:
    # Long messages are cut where the model's attention is spent; idioms are taken out so that "killing me"
    # about hot flashes does not sit next to "kill me".
    return without_idioms(" ".join(text.lower().split())[:600])
