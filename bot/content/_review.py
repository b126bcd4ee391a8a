"""``bonebot review-pack``: every answer, as patients see it, in one HTML file a clinician can sign off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from bot.content._catalog import CATALOG_IDS
from bot.content._guards import MAX_FIRST_REPLY_GRADE, Rendering, reading_grade, renderings
from bot.content._loader import load_knowledge_base
from bot.content._model import LEVEL_NAMES, PROFILES, KnowledgeBase
from bot.content._render import Renderer
from bot.telegram_html import utf16_length

_TEMPLATE = "review_pack.html.j2"


@dataclass(frozen=True)
class Citation:
    """A reference an answer cites, and the facts its intent cites it for."""

    key: str
    cite: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class ReviewText:
    """One distinct text of an intent at one level, and every combination that shows it."""

    html: str
    shown_to: str  # "woman_ai, caregiver · any medicine · scan saved or not · country known or not"
    grade: float
    characters: int
    too_hard: bool
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class ReviewLevel:
    level: str
    name: str
    texts: tuple[ReviewText, ...]


@dataclass(frozen=True)
class ReviewIntent:
    id: str
    title: str
    kind: str
    levels: tuple[ReviewLevel, ...]


def _either(values: set[bool], yes: str, no: str, both: str) -> str:
    return both if len(values) == 2 else (yes if True in values else no)


def _shown_to(group: list[Rendering], knowledge: KnowledgeBase) -> str:
    profiles = [p for p in PROFILES if any(r.profile == p for r in group)]
    medicines = {r.medicine.generic if r.medicine else "no medicine" for r in group}
    every_medicine = {"no medicine", *(m.generic for m in knowledge.medicines)}
    medicine = (
        "any medicine named"
        if medicines == every_medicine
        else ", ".join(
            m for m in ["no medicine", *(m.generic for m in knowledge.medicines)] if m in medicines
        )
    )
    scan = _either({r.scan_saved for r in group}, "scan date saved", "no scan date saved", "")
    country = _either({r.contacts_known for r in group}, "country known", "country unknown", "")
    return " · ".join(part for part in (", ".join(profiles), medicine, scan, country) if part)


def _citations(renderer: Renderer, knowledge: KnowledgeBase, rendering: Rendering) -> tuple[Citation, ...]:
    intent = rendering.intent
    if intent.kind != "article":
        return ()
    keys = renderer.cited(intent, rendering.body_html, rendering.profile)
    return tuple(Citation(k, knowledge.references[k].cite, intent.facts_for(k)) for k in keys)


def review_intents(root: Path) -> tuple[KnowledgeBase, list[ReviewIntent]]:
    """Render every intent at every level for every combination, merging identical texts."""
    knowledge = load_knowledge_base(root)
    renderer = Renderer(root, knowledge)
    order = [i for i in CATALOG_IDS if i in knowledge.intents]
    order += sorted(set(knowledge.intents) - set(order))
    intents = []
    for intent_id in order:
        intent = knowledge.intent(intent_id)
        by_level: dict[str, dict[str, list[Rendering]]] = {level: {} for level in intent.levels}
        for rendering in renderings(renderer, knowledge, intent):
            by_level[rendering.level].setdefault(rendering.html, []).append(rendering)
        levels = []
        for level, groups in by_level.items():
            texts = []
            for html, group in groups.items():
                grade = reading_grade(group[0].body)
                texts.append(
                    ReviewText(
                        html=html,
                        shown_to=_shown_to(group, knowledge),
                        grade=grade,
                        characters=utf16_length(group[0].body),
                        too_hard=level == "short" and grade > MAX_FIRST_REPLY_GRADE,
                        citations=_citations(renderer, knowledge, group[0]),
                    )
                )
            levels.append(ReviewLevel(level, LEVEL_NAMES[level], tuple(texts)))
        intents.append(ReviewIntent(intent.id, intent.title, intent.kind, tuple(levels)))
    return knowledge, intents


def build_review_pack(root: Path) -> str:
    """Return the review pack for the content under ``root`` as one self-contained HTML document."""
    knowledge, intents = review_intents(root)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(_TEMPLATE).render(
        version=knowledge.version,
        intents=intents,
        text_count=sum(len(level.texts) for intent in intents for level in intent.levels),
        profiles=PROFILES,
        max_grade=MAX_FIRST_REPLY_GRADE,
    )
