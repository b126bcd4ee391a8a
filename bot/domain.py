"""Load the knowledge base, matcher and conversation core once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.content import KnowledgeBase, Renderer, content_root, load_knowledge_base
from bot.conversation import Conversation
from bot.conversation._dialogue import Dialogue
from bot.matching import Matcher


@dataclass(frozen=True)
class Domain:
    """Everything answering needs, built once per process."""

    knowledge: KnowledgeBase
    renderer: Renderer
    matcher: Matcher
    conversation: Conversation


def load_domain(root: Path | None = None, *, threads: int = 1) -> Domain:
    """Load content from ``root`` (default: the content folders) and build the matcher.

    ``threads``: the safety model's threads; one per bot process, more for batch commands. The domain is
    read-only once built, so a process builds each one once (a few seconds: content, model, safety index).
    """
    return _load_domain((root or content_root()).resolve(), threads)


@functools.cache
def _load_domain(root: Path, threads: int) -> Domain:
    knowledge = load_knowledge_base(root)
    renderer = Renderer(root, knowledge)
    matcher = Matcher(knowledge, semantic=True, threads=threads)
    dialogue = Dialogue.load(root, knowledge, matcher.normalizer)
    return Domain(knowledge, renderer, matcher, Conversation(knowledge, renderer, matcher, dialogue))
