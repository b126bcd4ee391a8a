"""Tune the semantic safety layer's margins on a labelled safety file (the dev half, never the holdout).

    .venv/bin/python scripts/tune_safety.py tests/data/safety_dev.tsv

Prints, for a grid of margins and floors, the alarm recall, right kind and false alarms that the layers
together would reach, and the rows each layer catches. It changes nothing: copy the chosen figures into
bot/safety/_detector.py.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from bot.content import SAFETY_INTENTS
from bot.domain import load_domain
from bot.matching import read_labelled
from bot.safety import CRISIS, URGENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--show", action="store_true", help="print the rows the layers get wrong")
    args = parser.parse_args()
    rows = read_labelled(args.file)
    detector = load_domain().matcher.safety_detector
    lexical = detector.with_layers(("rules", "lexicon"))
    assert detector.index is not None
    verdicts = lexical.assess_many([r.question for r in rows])
    scores = detector.index.scores([r.question.lower() for r in rows])
    truth = [r.intent if r.intent in SAFETY_INTENTS else None for r in rows]
    best = None
    for margin, floor in itertools.product(
        [0.0, 0.01, 0.02, 0.03, 0.04, 0.05], [0.80, 0.83, 0.85, 0.86, 0.87]
    ):
        hits = kind = false = 0
        for verdict, score, expected in zip(verdicts, scores, truth, strict=True):
            predicted = verdict.intent
            if predicted is None and score.margin >= margin and score.alarm >= floor:
                predicted = "crisis" if score.alarm_class == "crisis" else "urgent_symptoms"
            if expected:
                hits += predicted is not None
                kind += predicted == expected
            else:
                false += predicted is not None
        alarms = sum(1 for t in truth if t)
        print(
            f"margin {margin:.2f} floor {floor:.2f}: recall {hits}/{alarms} kind {kind}/{alarms} false {false}"
        )
        key = (false <= 1, hits, kind, -false)
        if best is None or key > best[0]:
            best = (key, margin, floor)
    print("best:", best)
    if args.show:
        for row, verdict, score, expected in zip(rows, verdicts, scores, truth, strict=True):
            if (verdict.intent is None) != (expected is None) or verdict.intent != expected:
                print(
                    f"{row.line:4d} {expected or '-':16} lex={verdict.intent or '-':16} "
                    f"sem={score.alarm_class}:{score.alarm:.3f} calm={score.calm:.3f} m={score.margin:+.3f} "
                    f"| {row.question[:110]}"
                )
    _ = (CRISIS, URGENT)


if __name__ == "__main__":
    main()
