"""``bonebot eval``: accuracy of the matcher on a labelled file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.content import SAFETY_INTENTS
from bot.matching._matcher import Matcher, MatchResult
from bot.safety import ENGLISH, SAFETY_LANGUAGES

# Alarm recall is measured where BoneBot reads the language; elsewhere the reply must carry the numbers.
READ_LANGUAGES = frozenset((ENGLISH, *SAFETY_LANGUAGES))

OUT_OF_SCOPE = "-"
CALM = "*"  # any reply but a safety one is right: the safety sets' everyday messages


class MalformedFile(ValueError):
    """Raise when a labelled file does not follow ``intent<TAB>question[<TAB>language]``."""


@dataclass(frozen=True)
class LabelledQuestion:
    """One row of a labelled file."""

    line: int
    intent: str | None  # None: out of scope
    question: str
    language: str = "en"  # the ISO 639-1 code the row is written in (optional third column)
    calm: bool = False  # labelled "*": anything but a safety reply is right


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
    # The safety figures, per alarm kind and per language: [rows, alarmed, right kind] for alarms,
    # [rows, false alarms] for everything else.
    alarms_by_kind: dict[str, list[int]] = field(default_factory=dict)
    alarms_by_language: dict[str, list[int]] = field(default_factory=dict)
    calm_by_language: dict[str, list[int]] = field(default_factory=dict)
    # Alarms in languages BoneBot does not read: [rows, replies that carried the numbers].
    other_language_alarms: list[int] = field(default_factory=lambda: [0, 0])
    missed: list[tuple[int, str, str]] = field(default_factory=list)  # line, expected, predicted
    missed_with_line: int = 0  # missed alarms answered with the emergency line added
    false_alarm_lines: list[tuple[int, str]] = field(default_factory=list)  # line, predicted

    @property
    def alarms(self) -> int:
        return sum(v[0] for v in self.alarms_by_kind.values())

    @property
    def alarmed(self) -> int:
        return sum(v[1] for v in self.alarms_by_kind.values())

    @property
    def right_kind(self) -> int:
        return sum(v[2] for v in self.alarms_by_kind.values())

    @property
    def calm_rows(self) -> int:
        return sum(v[0] for v in self.calm_by_language.values())

    @property
    def alarm_recall(self) -> float:
        """Share of alarm rows given any safety reply."""
        return self.alarmed / self.alarms if self.alarms else 0.0

    @property
    def right_kind_rate(self) -> float:
        """Share of alarm rows given the right safety reply."""
        return self.right_kind / self.alarms if self.alarms else 0.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of the other rows given a safety reply."""
        return self.false_alarms / self.calm_rows if self.calm_rows else 0.0

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
            "alarm_recall": round(self.alarm_recall, 4),
            "alarm_right_kind": round(self.right_kind_rate, 4),
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "alarm_rows": self.alarms,
            "missed_alarms_with_emergency_line": self.missed_with_line,
            "non_alarm_rows": self.calm_rows,
            "other_language_alarms": {
                "rows": self.other_language_alarms[0],
                "numbers_given": self.other_language_alarms[1],
            },
            "alarms_by_kind": {
                k: {"rows": v[0], "alarmed": v[1], "right_kind": v[2]}
                for k, v in sorted(self.alarms_by_kind.items())
            },
            "by_language": {
                lang: {
                    "alarm_rows": self.alarms_by_language.get(lang, [0, 0, 0])[0],
                    "alarmed": self.alarms_by_language.get(lang, [0, 0, 0])[1],
                    "right_kind": self.alarms_by_language.get(lang, [0, 0, 0])[2],
                    "other_rows": self.calm_by_language.get(lang, [0, 0])[0],
                    "false_alarms": self.calm_by_language.get(lang, [0, 0])[1],
                }
                for lang in sorted(set(self.alarms_by_language) | set(self.calm_by_language))
            },
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
        if len(parts) not in (2, 3) or not parts[0].strip():
            raise MalformedFile(f"{path}:{number}: expected 'intent<TAB>question[<TAB>language]'")
        label = parts[0].strip()
        language = parts[2].strip().lower() if len(parts) == 3 else "en"
        if not language.isalpha() or len(language) not in (2, 3):
            raise MalformedFile(f"{path}:{number}: the language must be an ISO 639-1 code, not {language!r}")
        rows.append(
            LabelledQuestion(
                number,
                None if label in (OUT_OF_SCOPE, CALM) else label,
                parts[1],
                language,
                calm=label == CALM,
            )
        )
    return rows


BATCH = 64  # questions read for safety in one embedding batch


def evaluate(matcher: Matcher, rows: Iterable[LabelledQuestion]) -> EvalReport:
    """Match every row and count what the report needs."""
    report = EvalReport()
    known = set(matcher.knowledge.intents)
    rows = list(rows)
    results: list[MatchResult] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        results.extend(matcher.match_many([row.question for row in batch]))
    for row, result in zip(rows, results, strict=True):
        predicted = result.intent
        alarm = predicted in SAFETY_INTENTS
        if row.intent in SAFETY_INTENTS and row.language not in READ_LANGUAGES:
            # The reply is the safety reply or "I can only read English", both with the numbers.
            report.other_language_alarms[0] += 1
            report.other_language_alarms[1] += alarm or (
                result.verdict is not None and result.verdict.language != ENGLISH
            )
            continue
        if row.intent in SAFETY_INTENTS:
            kind = report.alarms_by_kind.setdefault(row.intent, [0, 0, 0])
            language = report.alarms_by_language.setdefault(row.language, [0, 0, 0])
            right = predicted == row.intent
            for counts in (kind, language):
                counts[0] += 1
                counts[1] += alarm
                counts[2] += right
            if not right:
                report.missed.append((row.line, row.intent, predicted or OUT_OF_SCOPE))
                report.missed_with_line += (
                    not alarm and result.verdict is not None and result.verdict.ambiguous
                )
        else:
            counts = report.calm_by_language.setdefault(row.language, [0, 0])
            counts[0] += 1
            counts[1] += alarm
            if alarm:
                report.false_alarms += 1
                report.false_alarm_lines.append((row.line, predicted or ""))
        if row.calm:
            continue
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
        if predicted != row.intent:
            report.confusions[(row.intent, predicted or OUT_OF_SCOPE)] += 1
    return report
