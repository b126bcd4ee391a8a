"""``bonebot check``: validate intents and answers the way a content editor needs."""

from __future__ import annotations

from pathlib import Path

import jinja2

from bot.content._catalog import CATALOG_DEPTHS, CATALOG_IDS
from bot.content._loader import ContentError, load_knowledge_base
from bot.content._model import PROFILES, Medicine
from bot.content._render import AnswerContext, EmergencyContacts, Renderer
from bot.telegram_html import TelegramHTMLError, parse, utf16_length

MAX_SHORT_CHARS = 700
_CONTACTS = (None, EmergencyContacts("United Kingdom", "999", "Samaritans: call 116 123"))


def check_content(root: Path) -> list[str]:
    """Return every problem with the content under ``root``; empty means clean."""
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
    medicines: list[Medicine | None] = [None, *knowledge.medicines]
    for intent in knowledge.intents.values():
        if not (answers / renderer.template_name(intent)).is_file():
            problems.append(f"answers/{renderer.template_name(intent)}: missing")
            continue
        for level in intent.levels:
            for profile in PROFILES:
                for medicine in medicines:
                    for contacts in _CONTACTS:
                        context = AnswerContext(
                            profile, medicine, "Tuesday 16 March 2027", contacts, "0000000000"
                        )
                        where = (
                            f"answers/{renderer.template_name(intent)} [{level}, {profile}, "
                            f"{medicine.generic if medicine else 'no medicine'}]"
                        )
                        try:
                            html = renderer.answer(intent.id, level, context)
                            text = parse(html)
                        except (jinja2.TemplateError, ValueError, KeyError) as exc:
                            problems.append(f"{where}: {type(exc).__name__}: {exc}")
                            continue
                        if not text.strip():
                            problems.append(f"{where}: renders empty")
                        if utf16_length(text) > 4096:
                            problems.append(f"{where}: longer than one Telegram message")
                        body = parse(renderer.answer(intent.id, level, context, with_source=False))
                        if (
                            level == "short"
                            and utf16_length(body) > MAX_SHORT_CHARS
                            and intent.id != "sources"
                        ):
                            problems.append(f"{where}: the short reply is over {MAX_SHORT_CHARS} characters")
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
