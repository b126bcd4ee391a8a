"""Match a message to an intent: safety rules first, then a token index shortlist scored with rapidfuzz.

Everything is built once from the knowledge base; a question costs no I/O. The index holds TF-IDF
vectors of every example and of every intent as a whole (the centroid of its examples). A question's
tokens reach only the examples and intents that share a token, so the work per question depends on
the question, not on the size of the intent set; rapidfuzz then scores the shortlisted examples
character by character, which rescues typos and word order the token index misses.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from bot.content import DOSE_INTENT, SAFETY_INTENTS, KnowledgeBase
from bot.matching._normalize import Normalizer, looks_foreign
from bot.safety import SafetyDetector, SafetyVerdict
from bot.safety.factory import build_safety_detector

# Weights and thresholds were tuned on tests/data/dev.tsv and checked on tests/data/holdout.tsv.
EXAMPLE_WEIGHT = 0.45
CENTROID_WEIGHT = 0.30
FUZZY_WEIGHT = 0.25
THRESHOLD = 42.0  # below this the question is outside what the bot covers
ALTERNATIVE_FLOOR = 25.0  # alternatives below this are not worth offering
NEAR_TIE = 6.0  # a runner-up this close to the winner is offered as "did you mean"
SHORTLIST = 12
OUT_OF_SCOPE = "_out_of_scope"  # the pseudo-intent of questions no intent owns
NEAR_SCOPE = "_near_scope:"  # prefix of the pseudo-intents of near-scope topics the article does not cover


@dataclass(frozen=True)
class Candidate:
    """An intent and its score (0-100)."""

    intent: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided about one message."""

    intent: str | None  # None: outside what the bot covers
    score: float
    alternatives: tuple[Candidate, ...]  # up to three other intents, best first
    medicines: tuple[str, ...] = ()  # generic names the message mentions
    safety: bool = False
    topical: str | None = None  # for a safety hit: the topic the message also asks about, if any
    verdict: SafetyVerdict | None = None  # the safety layer's reading, alarm or not
    not_covered: str | None = None  # a near-scope topic the article does not cover, when one won

    @property
    def near_ties(self) -> tuple[Candidate, ...]:
        """Return alternatives close enough to the winner to ask "did you mean"."""
        if self.safety or self.intent is None:
            return ()
        return tuple(c for c in self.alternatives if self.score - c.score <= NEAR_TIE)


@dataclass(frozen=True)
class _Example:
    intent: str
    canonical: str


class Matcher:
    """Match messages to the knowledge base's intents."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        threshold: float = THRESHOLD,
        weights: tuple[float, float, float] = (EXAMPLE_WEIGHT, CENTROID_WEIGHT, FUZZY_WEIGHT),
        safety: SafetyDetector | None = None,
        semantic: bool = False,
        threads: int = 1,
    ) -> None:
        self.knowledge = knowledge
        self.threshold = threshold
        self.weights = weights
        self.normalizer = Normalizer(knowledge)
        matchable = [i for i in knowledge.intents.values() if i.id not in SAFETY_INTENTS]
        self.normalizer.learn(e for i in knowledge.intents.values() for e in i.examples)
        self.normalizer.learn(e for t in knowledge.near_scope.values() for e in t.examples)
        # Without a detector given, the lexical layers alone (or all of them with ``semantic``).
        ordinary = self.ordinary_questions(knowledge)
        self.safety_detector = safety or build_safety_detector(
            self.normalizer, semantic=semantic, ordinary=ordinary, threads=threads
        )

        documents: list[tuple[str, str, list[str]]] = []
        for intent in matchable:
            for text in (*intent.examples, intent.title):
                canonical = self.normalizer.canonical(text)
                documents.append((intent.id, canonical, self.normalizer.tokens(canonical)))
        # Questions no intent owns compete like an intent: when they win, the answer is "not covered".
        for text in knowledge.out_of_scope:
            canonical = self.normalizer.canonical(text)
            documents.append((OUT_OF_SCOPE, canonical, self.normalizer.tokens(canonical)))
        # Near-scope topics compete the same way, each as its own pseudo-intent, so the reply can name it.
        for topic in knowledge.near_scope.values():
            for text in topic.examples:
                canonical = self.normalizer.canonical(text)
                documents.append((NEAR_SCOPE + topic.id, canonical, self.normalizer.tokens(canonical)))

        ai_names = "|".join(re.escape(m.generic) for m in knowledge.medicines if m.kind == "ai")

        def compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
            if not patterns:
                return None
            return re.compile("|".join(f"(?:{p})" for p in patterns).replace("{ai}", f"(?:{ai_names})"))

        self._near_cues = [
            (topic.id, cues, compiled(topic.unless))
            for topic in knowledge.near_scope.values()
            if (cues := compiled(topic.cues)) is not None
        ]

        # Rarity is counted over intents, not examples: a word every intent uses ("ai", "bone") says little,
        # however many examples repeat it, and a word one intent owns ("abcsg18") says a lot.
        owners: dict[str, set[str]] = defaultdict(set)
        for intent_id, _, tokens in documents:
            for token in tokens:
                owners[token].add(intent_id)
        count = len({intent_id for intent_id, _, _ in documents})
        self._idf = {t: math.log((1 + count) / (1 + len(o))) + 1.0 for t, o in owners.items()}
        self._unknown_idf = math.log(1 + count) + 1.0

        # Examples are stored intent by intent, so each intent's best example is one reduceat over a slice.
        self._examples: list[_Example] = []
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        centroids: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._intents: list[str] = []
        starts: list[int] = []
        for intent_id, canonical, tokens in documents:
            if not self._intents or self._intents[-1] != intent_id:
                self._intents.append(intent_id)
                starts.append(len(self._examples))
            vector = self._vector(tokens)
            index = len(self._examples)
            self._examples.append(_Example(intent_id, canonical))
            for token, weight in vector.items():
                postings[token][0].append(index)
                postings[token][1].append(weight)
                centroids[intent_id][token] += weight
        self._starts = np.array(starts, dtype=np.intp)
        self._intent_slot = {intent_id: slot for slot, intent_id in enumerate(self._intents)}
        self._postings = {
            token: (np.array(indices, dtype=np.intp), np.array(weights))
            for token, (indices, weights) in postings.items()
        }
        intent_index = {intent_id: i for i, intent_id in enumerate(self._intents)}
        centroid_postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for intent_id, centroid in centroids.items():
            norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
            for token, weight in centroid.items():
                centroid_postings[token][0].append(intent_index[intent_id])
                centroid_postings[token][1].append(weight / norm)
        self._centroid_postings = {
            token: (np.array(indices, dtype=np.intp), np.array(weights))
            for token, (indices, weights) in centroid_postings.items()
        }

    @staticmethod
    def ordinary_questions(knowledge: KnowledgeBase) -> list[str]:
        """Return every example that must never raise a safety alarm: intents', out-of-scope, near-scope."""
        return [
            *(e for i in knowledge.intents.values() if i.id not in SAFETY_INTENTS for e in i.examples),
            *knowledge.out_of_scope,
            *(e for topic in knowledge.near_scope.values() for e in topic.examples),
        ]

    def _vector(self, tokens: list[str]) -> dict[str, float]:
        # A word no example uses still counts, as the rarest word would: it makes the question less like
        # every intent, which is what lets "what's the weather in Paris" fall below the threshold.
        counts = Counter(tokens)
        vector = {t: (1.0 + math.log(n)) * self._idf.get(t, self._unknown_idf) for t, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {t: w / norm for t, w in vector.items()}

    def scores(self, text: str) -> tuple[list[Candidate], str]:
        """Return every intent sharing a token with ``text``, best first, and the text as compared."""
        canonical = self.normalizer.corrected(text)
        return self._scores(canonical), canonical

    def _scores(self, canonical: str) -> list[Candidate]:
        tokens = self.normalizer.tokens(canonical)
        query = self._vector(tokens)
        if not query:
            return []
        # Sparse dot products as vector adds: each token touches only the examples and intents that use it.
        example_scores = np.zeros(len(self._examples))
        centroid_scores = np.zeros(len(self._intents))
        for token, weight in query.items():
            posting = self._postings.get(token)
            if posting is not None:
                example_scores[posting[0]] += weight * posting[1]
            centroid = self._centroid_postings.get(token)
            if centroid is not None:
                centroid_scores[centroid[0]] += weight * centroid[1]
        touched = np.flatnonzero(example_scores)
        if touched.size > SHORTLIST:
            # Highest first; equal scores keep example order, as a stable sort would.
            order = np.argsort(-example_scores[touched], kind="stable")[:SHORTLIST]
            shortlist = touched[order]
        else:
            shortlist = touched[np.argsort(-example_scores[touched], kind="stable")]
        best_example = np.maximum.reduceat(example_scores, self._starts)
        best_fuzzy = np.zeros(len(self._intents))
        for index in shortlist.tolist():
            example = self._examples[index]
            similarity = fuzz.token_sort_ratio(canonical, example.canonical) / 100.0
            slot = self._intent_slot[example.intent]
            if similarity > best_fuzzy[slot]:
                best_fuzzy[slot] = similarity

        w_example, w_centroid, w_fuzzy = self.weights
        combined = 100.0 * (w_example * best_example + w_centroid * centroid_scores + w_fuzzy * best_fuzzy)
        candidates = [
            Candidate(self._intents[slot], round(float(combined[slot]), 2))
            for slot in np.flatnonzero((best_example > 0) | (centroid_scores > 0)).tolist()
        ]
        candidates.sort(key=lambda c: (-c.score, c.intent))
        return candidates

    def safety(self, text: str) -> str | None:
        """Return the safety intent ``text`` calls for, or None."""
        return self.safety_detector.assess(text).intent

    def near_scope_topic(self, corrected: str) -> str | None:
        """Return the near-scope topic one of whose cues ``corrected`` text carries, or None."""
        for topic, cues, unless in self._near_cues:
            if cues.search(corrected) and not (unless is not None and unless.search(corrected)):
                return topic
        return None

    def match(self, text: str, verdict: SafetyVerdict | None = None) -> MatchResult:
        """Return the intent to answer ``text`` with; safety intents always win."""
        if verdict is not None:
            return self._match(text, verdict)
        return self.match_many([text])[0]

    def match_many(self, texts: list[str]) -> list[MatchResult]:
        """Match several messages, reading them for safety in one batch."""
        verdicts = self.safety_detector.assess_many([t if t and t.strip() else "" for t in texts])
        return [self._match(text, verdict) for text, verdict in zip(texts, verdicts, strict=True)]

    def _match(self, text: str, verdict: SafetyVerdict) -> MatchResult:
        if not text or not text.strip():
            return MatchResult(intent=None, score=0.0, alternatives=())
        analysis = self.normalizer.analyse(text)
        canonical = analysis.matching
        scored = self._scores(canonical)
        medicines = tuple(self.normalizer.medicines(canonical))
        candidates = [c for c in scored if not _pseudo(c.intent)]
        alternatives = tuple(c for c in candidates if c.score >= ALTERNATIVE_FLOOR)
        if verdict.intent is not None:
            topical = candidates[0].intent if candidates and candidates[0].score >= self.threshold else None
            return MatchResult(
                verdict.intent,
                100.0,
                alternatives[:3],
                medicines,
                safety=True,
                topical=topical,
                verdict=verdict,
            )
        cued = self.near_scope_topic(analysis.corrected)
        if cued is not None:
            top = scored[0].score if scored else 0.0
            return MatchResult(None, top, alternatives[:3], medicines, not_covered=cued, verdict=verdict)
        not_covered = bool(scored) and _pseudo(scored[0].intent)
        best_known = candidates[0].score if candidates else 0.0
        unanswered = not_covered or best_known < self.threshold
        if verdict.dose_cue and unanswered and DOSE_INTENT in self.knowledge.intents:
            # "threw up after my letrozole, take another?": too far from any example to match, and still a
            # question about a dose, which gets the dose guard rather than "outside what I cover". A topic the
            # article leaves out by name ("how much calcium a day") keeps its own answer.
            return MatchResult(DOSE_INTENT, best_known, alternatives[:3], medicines, verdict=verdict)
        if not_covered and scored[0].intent.startswith(NEAR_SCOPE) and candidates:
            # A dose question close behind a near-scope topic gets the dose refusal, which also says who to ask.
            best = candidates[0]
            refusal = self.knowledge.intent(best.intent).kind == "refusal"
            if refusal and best.score >= self.threshold and scored[0].score - best.score <= NEAR_TIE:
                return MatchResult(best.intent, best.score, alternatives[1:4], medicines, verdict=verdict)
        foreign = verdict.language != "en" or looks_foreign(canonical)
        if verdict.language != "en" and verdict.dose_question and DOSE_INTENT in self.knowledge.intents:
            # A dose question BoneBot cannot read gets the dose guard in its own language (with "I can only
            # read English"): the one answer that matters whatever the details.
            return MatchResult(DOSE_INTENT, 0.0, (), medicines, verdict=verdict)
        if not candidates or not_covered or candidates[0].score < self.threshold or foreign:
            top = candidates[0].score if candidates else 0.0
            near = None
            if (
                not_covered
                and scored[0].intent.startswith(NEAR_SCOPE)
                and scored[0].score >= ALTERNATIVE_FLOOR
            ):
                near = scored[0].intent.removeprefix(NEAR_SCOPE)
            return MatchResult(None, top, alternatives[:3], medicines, not_covered=near, verdict=verdict)
        best = candidates[0]
        return MatchResult(best.intent, best.score, alternatives[1:4], medicines, verdict=verdict)


def _pseudo(intent: str) -> bool:
    return intent == OUT_OF_SCOPE or intent.startswith(NEAR_SCOPE)
