"""``bonebot check``: validate intents and answers the way a content editor needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import jinja2

from bot.content._catalog import CATALOG_DEPTHS, CATALOG_IDS
from bot.content._guards import (
    article_figures,
    check_denied_claims,
    check_figures,
    check_first_reply,
    check_references,
    load_denied_claims,
    renderings,
)
from bot.content._loader import ContentError, load_knowledge_base
from bot.content._render import Renderer
from bot.telegram_html import TelegramHTMLError, utf16_length


def find_article(root: Path) -> Path | None:
    """Return the shared article: ``BONEBOT_ARTICLE``, else ``shared/content/article.txt`` above ``root``."""
    override = os.environ.get("BONEBOT_ARTICLE")
    if override:
        return Path(override)
    for folder in (root, *root.resolve().parents):
        candidate = folder / "shared" / "content" / "article.txt"
        if candidate.is_file():
            return candidate
    return None


def _read_article(article: Path | None) -> str | None:
    if article is None or not article.is_file():
        return None
    return article.read_text(encoding="utf-8")


def check_content(root: Path, article: Path | Literal["find"] | None = "find") -> list[str]:
    """Return every problem with the content under ``root``; empty means clean.

    Every answer is rendered at every level, profile, medicine, saved-or-unsaved scan and known-or-unknown
    country, and each distinct text goes through the guards. ``article`` is the shared article the figures
    are checked against (found above ``root`` unless given); without it the figure guard is skipped.
    """
    if article == "find":
        article = find_article(root)
    try:
        knowledge = load_knowledge_base(root)
    except ContentError as exc:
        return exc.problems
    problems: list[str] = []
    for intent_id in CATALOG_IDS:
        if intent_id not in knowledge.intents:
            problems.append(f"catalog intent {intent_id!r} is missing from intents/")
    for intent_id, depths in CATALOG_DEPTHS.items():
        intent = knowledge.intents.get(intent_id)
        if intent is not None and intent.depths != depths:
            problems.append(
                f"intents/{intent_id}.yaml: depths {list(intent.depths)} differ from the catalog's "
                f"{list(depths)}"
            )
    answers = root / "answers"
    for path in sorted(answers.glob("*.html.j2")):
        if not path.name.startswith("_") and path.name.removesuffix(".html.j2") not in knowledge.intents:
            problems.append(f"answers/{path.name}: no intent uses this template")
    renderer = Renderer(root, knowledge)
    claims, claim_problems = load_denied_claims(root)
    problems.extend(claim_problems)
    article_text = _read_article(article)
    in_article = article_figures(article_text) if article_text is not None else None
    guard_problems: dict[str, None] = {}  # ordered and without repeats: many combinations share a text
    for intent in knowledge.intents.values():
        if not (answers / renderer.template_name(intent)).is_file():
            problems.append(f"answers/{renderer.template_name(intent)}: missing")
            continue
        try:
            distinct = {
                (r.level, r.profile, r.full): r for r in renderings(renderer, knowledge, intent)
            }.values()
        except (jinja2.TemplateError, ValueError, KeyError) as exc:
            problems.append(f"answers/{renderer.template_name(intent)}: {type(exc).__name__}: {exc}")
            continue
        for rendering in distinct:
            where = f"answers/{renderer.template_name(intent)} [{rendering.level}, {rendering.profile}]"
            if not rendering.body.strip():
                problems.append(f"{where}: renders empty")
            if utf16_length(rendering.full) > 4096:
                problems.append(f"{where}: longer than one Telegram message")
            found = [
                *check_first_reply(rendering),
                *check_references(rendering, knowledge),
                *check_denied_claims(rendering, claims),
                *(check_figures(rendering, in_article) if in_article is not None else []),
            ]
            guard_problems.update(dict.fromkeys(found))
    problems.extend(guard_problems)
    for path in sorted((answers / "ui").glob("*.html.j2")):
        try:
            source = path.read_text(encoding="utf-8")
            jinja2.Environment(autoescape=True).parse(source)
        except (OSError, jinja2.TemplateSyntaxError) as exc:
            problems.append(f"answers/ui/{path.name}: {exc}")
    try:
        renderer.labels()
    except (TelegramHTMLError, ValueError) as exc:  # pragma: no cover - labels are plain text
        problems.append(f"answers/ui/labels.yaml: {exc}")
    return problems
