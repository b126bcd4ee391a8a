"""Recognise crisis and emergency messages, in layers; pure domain code with no Telegram import."""

from bot.safety._detector import LAYERS, CanonicalForms, SafetyDetector, SafetyVerdict
from bot.safety._language import ENGLISH, SAFETY_LANGUAGES, LanguageGuesser
from bot.safety._lexicon import Lexicon, LexiconError
from bot.safety._rules import CRISIS, URGENT, RuleHit, rule_hit, safety_intent, without_idioms
from bot.safety._semantic import (
    DEFAULT_BANK,
    BankError,
    E5Embedder,
    Embedder,
    ExemplarIndex,
    SemanticScores,
    read_bank,
)

__all__ = [
    "CRISIS",
    "DEFAULT_BANK",
    "ENGLISH",
    "LAYERS",
    "SAFETY_LANGUAGES",
    "URGENT",
    "BankError",
    "CanonicalForms",
    "E5Embedder",
    "Embedder",
    "ExemplarIndex",
    "LanguageGuesser",
    "Lexicon",
    "LexiconError",
    "RuleHit",
    "SafetyDetector",
    "SafetyVerdict",
    "SemanticScores",
    "read_bank",
    "rule_hit",
    "safety_intent",
    "without_idioms",
]
