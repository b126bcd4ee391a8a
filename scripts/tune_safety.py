"""Choose the semantic safety layer's margins on the tuning halves (never the held-out file).

    .venv/bin/python scripts/tune_safety.py tests/data/safety_dev.tsv tests/data/safety_val.tsv

For English and for other languages apart, prints the alarm recall and false alarms the layers together
reach for a grid of margins (rules and phrases first, the model where they are silent). It changes
nothing: copy the chosen margins into bot/safety/_detector.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.content import SAFETY_INTENTS
from bot.domain import load_domain
from bot.matching import read_labelled
from bot.safety import ENGLISH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args()
    rows = [row for path in args.files for row in read_labelled(path)]
    detector = load_domain().matcher.safety_detector
    lexical = detector.with_layers(("rules", "lexicon")).assess_many([r.question for r in rows])
    assert detector.index is not None
    for group in (ENGLISH, "other"):
        chosen = [i for i, r in enumerate(rows) if (r.language == ENGLISH) == (group == ENGLISH)]
        gated = [i for i in chosen if lexical[i].kind is None and detector.worth_embedding(rows[i].question)]
        scores = dict(zip(gated, detector.nearest([rows[i].question for i in gated]), strict=True))
        alarms = sum(1 for i in chosen if rows[i].intent in SAFETY_INTENTS)
        calm = len(chosen) - alarms
        print(f"{group}: {alarms} alarms, {calm} others")
        for margin in (0.0, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.012, 0.015, 0.02, 0.03):
            hits = false = 0
            for i in chosen:
                alarm = lexical[i].kind is not None
                score = scores.get(i)
                if not alarm and score is not None:
                    alarm = score.margin >= margin and score.alarm >= detector.alarm_floor
                if rows[i].intent in SAFETY_INTENTS:
                    hits += alarm
                else:
                    false += alarm
            print(f"  margin {margin:.3f}: recall {hits}/{alarms}  false alarms {false}/{calm}")


if __name__ == "__main__":
    main()
