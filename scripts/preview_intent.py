"""Render intents' answers at every level for every profile, with reading grade and length (authoring aid).

Usage: .venv/bin/python scripts/preview_intent.py INTENT_ID [INTENT_ID ...]
Works before the whole knowledge base is complete: it loads the named intents alone.
"""

from __future__ import annotations

import sys

import textstat
import yaml

from bot.content import AnswerContext, EmergencyContacts, KnowledgeBase, Medicine, content_root
from bot.content._loader import _intent, _references
from bot.content._render import Renderer
from bot.telegram_html import parse, utf16_length


def main(ids: list[str]) -> int:
    root = content_root()
    problems: list[str] = []
    intents = {}
    for intent_id in ids:
        path = root / "intents" / f"{intent_id}.yaml"
        intent = _intent(path, yaml.safe_load(path.read_text()), problems)
        if intent:
            intents[intent_id] = intent
    refs = _references(yaml.safe_load((root / "intents" / "_references.yaml").read_text()), problems)
    meds = [
        Medicine(m["generic"], tuple(m.get("brands", ())), m["kind"])
        for m in yaml.safe_load((root / "intents" / "_medicines.yaml").read_text())
    ]
    kb = KnowledgeBase(intents=intents, references=refs, medicines=tuple(meds))
    renderer = Renderer(root, kb)
    for intent in intents.values():
        for ref in intent.references:
            if ref not in refs:
                problems.append(f"{intent.id}: unknown reference {ref}")
        for level in intent.levels:
            for profile in ("woman_ai", "man_trt", "caregiver", "other"):
                for medicine in (None, meds[1]):
                    for contacts in (
                        None,
                        EmergencyContacts("United Kingdom", "999", "Samaritans: call 116 123"),
                    ):
                        ctx = AnswerContext(
                            profile=profile,
                            medicine=medicine,
                            scan_date="Tuesday 16 March 2027",
                            contacts=contacts,
                            content_version="abc123",
                        )
                        html = renderer.answer(intent.id, level, ctx)
                        body = renderer.answer(intent.id, level, ctx, with_source=False)
                        try:
                            text = parse(body)
                            parse(html)
                        except ValueError as exc:
                            problems.append(f"{intent.id}/{level}/{profile}: invalid Telegram HTML: {exc}")
                            continue
                        grade = textstat.flesch_kincaid_grade(text)
                        if level == "short" and grade > 8:
                            problems.append(f"{intent.id}/short/{profile}: grade {grade} > 8")
                        if level == "short" and utf16_length(text) > 600:
                            problems.append(f"{intent.id}/short/{profile}: {utf16_length(text)} chars > 600")
                        if utf16_length(parse(html)) > 4096:
                            problems.append(f"{intent.id}/{level}/{profile}: over 4096 characters")
            print(
                f"===== {intent.id} [{level}] (profile woman_ai) grade="
                f"{textstat.flesch_kincaid_grade(parse(renderer.answer(intent.id, level, AnswerContext('woman_ai'), with_source=False)))}"
            )
            print(renderer.answer(intent.id, level, AnswerContext("woman_ai")))
    print("\n".join(problems) or "no problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
