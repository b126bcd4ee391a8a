"""The clinical guards of ``bonebot check``: each fails on a planted bad template; the shipped content passes."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.content import PROFILES, AnswerContext, Renderer, content_root, load_knowledge_base
from bot.content._check import check_content, find_article
from bot.content._guards import FIGURE, article_figures, figure_key, load_denied_claims
from bot.content._review import build_review_pack, review_intents

ROOT = content_root()
ARTICLE = find_article(ROOT)
needs_article = pytest.mark.skipif(ARTICLE is None, reason="../shared/content/article.txt is not available")

# A stand-in article for the planted tests, so they run without the shared one: only the figures matter.
STAND_IN_ARTICLE = (
    "Over five years, a median BMD decrease of 6.1% and 7.2%. ~0%, ~1-2%, ~2-4% a year; two to four times "
    "the rate; as much as 20%; often every one to two years; 4 mg every 6 months over 3-5 years; 60 mg; "
    "50% compared to placebo; 150 mg oral after 2 years; at five years; 10-year follow-up."
)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """Return a copy of the shipped content folders, to plant bad content in."""
    for folder in ("intents", "answers"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "article.txt").write_text(STAND_IN_ARTICLE, encoding="utf-8")
    return tmp_path


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _new_problems(root: Path, plant: Callable[[], None]) -> list[str]:
    """Return the problems after planting a change in the copy (the unchanged copy has none: see below)."""
    plant()
    return check_content(root, root / "article.txt")


# -- the shipped content ----------------------------------------------------------------------------------


@needs_article
def test_the_shipped_content_passes_every_guard_against_the_article() -> None:
    assert check_content(ROOT, ARTICLE) == []


def test_the_shipped_content_passes_every_guard_but_the_figures_without_the_article() -> None:
    assert check_content(ROOT, None) == []


def test_the_stand_in_article_states_every_figure_the_shipped_content_uses(content: Path) -> None:
    # Otherwise the planted tests below would compare against a baseline that already fails.
    assert check_content(content, content / "article.txt") == []


# -- every number with its unit is in the article -----------------------------------------------------------


def test_a_derived_figure_fails_with_intent_level_profile_and_sentence(content: Path) -> None:
    template = content / "answers" / "atac_results.html.j2"
    new = _new_problems(
        content,
        lambda: _replace(
            template, "On tamoxifen, bone density rose slightly.", "Together that is 13.3% of bone."
        ),
    )
    assert len(new) == len(PROFILES), new
    for profile in PROFILES:
        assert (
            f"atac_results [short, {profile}]: figure '13.3%' is not in the article: “Together that is 13.3% of bone.”"
            in new
        )


def test_a_figure_in_words_with_a_unit_is_checked_too(content: Path) -> None:
    template = content / "answers" / "dexa_scan.html.j2"
    new = _new_problems(
        content, lambda: _replace(template, "later scans show", "scans every three years show")
    )
    assert new and all("figure 'three years'" in p and p.startswith("dexa_scan [short, ") for p in new), new


def test_figures_compare_in_one_spelling() -> None:
    def keys(text: str) -> list[str]:
        return [figure_key(m) for m in FIGURE.finditer(text)]

    assert keys("every one to two years") == keys("every 1–2 years") == ["1-2 year"]
    assert keys("~2-4% a year") == keys("2–4 %") == ["2-4 %"]
    assert keys("a 10-year follow-up") == ["10 year"]
    assert keys("5 years, five years") == ["5 year", "5 year"]
    # A figure inside a bigger one is not that figure.
    assert "0 %" not in article_figures("by 50% compared to placebo")
    assert keys("two kinds of cells, three AIs, Tuesday 16 March 2027") == []


# -- references: limited to profiles, and only for a fact the answer states ---------------------------------


def test_a_mens_source_named_in_an_answer_for_women_fails(content: Path) -> None:
    template = content / "answers" / "what_is_ai.html.j2"
    new = _new_problems(
        content,
        lambda: _replace(template, "It blocks an enzyme", "Vantage Health explains it. It blocks an enzyme"),
    )
    for profile in ("woman_ai", "caregiver", "other"):
        assert (
            f"what_is_ai [short, {profile}]: cites vantage2018, which is only for man_trt content: "
            "“Vantage Health explains it.”"
        ) in new, new
    # For men it is allowed, but what_is_ai does not list it.
    assert any(
        p.startswith("what_is_ai [short, man_trt]: cites vantage2018, which intents/what_is_ai.yaml")
        for p in new
    )


def test_a_review_cited_beside_a_trial_it_does_not_cover_fails(content: Path) -> None:
    template = content / "answers" / "denosumab.html.j2"
    new = _new_problems(
        content,
        lambda: _replace(template, "In the ABCSG-18 trial,", "In the ABCSG-18 trial (reviewed by Coleman),"),
    )
    assert any(
        p.startswith("denosumab [A, woman_ai]: cites coleman2008, which intents/denosumab.yaml does not list")
        and "ABCSG-18 trial (reviewed by Coleman)" in p
        for p in new
    ), new


def test_a_reference_named_where_its_fact_is_not_stated_fails(content: Path) -> None:
    intent = content / "intents" / "dexa_scan.yaml"
    template = content / "answers" / "dexa_scan.html.j2"

    def plant() -> None:
        _replace(intent, "  article: []", "  article: []\n  eastell2006: [ATAC]")
        _replace(template, "later scans show", "later scans (Eastell, 2006) show")

    new = _new_problems(content, plant)
    assert any(
        p.startswith(
            "dexa_scan [short, other]: cites eastell2006, but the answer states none of its facts (ATAC)"
        )
        for p in new
    ), new


def test_a_reference_the_yaml_maps_to_no_fact_fails(content: Path) -> None:
    intent = content / "intents" / "what_is_bmd.yaml"
    new = _new_problems(
        content, lambda: _replace(intent, "  article: []", "  article: []\n  coleman2008: []")
    )
    assert any(
        p.startswith(
            "what_is_bmd [short, woman_ai]: cites coleman2008, which intents/what_is_bmd.yaml maps to no fact"
        )
        and "Source:" in p
        for p in new
    ), new


def test_the_source_line_cites_only_what_the_answer_states_for_its_profile() -> None:
    knowledge = load_knowledge_base(ROOT)
    renderer = Renderer(ROOT, knowledge)

    def source(intent_id: str, level: str, profile: str) -> str:
        return renderer.answer(intent_id, level, AnswerContext(profile)).split("\n\n")[-1]

    assert "Vantage" not in source("why_ai_prescribed", "short", "woman_ai")
    assert "Vantage" in source("why_ai_prescribed", "short", "man_trt")
    # men_trt is men's content whoever asks (its `audience`).
    assert "Vantage" in source("men_trt", "short", "caregiver")
    # The short fracture reply names ABCSG-18 but not BREX; the intermediate level states both.
    assert "ABCSG-18" in source("fracture_risk", "short", "woman_ai")
    assert "Saarto" not in source("fracture_risk", "short", "woman_ai")
    assert "Saarto" in source("fracture_risk", "I", "woman_ai")
    for intent_id in ("fracture_risk", "denosumab", "treatment_evidence"):
        for level in knowledge.intent(intent_id).levels:
            line = source(intent_id, level, "woman_ai")
            assert "ABCSG-18 trial, as reviewed" not in line


# -- the first reply: at most 600 characters and grade 8 -------------------------------------------------


def test_a_first_reply_over_600_characters_fails(content: Path) -> None:
    template = content / "answers" / "what_is_bmd.html.j2"
    long = " ".join(["Bone is alive and it is always renewed."] * 16)
    new = _new_problems(content, lambda: _replace(template, "It is checked with a DEXA scan.", long))
    assert any(
        re.match(
            r"what_is_bmd \[short, woman_ai\]: the first reply is \d+ characters \(at most 600\); it passes",
            p,
        )
        for p in new
    ), new
    assert not any("what_is_bmd [F" in p for p in new)


def test_a_first_reply_above_grade_8_fails_and_names_the_hardest_sentence(content: Path) -> None:
    template = content / "answers" / "what_is_bmd.html.j2"
    hard = (
        "Densitometric quantification of mineralisation characterises osteoporotic deterioration "
        "notwithstanding considerable interindividual variability attributable to multifactorial determinants."
    )
    new = _new_problems(content, lambda: _replace(template, "It is checked with a DEXA scan.", hard))
    assert any(
        re.match(r"what_is_bmd \[short, other\]: the first reply reads at grade [\d.]+ \(at most 8\)", p)
        and hard in p
        for p in new
    ), new


# -- claims the article does not make -------------------------------------------------------------------


def test_a_denied_claim_fails(content: Path) -> None:
    template = content / "answers" / "what_is_ai.html.j2"
    new = _new_problems(
        content, lambda: _replace(template, "AIs include anastrozole", "There are three AIs: anastrozole")
    )
    assert any(
        p.startswith("what_is_ai [short, caregiver]: says 'three AIs', a claim the article does not make")
        and "“There are three AIs: anastrozole (Arimidex)" in p
        for p in new
    ), new


def test_a_denied_claim_limited_to_a_profile_fails_only_for_that_profile(content: Path) -> None:
    template = content / "answers" / "what_is_bmd.html.j2"
    new = _new_problems(
        content,
        lambda: _replace(template, "It is checked with a DEXA scan.", "Its effect is known and predictable."),
    )
    assert [p.split(":")[0] for p in new] == ["what_is_bmd [short, man_trt]"], new


def test_the_deny_list_is_a_data_file_with_the_reviewed_claims() -> None:
    claims, problems = load_denied_claims(ROOT)
    assert problems == []
    phrases = {c.phrase for c in claims}
    assert {"three AIs", "most potent", "main form of estrogen", "a large trial"} <= phrases
    assert all(c.why for c in claims)


def test_a_malformed_deny_list_is_reported(content: Path) -> None:
    path = content / "intents" / "_denied_claims.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.append({"why": "no phrase"})
    data.append({"phrase": "x", "profiles": ["nobody"]})
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = check_content(content, content / "article.txt")
    assert sum("_denied_claims.yaml" in p for p in problems) == 2, problems


# -- the review pack ---------------------------------------------------------------------------------------


def test_the_review_pack_shows_every_intent_level_and_profile_with_identical_texts_merged() -> None:
    knowledge, intents = review_intents(ROOT)
    assert [i.id for i in intents][:3] == ["bone_remodeling", "estrogen_role", "what_is_ai"]
    assert {i.id for i in intents} == set(knowledge.intents)
    for intent in intents:
        assert [level.level for level in intent.levels] == list(knowledge.intent(intent.id).levels)
        for level in intent.levels:
            htmls = [text.html for text in level.texts]
            assert len(htmls) == len(set(htmls))  # merged: each distinct text once
            shown = " ".join(text.shown_to for text in level.texts)
            assert all(profile in shown for profile in PROFILES), (intent.id, level.level)
    greeting = next(i for i in intents if i.id == "greeting")
    assert len(greeting.levels[0].texts) == 1  # one text for every profile and combination
    assert "woman_ai, man_trt, caregiver, other" in greeting.levels[0].texts[0].shown_to


def test_the_review_pack_is_one_self_contained_printable_file() -> None:
    knowledge = load_knowledge_base(ROOT)
    html = build_review_pack(ROOT)
    assert html.startswith("<!DOCTYPE html>")
    assert knowledge.version in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=\"https?:", html)
    assert "@media print" in html
    assert html.count(">Reading grade ") == html.count('class="text"')
    signoff = html[html.index('id="sign-off"') :]
    assert signoff.count("<tr><td>") == len(knowledge.intents)
    for header in ("Intent", "Reviewer", "Date"):
        assert f"<th>{header}</th>" in signoff
    assert "Eastell R, et al., J Clin Endocrinol Metab 2006 (ATAC bone sub-study) — cited for: ATAC" in html
