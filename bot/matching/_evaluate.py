"""``bonebot eval``: accuracy of the matcher on a labelled file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.content import SAFETY_INTENTS
from bot.matching._matcher import Matcher

OUT_OF_SCOPE = "-"


class MalformedFile(ValueError):
    """Raise when a labelled file does not follow ``intent<TAB>question``."""


@dataclass(frozen=True)
class LabelledQuestion:
    """One row of a labelled file."""

    line: int
    intent: str | None  # None: out of scope
    question: str


@dataclass
class EvalReport:
    """The figures ``bonebot eval`` prints."""

    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    rejected: int = 0
    safety: int = 0
    safety_hits: int = 0
    false_alarms: int = 0  # non-safety rows answered with a safety reply
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown_labels: set[str] = field(default_factory=set)

    @property
    def top1_accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def rejection_rate(self) -> float:
        return self.rejected / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def safety_recall(self) -> float:
        return self.safety_hits / self.safety if self.safety else 0.0

    def as_dict(self, most_confused: int = 10) -> dict[str, object]:
        return {
            "top1_accuracy": round(self.top1_accuracy, 4),
            "out_of_scope_rejection": round(self.rejection_rate, 4),
            "safety_recall": round(self.safety_recall, 4),
            "in_scope_rows": self.in_scope,
            "out_of_scope_rows": self.out_of_scope,
            "safety_rows": self.safety,
            "false_safety_alarms": self.false_alarms,
            "unknown_labels": sorted(self.unknown_labels),
            "most_confused": [
                {"expected": e, "predicted": p, "count": n}
                for (e, p), n in self.confusions.most_common(most_confused)
            ],
        }


def read_labelled(path: Path) -> list[LabelledQuestion]:
    """Parse a labelled file, raising MalformedFile with the line number of the first bad row."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedFile(f"{path}: cannot read: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip():
            raise MalformedFile(f"{path}:{number}: expected 'intent<TAB>question'")
        label = parts[0].strip()
        rows.append(LabelledQuestion(number, None if label == OUT_OF_SCOPE else label, parts[1]))
    return rows


def evaluate(matcher: Matcher, rows: Iterable[LabelledQuestion]) -> EvalReport:
    """Match every row and count what the report needs."""
    report = EvalReport()
    known = set(matcher.knowledge.intents)
    for row in rows:
        predicted = matcher.match(row.question).intent
        if row.intent is None:
            report.out_of_scope += 1
            report.rejected += predicted is None
            if predicted is not None:
                report.confusions[(OUT_OF_SCOPE, predicted)] += 1
            continue
        if row.intent not in known:
            report.unknown_labels.add(row.intent)
        report.in_scope += 1
        report.correct += predicted == row.intent
        if row.intent in SAFETY_INTENTS:
            report.safety += 1
            report.safety_hits += predicted == row.intent
        elif predicted in SAFETY_INTENTS:
            report.false_alarms += 1
        if predicted != row.intent:
            report.confusions[(row.intent, predicted or OUT_OF_SCOPE)] += 1
    return report
