"""Grid-search the matcher's weights and threshold on a labelled file (authoring aid, not a test).

Usage: .venv/bin/python scripts/tune_matcher.py tests/data/dev.tsv [--check tests/data/holdout.tsv]
Tune on the dev set only; the holdout figure is printed for the chosen setting, never used to choose.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from bot.domain import load_domain
from bot.matching import evaluate, read_labelled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--check")
    args = parser.parse_args()
    matcher = load_domain().matcher
    rows = read_labelled(Path(args.file))
    results = []
    for w_example, w_centroid in itertools.product((0.3, 0.4, 0.5, 0.6), (0.1, 0.2, 0.3, 0.4)):
        w_fuzzy = round(1.0 - w_example - w_centroid, 2)
        if w_fuzzy < 0:
            continue
        matcher.weights = (w_example, w_centroid, w_fuzzy)
        for threshold in range(28, 52, 2):
            matcher.threshold = float(threshold)
            report = evaluate(matcher, rows)
            # Rejecting is as important as answering: a confident wrong answer is the worst outcome.
            objective = report.top1_accuracy + report.rejection_rate
            results.append(
                (objective, report.top1_accuracy, report.rejection_rate, matcher.weights, threshold)
            )
    results.sort(reverse=True)
    for objective, accuracy, rejection, weights, threshold in results[:10]:
        print(
            f"{objective:.4f}  top1={accuracy:.3f} reject={rejection:.3f} weights={weights} threshold={threshold}"
        )
    if args.check:
        _, _, _, weights, threshold = results[0]
        matcher.weights, matcher.threshold = weights, float(threshold)
        report = evaluate(matcher, read_labelled(Path(args.check)))
        print(
            f"check file at the best setting: top1={report.top1_accuracy:.3f} reject={report.rejection_rate:.3f} "
            f"safety={report.safety_recall:.3f}"
        )


if __name__ == "__main__":
    main()
