"""``bonebot eval`` on a conversation file: follow-ups, introductions, near-scope questions, question kinds.

A row is ``kind<TAB>expected<TAB>first message[<TAB>second message]``. The conversation core answers the
messages in turn, carrying the last answer and any introduction forward as the service would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.conversation._core import Conversation, Outcome, UserContext

KINDS = ("followup", "intro", "near", "qkind")
NOT_COVERED = "not_covered"


class MalformedConversationFile(ValueError):
    """Raise when a conversation file does not follow ``kind<TAB>expected<TAB>message[<TAB>message]``."""


@dataclass(frozen=True)
class ConversationRow:
    """One scored conversation."""

    line: int
    kind: str
    expected: str
    messages: tuple[str, ...]


@dataclass
class KindFigures:
    """How one kind of row fared."""

    rows: int = 0
    correct: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.correct / self.rows if self.rows else 0.0


@dataclass
class ConversationReport:
    """The figures per kind of row."""

    kinds: dict[str, KindFigures] = field(default_factory=lambda: {k: KindFigures() for k in KINDS})
    near_topic_named: int = 0  # near-scope rows answered with the topic reply, not the general one

    def as_dict(self, most_confused: int = 10) -> dict[str, object]:
        figures: dict[str, object] = {}
        for kind, kind_figures in self.kinds.items():
            figures[kind] = {
                "rows": kind_figures.rows,
                "correct": kind_figures.correct,
                "rate": round(kind_figures.rate, 4),
                "most_confused": [
                    {"expected": e, "predicted": p, "count": n}
                    for (e, p), n in kind_figures.confusions.most_common(most_confused)
                ],
            }
        figures["near_topic_named"] = self.near_topic_named
        return figures


def looks_like_conversations(path: Path) -> bool:
    """Return whether ``path``'s first row is a conversation row rather than ``intent<TAB>question``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            parts = line.split("\t")
            return len(parts) >= 3 and parts[0].strip() in KINDS
    return False


def read_conversations(path: Path) -> list[ConversationRow]:
    """Parse a conversation file, raising MalformedConversationFile with the first bad line's number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedConversationFile(f"{path}: cannot read: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        kind = parts[0].strip()
        wanted = 4 if kind == "followup" else 3
        if kind not in KINDS or len(parts) != wanted or not all(p.strip() for p in parts):
            raise MalformedConversationFile(
                f"{path}:{number}: expected 'kind<TAB>expected<TAB>message' (two messages for a followup)"
            )
        rows.append(ConversationRow(number, kind, parts[1].strip(), tuple(parts[2:])))
    return rows


def carry(context: UserContext, outcome: Outcome) -> UserContext:
    """Return the context the next message sees: the last answer, and an introduction's profile."""
    answered = next((r for r in outcome.replies if r.intent), None)
    if answered is not None:
        context = replace(context, last_intent=answered.intent, last_level=answered.level)
    if "profile" in outcome.extra:
        context = replace(
            context, profile=outcome.extra["profile"], medicine=outcome.extra.get("medicine") or None
        )
    return context


def outcome_label(outcome: Outcome, *, with_level: bool = False) -> str:
    """Return what a reply did: an intent (optionally @level), "not_covered", or "-" for anything else."""
    for reply in outcome.replies:
        if reply.kind in {"not_covered", "out_of_scope"}:
            return NOT_COVERED
        if reply.intent:
            return f"{reply.intent}@{reply.level}" if with_level else reply.intent
    return "-"


def introduction_label(outcome: Outcome) -> str:
    """Return ``profile/medicine/intent answered`` for an introduction row."""
    profile = outcome.extra.get("profile", "-") if outcome.extra.get("turn") == "introduction" else "-"
    medicine = (outcome.extra.get("medicine") or "-") if profile != "-" else "-"
    answered = next((r.intent for r in outcome.replies if r.intent), None) or "-"
    return f"{profile}/{medicine}/{answered}"


def _agrees(expected: str, predicted: str) -> bool:
    if expected.count("/") == 2:  # profile/medicine/intent: the intent part may list alternatives
        e_profile, e_medicine, e_intents = expected.split("/")
        p_profile, p_medicine, p_intent = predicted.split("/")
        return (e_profile, e_medicine) == (p_profile, p_medicine) and p_intent in e_intents.split("|")
    for alternative in expected.split("|"):
        if "@" in alternative and predicted == alternative:
            return True
        if "@" not in alternative and predicted.split("@")[0] == alternative:
            return True
    return False


def evaluate_conversations(conversation: Conversation, rows: Iterable[ConversationRow]) -> ConversationReport:
    """Play every row through the conversation core and count what the report needs."""
    report = ConversationReport()
    for row in rows:
        context = UserContext()
        outcome = None
        for message in row.messages:
            outcome = conversation.respond(message, context)
            context = carry(context, outcome)
        assert outcome is not None
        if row.kind == "intro":
            predicted = introduction_label(outcome)
        else:
            predicted = outcome_label(outcome, with_level="@" in row.expected)
        if row.kind == "near" and any(r.kind == "not_covered" for r in outcome.replies):
            report.near_topic_named += 1
        figures = report.kinds[row.kind]
        figures.rows += 1
        if _agrees(row.expected, predicted):
            figures.correct += 1
        else:
            figures.confusions[(row.expected, predicted)] += 1
    return report
