"""A cheap first look that spares most ordinary questions the embedding model.

A naive Bayes score over words and letter trigrams, learnt from the exemplar bank's alarms against its
calm messages and the intents' ordinary questions. Only a message that scores above a low bar goes to
the model; the bar is set below the scores of nearly every alarm exemplar (all but the oddest one in two
hundred), so the gate lets the kinds of alarm the bank knows through, and `bonebot eval` measures what it
lets through on new messages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from bot.safety._lexicon import fold

_SLACK = 0.25  # the bar sits this far (in log-odds) below the lowest-scoring alarm it must let through
# The share of those alarms the bar is set for. With every one, a single exemplar in words the rest of the
# bank never uses sets the bar for all (after the fifth bank round that sent 36% of ordinary questions to the
# model). At 99.5% the gate blocks at most one alarm per safety set that the rules miss; at 99% it would block
# two to four (bench/README.md gives the share of ordinary questions each bank round sends to the model).
PASS_SHARE = 0.995


def features(text: str) -> list[str]:
    """Return the words and the letter trigrams of the folded text."""
    words = fold(text).split()
    grams = [f"w:{w}" for w in words]
    for word in words:
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


class AlarmGate:
    """Say whether a message could be an alarm at all, in a few microseconds."""

    def __init__(self, weights: dict[str, float], prior: float, bar: float) -> None:
        self._weights = weights
        self._prior = prior
        self.bar = bar

    @classmethod
    def fit(
        cls, alarms: Sequence[str], calm: Iterable[str], must_pass: Sequence[str] | None = None
    ) -> AlarmGate:
        """Learn the log-odds of each feature; put the bar below the scores of ``PASS_SHARE`` of ``must_pass``.

        ``must_pass`` defaults to every alarm. The detector passes the alarm exemplars its rules miss: an
        alarm the rules catch never needs the model.
        """
        alarm_counts: Counter[str] = Counter()
        calm_counts: Counter[str] = Counter()
        for text in alarms:
            alarm_counts.update(set(features(text)))
        calm_list = list(calm)
        for text in calm_list:
            calm_counts.update(set(features(text)))
        vocabulary = set(alarm_counts) | set(calm_counts)
        n_alarm, n_calm = len(alarms), len(calm_list)
        weights = {
            f: math.log((alarm_counts[f] + 0.5) / (n_alarm + 1))
            - math.log((calm_counts[f] + 0.5) / (n_calm + 1))
            for f in vocabulary
        }
        prior = math.log(n_alarm / n_calm)
        gate = cls(weights, prior, 0.0)
        scores = sorted(gate.score(text) for text in (must_pass or alarms))
        gate.bar = scores[int((1.0 - PASS_SHARE) * len(scores))] - _SLACK
        return gate

    def score(self, text: str) -> float:
        """Return the log-odds that ``text`` is an alarm (uncalibrated: it only ranks)."""
        grams = set(features(text))
        if not grams:
            return self._prior
        return self._prior + sum(self._weights.get(g, 0.0) for g in grams) / math.sqrt(len(grams))

    def passes(self, text: str) -> bool:
        return self.score(text) >= self.bar
