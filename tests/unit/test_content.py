"""The knowledge base: catalog coverage, rendering, reading level, sources, figures and tailoring."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import pytest
import textstat
import yaml

from bot.content import (
    PROFILES,
    AnswerContext,
    ContentError,
    EmergencyContacts,
    KnowledgeBase,
    Medicine,
    Renderer,
    content_root,
    load_knowledge_base,
)
from bot.content._check import check_content, find_article
from bot.telegram_html import parse, utf16_length

ROOT = content_root()
REPO_ROOT = Path(__file__).resolve().parents[2]
# ../shared/content beside the checkout (or above a worktree), as `bonebot check` finds it.
_FOUND_ARTICLE = find_article(ROOT)
SHARED = _FOUND_ARTICLE.parent if _FOUND_ARTICLE else REPO_ROOT.parent / "shared" / "content"
ARTICLE = SHARED / "article.txt"
CATALOG = SHARED / "intent-catalog.md"
ARTICLE_TITLE = "Aromatase inhibitors and long-term bone health"
MAX_GRADE = 8.0
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
CONTACTS = EmergencyContacts("the United Kingdom", "999", "Samaritans on 116 123")

# Written from the intent catalog (../shared/content/intent-catalog.md); evaluation sets refer to these ids.
CATALOG_IDS = (
    "bone_remodeling", "estrogen_role", "what_is_ai", "why_ai_prescribed", "ai_bone_loss_mechanism",
    "osteopenia_osteoporosis", "fracture_risk", "bone_loss_rate", "atac_results", "tamoxifen_comparison",
    "what_is_bmd", "rank_rankl_opg", "dexa_scan", "dexa_schedule", "risk_factors", "men_trt",
    "prevention_overview", "bisphosphonates", "denosumab", "treatment_evidence", "choosing_treatment",
    "recovery_after_stopping", "should_i_stop_ai", "feelings_and_symptoms", "questions_for_care_team",
    "sources", "greeting", "thanks", "bot_help", "set_reminder", "medication_dose", "urgent_symptoms",
    "crisis",
)  # fmt: skip
NON_ARTICLE = {
    "greeting": "smalltalk",
    "thanks": "smalltalk",
    "bot_help": "smalltalk",
    "set_reminder": "flow",
    "medication_dose": "refusal",
    "urgent_symptoms": "safety",
    "crisis": "safety",
}

# The catalog's figures, as the article states them. Each entry is one fact; any of its spellings will do
# (the article writes ranges with a hyphen, typography may use an en dash).
FIGURES: dict[str, list[tuple[str, ...]]] = {
    "atac_results": [("6.1%",), ("7.2%",)],
    "bone_loss_rate": [("2–4%", "2-4%"), ("~0%", "0%"), ("1–2%", "1-2%"), ("two to four times",)],
    "ai_bone_loss_mechanism": [("20%",)],
    "treatment_evidence": [
        ("4 mg every 6 months",),
        ("60 mg every 6 months",),
        ("150 mg",),
        ("3-5 years", "3–5 years"),
        ("2 years",),
    ],
    "dexa_schedule": [("one to two years",)],
    "fracture_risk": [("50%", "halved")],
    "recovery_after_stopping": [("five years", "5 years")],
    "estrogen_role": [("E1",), ("E2",), ("E3",)],
    "what_is_ai": [("Arimidex",), ("Femara",), ("Aromasin",)],
}

# The catalog's other facts, as words the answer chain must use (case-insensitive).
KEY_TERMS: dict[str, list[tuple[str, ...]]] = {
    "bone_remodeling": [("living",), ("remodeling", "remodelling"), ("osteoclast",), ("osteoblast",), ("coupled",)],
    "estrogen_role": [("brake",), ("osteoclast",), ("estradiol",), ("estrone",), ("estriol",)],
    "what_is_ai": [("aromatase",), ("androgen",), ("anastrozole",), ("letrozole",), ("exemestane",)],
    "why_ai_prescribed": [("on purpose", "deliberate"), ("hormone-receptor-positive",), ("estradiol",)],
    "ai_bone_loss_mechanism": [("brake",), ("osteoclast",), ("BMD",)],
    "osteopenia_osteoporosis": [("low bone mass",), ("porous",), ("fragile",)],
    "fracture_risk": [("spine", "vertebra"), ("ABCSG-18",), ("denosumab",)],
    "bone_loss_rate": [("lumbar spine", "lower spine"), ("menopause",)],
    "atac_results": [("lumbar spine", "lower spine"), ("total hip",), ("tamoxifen",)],
    "tamoxifen_comparison": [("partly like estrogen",), ("rose slightly", "slight rise", "slightly")],
    "what_is_bmd": [("mineral",), ("bone strength", "how strong")],
    "rank_rankl_opg": [("RANK ",), ("RANKL",), ("OPG",), ("decoy",)],
    "dexa_scan": [
        ("dual-energy X-ray absorptiometry",),
        ("bone mineral density", "BMD"),
        ("lumbar spine", "lower back"),
        ("hip",),
        ("baseline", "starting point"),
    ],
    "dexa_schedule": [("baseline", "first DEXA"), ("estradiol",)],
    "risk_factors": [
        ("family history", "in the family"),
        ("low body weight",),
        ("smoking",),
        ("alcohol",),
        ("fragility fracture",),
        ("osteopenia", "thin bones"),
    ],
    "men_trt": [("gynecomastia",), ("estradiol",), ("blood test",), ("titration",), ("long-term",)],
    "prevention_overview": [
        ("lifestyle", "healthy habits"),
        ("supplement",),
        ("no doses", "no products or amounts"),
        ("care team",),
    ],
    "bisphosphonates": [("pyrophosphate",), ("hydroxyapatite",), ("apoptosis",)],
    "denosumab": [("monoclonal antibody",), ("RANKL",), ("OPG",)],
    "treatment_evidence": [
        ("Z-FAST",),
        ("ZO-FAST",),
        ("ABCSG-18",),
        ("ARIBON",),
        ("zoledronic acid",),
        ("ibandronate",),
    ],
    "choosing_treatment": [
        ("baseline bone density", "bone density at the start"),
        ("risk",),
        ("comorbidities", "other health"),
        ("anastrozole dose",),
    ],
    "recovery_after_stopping": [("BREX",), ("lumbar spine", "lower-spine", "lower spine"), ("partial", "partly")],
    "should_i_stop_ai": [("care team",), ("predictable",), ("do not stop", "never stop")],
    "feelings_and_symptoms": [("real", "valid"), ("estrogen",), ("care team",)],
    "questions_for_care_team": [
        ("baseline DEXA",),
        ("next DEXA",),
        ("risk factors",),
        ("bone-protective treatment",),
        ("estradiol",),
    ],
    "sources": [("Eastell",), ("Saarto",), ("Lester",), ("Rachner",), ("Coleman",), ("Khosla",), ("Riggs",), ("Finkelstein",)],
}  # fmt: skip

# Numbers the catalog itself gives (figures, doses, trial names, citation years): answers outside `sources`
# may use these and no others, so the check runs even without the shared article.
CATALOG_NUMBERS = frozenset(
    {"6.1", "7.2", "0", "1", "2", "3", "4", "5", "6", "18", "20", "50", "60", "150"}
    | {"2000", "2006", "2008", "2017", "2020", "2021"}
)


def _intent_ids() -> list[str]:
    return sorted(p.stem for p in (ROOT / "intents").glob("*.yaml") if not p.name.startswith("_"))


INTENT_IDS = _intent_ids()


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return load_knowledge_base(ROOT)


@pytest.fixture(scope="module")
def renderer(knowledge: KnowledgeBase) -> Renderer:
    return Renderer(ROOT, knowledge)


def _context(knowledge: KnowledgeBase, profile: str = "woman_ai", **overrides: object) -> AnswerContext:
    values: dict[str, object] = {"content_version": knowledge.version, "profile": profile, **overrides}
    return AnswerContext(**values)  # type: ignore[arg-type]


def _plain(
    renderer: Renderer, intent_id: str, level: str, context: AnswerContext, *, source: bool = True
) -> str:
    return parse(renderer.answer(intent_id, level, context, with_source=source))


def _chain(renderer: Renderer, knowledge: KnowledgeBase, intent_id: str, profile: str) -> str:
    """Return the short reply and every depth of an intent, without the source line, as plain text."""
    context = _context(knowledge, profile)
    intent = knowledge.intent(intent_id)
    return "\n\n".join(_plain(renderer, intent_id, level, context, source=False) for level in intent.levels)


def _contains(text: str, needle: str, *, ignore_case: bool = False) -> bool:
    # A figure must not be found inside a bigger one: "0%" is not in "50%", "2 years" not in "12 years".
    prefix = r"(?<![\d.,])" if needle[:1].isdigit() else ""
    flags = re.IGNORECASE if ignore_case else 0
    return re.search(prefix + re.escape(needle), text, flags) is not None


def _copy_content(tmp_path: Path) -> Path:
    for folder in ("intents", "answers"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


# -- catalog coverage and `bonebot check` ----------------------------------------------------------------


@pytest.mark.parametrize("intent_id", CATALOG_IDS)
def test_every_catalog_intent_is_in_the_knowledge_base(knowledge: KnowledgeBase, intent_id: str) -> None:
    assert intent_id in knowledge.intents


@pytest.mark.skipif(not CATALOG.is_file(), reason=f"{CATALOG} is not available")
def test_the_catalog_table_in_this_test_matches_the_shared_catalog() -> None:
    ids = set(re.findall(r"^\| `([a-z_]+)` \|", CATALOG.read_text(encoding="utf-8"), re.MULTILINE))
    assert ids == set(CATALOG_IDS)


@pytest.mark.parametrize(("intent_id", "kind"), sorted(NON_ARTICLE.items()))
def test_conversation_and_safety_intents_have_their_kind(
    knowledge: KnowledgeBase, intent_id: str, kind: str
) -> None:
    assert knowledge.intent(intent_id).kind == kind


def test_check_content_finds_no_problem() -> None:
    assert check_content(ROOT) == []


def test_check_reports_a_missing_catalog_intent(tmp_path: Path) -> None:
    root = _copy_content(tmp_path)
    # No other intent lists bone_remodeling as related, so only the catalog check can notice it is gone.
    (root / "intents" / "bone_remodeling.yaml").unlink()
    problems = check_content(root)
    assert any("bone_remodeling" in p and "missing" in p for p in problems), problems


def test_loader_rejects_an_example_shared_by_two_intents(tmp_path: Path, knowledge: KnowledgeBase) -> None:
    root = _copy_content(tmp_path)
    shared = knowledge.intent("dexa_scan").examples[0]
    path = root / "intents" / "thanks.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["examples"].append(f"  {shared.upper()} ")  # case and spacing must not hide the duplicate
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_knowledge_base(root)
    assert any("dexa_scan" in p and "thanks" in p for p in raised.value.problems), raised.value.problems
    assert check_content(root) == raised.value.problems


def test_loader_accepts_the_unmodified_copy(tmp_path: Path, knowledge: KnowledgeBase) -> None:
    copy = load_knowledge_base(_copy_content(tmp_path))
    assert set(copy.intents) == set(knowledge.intents)
    assert copy.version == knowledge.version


# -- rendering -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", INTENT_IDS)
def test_every_level_profile_and_medicine_renders_as_valid_telegram_html(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str
) -> None:
    intent = knowledge.intent(intent_id)
    medicines: list[Medicine | None] = [None, *knowledge.medicines]
    failures: list[str] = []
    for level in intent.levels:
        for profile in PROFILES:
            for medicine in medicines:
                for contacts in (None, CONTACTS):
                    context = _context(knowledge, profile, medicine=medicine, contacts=contacts)
                    where = f"{level}/{profile}/{medicine.generic if medicine else '-'}/{bool(contacts)}"
                    try:
                        text = _plain(renderer, intent_id, level, context)
                    except (jinja2.TemplateError, ValueError) as exc:  # StrictUndefined or refused HTML
                        failures.append(f"{where}: {type(exc).__name__}: {exc}")
                        continue
                    if not text.strip():
                        failures.append(f"{where}: empty")
                    if utf16_length(text) > 4096:
                        failures.append(f"{where}: {utf16_length(text)} UTF-16 units")
                    if "{{" in text or "{%" in text or "Undefined" in text:
                        failures.append(f"{where}: template syntax leaked into the answer")
    assert failures == []


# -- reading level ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", [i for i in INTENT_IDS if i != "sources"])
def test_short_reply_reads_at_grade_8_or_below(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str
) -> None:
    grades = {}
    for profile in PROFILES:
        for medicine in [None, *knowledge.medicines]:
            context = _context(knowledge, profile, medicine=medicine)
            text = _plain(renderer, intent_id, "short", context, source=False)
            grades[f"{profile}/{medicine.generic if medicine else '-'}"] = textstat.flesch_kincaid_grade(text)
    too_hard = {where: grade for where, grade in grades.items() if grade > MAX_GRADE}
    assert too_hard == {}


def test_sources_prose_paragraph_reads_at_grade_8_or_below(
    knowledge: KnowledgeBase, renderer: Renderer
) -> None:
    text = _plain(renderer, "sources", "short", _context(knowledge), source=False)
    first = text.split("\n\n")[0]
    assert len(first.split()) >= 10  # the prose introduction, not a heading
    assert textstat.flesch_kincaid_grade(first) <= MAX_GRADE


# -- sources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", [i for i in INTENT_IDS if i not in NON_ARTICLE])
def test_article_answers_end_with_a_source_naming_the_article(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str
) -> None:
    intent = knowledge.intent(intent_id)
    assert intent.kind == "article"
    for level in intent.levels:
        last = _plain(renderer, intent_id, level, _context(knowledge)).split("\n\n")[-1]
        assert last.startswith("Source:"), (level, last)
        assert ARTICLE_TITLE in last, (level, last)


@pytest.mark.parametrize("intent_id", sorted(NON_ARTICLE))
def test_conversation_and_safety_replies_carry_no_source(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str
) -> None:
    for level in knowledge.intent(intent_id).levels:
        for contacts in (None, CONTACTS):
            text = _plain(renderer, intent_id, level, _context(knowledge, contacts=contacts))
            assert "Source:" not in text


# -- figures and facts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["woman_ai", "man_trt"])
@pytest.mark.parametrize("intent_id", sorted(FIGURES))
def test_catalog_figures_are_in_the_answer_chain(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str, profile: str
) -> None:
    chain = _chain(renderer, knowledge, intent_id, profile)
    missing = [fact for fact in FIGURES[intent_id] if not any(_contains(chain, f) for f in fact)]
    assert missing == []


@pytest.mark.parametrize("profile", ["woman_ai", "man_trt"])
@pytest.mark.parametrize("intent_id", sorted(KEY_TERMS))
def test_catalog_facts_are_in_the_answer_chain(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str, profile: str
) -> None:
    chain = _chain(renderer, knowledge, intent_id, profile)
    missing = [
        fact for fact in KEY_TERMS[intent_id] if not any(_contains(chain, f, ignore_case=True) for f in fact)
    ]
    assert missing == []


def test_sources_shows_the_content_version(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    assert knowledge.version
    text = _plain(renderer, "sources", "short", _context(knowledge), source=False)
    assert knowledge.version in text


def _all_answers(knowledge: KnowledgeBase, renderer: Renderer, intent_ids: list[str]) -> dict[str, str]:
    """Render every level, profile and medicine of the intents, without source line, contacts or scan date."""
    answers = {}
    for intent_id in intent_ids:
        for level in knowledge.intent(intent_id).levels:
            for profile in PROFILES:
                for medicine in [None, *knowledge.medicines]:
                    context = _context(knowledge, profile, medicine=medicine)
                    text = _plain(renderer, intent_id, level, context, source=False)
                    # The content version is a hash, not a figure.
                    answers[f"{intent_id}/{level}/{profile}/{medicine.generic if medicine else '-'}"] = (
                        text.replace(knowledge.version, "")
                    )
    return answers


@pytest.mark.skipif(not ARTICLE.is_file(), reason=f"{ARTICLE} is not available")
def test_every_number_in_an_answer_is_in_the_article(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    in_article = set(NUMBER.findall(ARTICLE.read_text(encoding="utf-8")))
    strays = {
        where: sorted(set(NUMBER.findall(text)) - in_article)
        for where, text in _all_answers(knowledge, renderer, INTENT_IDS).items()
    }
    assert {where: numbers for where, numbers in strays.items() if numbers} == {}


def test_every_number_outside_the_reference_list_is_a_catalog_figure(
    knowledge: KnowledgeBase, renderer: Renderer
) -> None:
    answers = _all_answers(knowledge, renderer, [i for i in INTENT_IDS if i != "sources"])
    strays = {where: sorted(set(NUMBER.findall(text)) - CATALOG_NUMBERS) for where, text in answers.items()}
    assert {where: numbers for where, numbers in strays.items() if numbers} == {}


def test_the_number_check_notices_a_derived_figure() -> None:
    # Guard the guard: a figure computed from the article's (6.1 + 7.2) must be caught.
    assert set(NUMBER.findall("a fall of 13.3% over 5 years")) - CATALOG_NUMBERS == {"13.3"}


# -- tailoring -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", ["why_ai_prescribed", "fracture_risk"])
def test_short_reply_is_tailored_to_men_on_trt(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str
) -> None:
    woman = _plain(renderer, intent_id, "short", _context(knowledge, "woman_ai"), source=False)
    man = _plain(renderer, intent_id, "short", _context(knowledge, "man_trt"), source=False)
    assert woman != man
    assert "estradiol" in man
    assert "TRT" not in woman


def test_what_is_ai_names_the_medicine_the_user_takes(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    letrozole = knowledge.medicine("letrozole")
    assert letrozole is not None
    plain = _plain(renderer, "what_is_ai", "short", _context(knowledge), source=False)
    named = _plain(renderer, "what_is_ai", "short", _context(knowledge, medicine=letrozole), source=False)
    assert "letrozole" in named
    # The three AIs are always listed; naming the user's medicine adds a mention.
    assert named.count("letrozole") > plain.count("letrozole")


def test_dose_refusal_names_the_medicine_asked_about(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    letrozole = knowledge.medicine("letrozole")
    plain = _plain(renderer, "medication_dose", "short", _context(knowledge))
    named = _plain(renderer, "medication_dose", "short", _context(knowledge, medicine=letrozole))
    assert "letrozole" in named
    assert "letrozole" not in plain


def test_caregivers_are_not_addressed_as_the_patient(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    text = _plain(renderer, "feelings_and_symptoms", "short", _context(knowledge, "caregiver"))
    assert "the person you care for" in text


def test_dexa_schedule_shows_the_saved_scan_or_offers_to_set_one(
    knowledge: KnowledgeBase, renderer: Renderer
) -> None:
    saved = _plain(renderer, "dexa_schedule", "short", _context(knowledge, scan_date="Tuesday 16 March 2027"))
    unsaved = _plain(renderer, "dexa_schedule", "short", _context(knowledge))
    assert "Tuesday 16 March 2027" in saved
    assert "/scan" in unsaved
    assert "March" not in unsaved


# -- safety replies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", ["urgent_symptoms", "crisis"])
@pytest.mark.parametrize("profile", PROFILES)
def test_safety_replies_give_the_countrys_number_when_known(
    knowledge: KnowledgeBase, renderer: Renderer, intent_id: str, profile: str
) -> None:
    known = _plain(renderer, intent_id, "short", _context(knowledge, profile, contacts=CONTACTS))
    unknown = _plain(renderer, intent_id, "short", _context(knowledge, profile))
    assert "999" in known
    assert "local emergency number" not in known
    assert "local emergency number" in unknown
    assert "999" not in unknown


def test_crisis_reply_gives_the_crisis_line(knowledge: KnowledgeBase, renderer: Renderer) -> None:
    text = _plain(renderer, "crisis", "short", _context(knowledge, contacts=CONTACTS))
    assert "Samaritans on 116 123" in text
