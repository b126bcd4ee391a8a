"""Match patients' messages to intents; pure domain code with no Telegram import."""

from bot.matching._evaluate import EvalReport, LabelledQuestion, MalformedFile, evaluate, read_labelled
from bot.matching._matcher import THRESHOLD, Candidate, Matcher, MatchResult
from bot.matching._normalize import Normalizer, fold
from bot.safety._rules import safety_intent

__all__ = [
    "THRESHOLD",
    "Candidate",
    "EvalReport",
    "LabelledQuestion",
    "MalformedFile",
    "MatchResult",
    "Matcher",
    "Normalizer",
    "evaluate",
    "fold",
    "read_labelled",
    "safety_intent",
]
