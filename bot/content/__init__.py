"""The knowledge base: intents from ``intents/``, answers from ``answers/``, no Telegram."""

from bot.content._loader import ContentError, content_version, load_knowledge_base
from bot.content._model import (
    DOSE_INTENT,
    GROUPS,
    LEVEL_NAMES,
    LEVELS,
    PROFILES,
    SAFETY_INTENTS,
    Intent,
    KnowledgeBase,
    Medicine,
    NearScopeTopic,
)
from bot.content._paths import content_root
from bot.content._render import AnswerContext, EmergencyContacts, Renderer, tidy

__all__ = [
    "DOSE_INTENT",
    "GROUPS",
    "LEVELS",
    "LEVEL_NAMES",
    "PROFILES",
    "SAFETY_INTENTS",
    "AnswerContext",
    "ContentError",
    "EmergencyContacts",
    "Intent",
    "KnowledgeBase",
    "Medicine",
    "NearScopeTopic",
    "Renderer",
    "content_root",
    "content_version",
    "load_knowledge_base",
    "tidy",
]
