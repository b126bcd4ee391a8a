"""Load and validate ``intents/``."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from bot._yaml import load_yaml
from bot.content._model import (
    GROUPS,
    KINDS,
    LEVELS,
    PROFILES,
    Intent,
    KnowledgeBase,
    Medicine,
    NearScopeTopic,
    Reference,
)

MAX_TITLE = 28


class ContentError(Exception):
    """Raise when the content folders cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def content_version(root: Path) -> str:
    """Return a short hash of every file under ``intents/`` and ``answers/``."""
    digest = hashlib.sha256()
    for folder in ("intents", "answers"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot read: {exc}")
        return None


def _strings(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: must be a list of strings")
        return ()
    return tuple(v.strip() for v in value)


def _intent(path: Path, data: Any, problems: list[str]) -> Intent | None:
    where = f"intents/{path.name}"
    if not isinstance(data, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    known = {
        "id",
        "group",
        "kind",
        "title",
        "depths",
        "examples",
        "related",
        "references",
        "suggested_questions",
        "audience",
    }
    for key in sorted(set(data) - known):
        problems.append(f"{where}: unknown key {key!r}")
    intent_id = data.get("id")
    if intent_id != path.stem:
        problems.append(f"{where}: id {intent_id!r} does not match the file name")
        return None
    group, kind, title = data.get("group"), data.get("kind"), data.get("title")
    if group not in GROUPS:
        problems.append(f"{where}: group must be one of {', '.join(GROUPS)}")
    if kind not in KINDS:
        problems.append(f"{where}: kind must be one of {', '.join(KINDS)}")
    if not isinstance(title, str) or not title or len(title) > MAX_TITLE:
        problems.append(f"{where}: title must be 1-{MAX_TITLE} characters")
    depths = _strings(data.get("depths"), f"{where} depths", problems)
    for depth in depths:
        if depth not in LEVELS[1:]:
            problems.append(f"{where}: depth {depth!r} is not one of F, I, A")
    examples = _strings(data.get("examples"), f"{where} examples", problems)
    reference_facts = _reference_facts(data.get("references"), f"{where} references", problems)
    audience = _strings(data.get("audience"), f"{where} audience", problems)
    for profile in audience:
        if profile not in PROFILES:
            problems.append(f"{where}: audience {profile!r} is not one of {', '.join(PROFILES)}")
    if len(examples) < 12:
        problems.append(f"{where}: needs at least 12 examples, has {len(examples)}")
    return Intent(
        id=intent_id,
        group=str(group),
        kind=str(kind),
        title=str(title),
        depths=depths,
        examples=examples,
        related=_strings(data.get("related"), f"{where} related", problems),
        references=tuple(key for key, _ in reference_facts),
        reference_facts=reference_facts,
        suggested_questions=_strings(
            data.get("suggested_questions"), f"{where} suggested_questions", problems
        ),
        audience=audience,
    )


def _reference_facts(value: Any, where: str, problems: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Read ``references``: a mapping of key to the phrases stating its fact (or a bare list of keys)."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple((key, ()) for key in _strings(value, where, problems))
    if not isinstance(value, dict):
        problems.append(f"{where}: must map reference keys to the phrases that state their fact")
        return ()
    return tuple((str(key), _strings(facts, f"{where} {key}", problems)) for key, facts in value.items())


def _references(data: Any, problems: list[str]) -> dict[str, Reference]:
    if not isinstance(data, dict):
        problems.append("intents/_references.yaml: must be a mapping of key to citation")
        return {}
    references: dict[str, Reference] = {}
    for key, entry in data.items():
        where = f"intents/_references.yaml {key}"
        if isinstance(entry, str):
            references[str(key)] = Reference(str(key), entry)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("cite"), str):
            problems.append(f"{where}: must be a citation, or a mapping with `cite`, `names`, `profiles`")
            continue
        for extra in sorted(set(entry) - {"cite", "names", "profiles"}):
            problems.append(f"{where}: unknown key {extra!r}")
        profiles = _strings(entry.get("profiles"), f"{where} profiles", problems)
        for profile in profiles:
            if profile not in PROFILES:
                problems.append(f"{where}: profile {profile!r} is not one of {', '.join(PROFILES)}")
        references[str(key)] = Reference(
            str(key), entry["cite"], _strings(entry.get("names"), f"{where} names", problems), profiles
        )
    return references


def _medicines(data: Any, problems: list[str]) -> tuple[Medicine, ...]:
    if not isinstance(data, list):
        problems.append("intents/_medicines.yaml: must be a list")
        return ()
    medicines = []
    for entry in data:
        try:
            medicines.append(
                Medicine(
                    generic=str(entry["generic"]),
                    brands=tuple(entry.get("brands", ())),
                    kind=str(entry["kind"]),
                    misspellings=tuple(entry.get("misspellings", ())),
                )
            )
        except (KeyError, TypeError):
            problems.append(f"intents/_medicines.yaml: bad entry {entry!r}")
    return tuple(medicines)


DECIDERS = ("oncologist", "prescriber", "care_team")


def _near_scope(data: Any, problems: list[str]) -> dict[str, NearScopeTopic]:
    where = "intents/_near_scope.yaml"
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict):
        problems.append(f"{where}: must map topics: to a mapping of topic id to its entry")
        return {}
    loaded: dict[str, NearScopeTopic] = {}
    for topic_id, entry in topics.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            problems.append(f"{where}: topic {topic_id!r} needs a label")
            continue
        decides = entry.get("decides", "care_team")
        if decides not in DECIDERS:
            problems.append(f"{where}: topic {topic_id!r}: decides must be one of {', '.join(DECIDERS)}")
        examples = _strings(entry.get("examples"), f"{where} {topic_id} examples", problems)
        if len(examples) < 8:
            problems.append(f"{where}: topic {topic_id!r} needs at least 8 examples")
        cues = _strings(entry.get("cues"), f"{where} {topic_id} cues", problems)
        unless = _strings(entry.get("unless"), f"{where} {topic_id} unless", problems)
        for cue in (*cues, *unless):
            try:
                re.compile(cue.replace("{ai}", "ai"))
            except re.error as exc:
                problems.append(f"{where}: topic {topic_id!r}: bad cue {cue!r}: {exc}")
        loaded[str(topic_id)] = NearScopeTopic(
            str(topic_id), entry["label"], str(decides), examples, cues, unless
        )
    return loaded


def load_knowledge_base(root: Path) -> KnowledgeBase:
    """Load every intent and shared table under ``root/intents``, raising ContentError on any problem."""
    problems: list[str] = []
    folder = root / "intents"
    intents: dict[str, Intent] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        intent = _intent(path, _read_yaml(path, problems), problems)
        if intent is not None:
            intents[intent.id] = intent
    references = _references(_read_yaml(folder / "_references.yaml", problems) or {}, problems)
    medicines = _medicines(_read_yaml(folder / "_medicines.yaml", problems) or [], problems)
    vocabulary = _read_yaml(folder / "_vocabulary.yaml", problems) or {}
    if not isinstance(vocabulary, dict) or not all(isinstance(v, dict) for v in vocabulary.values()):
        problems.append("intents/_vocabulary.yaml: must map section names to {from: to} tables")
        vocabulary = {}

    for intent in intents.values():
        for other in intent.related:
            if other not in intents:
                problems.append(f"intents/{intent.id}.yaml: related intent {other!r} does not exist")
        for key in intent.references:
            if key not in references:
                problems.append(f"intents/{intent.id}.yaml: reference {key!r} is not in _references.yaml")
        if intent.kind == "article" and not intent.references:
            problems.append(f"intents/{intent.id}.yaml: an article intent needs at least one reference")

    out_of_scope_data = _read_yaml(folder / "_out_of_scope.yaml", problems) or {}
    out_of_scope = _strings(
        out_of_scope_data.get("examples") if isinstance(out_of_scope_data, dict) else None,
        "intents/_out_of_scope.yaml examples",
        problems,
    )

    near_scope_path = folder / "_near_scope.yaml"
    near_scope = (
        _near_scope(_read_yaml(near_scope_path, problems), problems) if near_scope_path.is_file() else {}
    )

    owners: dict[str, str] = {" ".join(e.lower().split()): "_out_of_scope" for e in out_of_scope}
    for topic in near_scope.values():
        for example in topic.examples:
            key = " ".join(example.lower().split())
            if key in owners and owners[key] != f"_near_scope:{topic.id}":
                problems.append(f"example {example!r} is in both {owners[key]} and _near_scope:{topic.id}")
            owners.setdefault(key, f"_near_scope:{topic.id}")
    for intent in intents.values():
        for example in intent.examples:
            key = " ".join(example.lower().split())
            if key in owners and owners[key] != intent.id:
                problems.append(f"example {example!r} is in both {owners[key]} and {intent.id}")
            owners.setdefault(key, intent.id)

    if problems:
        raise ContentError(problems)
    return KnowledgeBase(
        intents=intents,
        references=references,
        medicines=medicines,
        vocabulary={str(k): {str(a): str(b) for a, b in v.items()} for k, v in vocabulary.items()},
        version=content_version(root),
        out_of_scope=out_of_scope,
        near_scope=near_scope,
    )
