"""Tune the matcher by cross-validation over the intents' own examples (authoring aid, not a test).

Every fold leaves a fifth of each intent's examples (and of the out-of-scope examples) out of the index and
asks the matcher to place them. Unlike tuning on tests/data/dev.tsv, this uses every phrasing we have and
keeps both labelled files untouched for measuring.

Usage: .venv/bin/python scripts/crossvalidate_matcher.py [--folds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random

from bot.content import SAFETY_INTENTS, content_root, load_knowledge_base
from bot.matching import Matcher
from bot.matching._matcher import OUT_OF_SCOPE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    knowledge = load_knowledge_base(content_root())
    rng = random.Random(7)
    assignment = {}
    for intent in knowledge.intents.values():
        for example in intent.examples:
            assignment[(intent.id, example)] = rng.randrange(args.folds)
    for example in knowledge.out_of_scope:
        assignment[(OUT_OF_SCOPE, example)] = rng.randrange(args.folds)

    weights_grid = [
        (w1, w2, round(1 - w1 - w2, 2))
        for w1, w2 in itertools.product((0.3, 0.4, 0.45, 0.5, 0.6), (0.1, 0.2, 0.3, 0.4))
        if w1 + w2 <= 1
    ] + [(0.45, 0.3, 0.25)]  # the shipped setting, for comparison
    thresholds = range(30, 56, 2)
    # tallies[(weights, threshold)] = [in-scope correct, in-scope total, rejected, out-of-scope total]
    tallies = {(w, t): [0, 0, 0, 0] for w in weights_grid for t in thresholds}
    for fold in range(args.folds):
        kept = {
            i.id: dataclasses.replace(
                i, examples=tuple(e for e in i.examples if assignment[(i.id, e)] != fold)
            )
            for i in knowledge.intents.values()
        }
        train = dataclasses.replace(
            knowledge,
            intents=kept,
            out_of_scope=tuple(e for e in knowledge.out_of_scope if assignment[(OUT_OF_SCOPE, e)] != fold),
        )
        held = [
            (label, text)
            for (label, text), f in assignment.items()
            if f == fold and label not in SAFETY_INTENTS
        ]
        matcher = Matcher(train)
        for weights in weights_grid:
            matcher.weights = weights
            matcher.threshold = 0.0
            for label, text in held:
                result = matcher.match(text)
                for threshold in thresholds:
                    tally = tallies[(weights, threshold)]
                    predicted = result.intent if result.intent and result.score >= threshold else None
                    if label == OUT_OF_SCOPE:
                        tally[3] += 1
                        tally[2] += predicted is None
                    else:
                        tally[1] += 1
                        tally[0] += predicted == label
    ranked = sorted(
        ((c / n + r / o, c / n, r / o, w, t) for (w, t), (c, n, r, o) in tallies.items()), reverse=True
    )
    shipped = [row for row in ranked if row[3] == (0.45, 0.3, 0.25) and row[4] == 42]
    for objective, accuracy, rejection, weights, threshold in ranked[:10] + shipped:
        print(
            f"{objective:.4f} top1={accuracy:.3f} reject={rejection:.3f} weights={weights} threshold={threshold}"
        )


if __name__ == "__main__":
    main()
