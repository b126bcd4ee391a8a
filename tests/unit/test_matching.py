"""The matcher: normalisation, intent choice, safety rules, out-of-scope rejection and the dev-set figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import SAFETY_INTENTS, content_root, load_knowledge_base
from bot.matching import EvalReport, Matcher, MatchResult, evaluate, fold, read_labelled

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge_base(content_root()))


# -- normalisation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("OSTÉOPÉNIE", "osteopenie"),
        ("What's   a DEXA-scan?!", "whats a dexa scan"),
        ("Ça... c'est «bizarre»", "ca cest bizarre"),
    ],
)
def test_fold_removes_accents_case_and_punctuation(text: str, canonical: str) -> None:
    assert fold(text) == canonical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OESTROGEN and bones", "estrogen"),
        ("my DXA results", "dexa"),
        ("Oestradiol level", "estradiol"),
        ("Arimidex side effects", "anastrozole"),
        ("is Femara strong", "letrozole"),
        ("Prolia injection", "denosumab"),
        ("Aromasin", "exemestane"),
        ("started anastrazole", "anastrozole"),
        ("letrazole tablets", "letrozole"),
        ("told i have osteopina", "osteopenia"),
        ("what is a bisphosphanate", "bisphosphonate"),
        ("bone density scan", "dexa"),
    ],
)
def test_normalizer_folds_variants_brands_and_misspellings(
    matcher: Matcher, text: str, expected: str
) -> None:
    words = matcher.normalizer.corrected(text).split()
    assert expected in words


@pytest.mark.parametrize(
    ("text", "unexpected"),
    [("Arimidex side effects", "arimidex"), ("told i have osteopina", "osteopina"), ("my DXA", "dxa")],
)
def test_normalizer_replaces_the_variant(matcher: Matcher, text: str, unexpected: str) -> None:
    assert unexpected not in matcher.normalizer.corrected(text).split()


def test_normalizer_treats_accented_and_plain_text_alike(matcher: Matcher) -> None:
    normalizer = matcher.normalizer
    assert normalizer.corrected("Ostéopénie, c'est quoi?") == normalizer.corrected("osteopenie cest QUOI")


@pytest.mark.parametrize(
    ("text", "medicines"),
    [
        ("Is Femara harder on bones than Arimidex?", ["letrozole", "anastrozole"]),
        ("anastrazole plus Prolia", ["anastrozole", "denosumab"]),
        ("Zometa or Boniva with aromasin", ["zoledronic acid", "ibandronate", "exemestane"]),
        ("arimidex and anastrozole are the same", ["anastrozole"]),
        ("what is a dexa scan", []),
    ],
)
def test_medicines_are_extracted_in_order_of_mention(
    matcher: Matcher, text: str, medicines: list[str]
) -> None:
    normalizer = matcher.normalizer
    assert normalizer.medicines(normalizer.corrected(text)) == medicines


def test_match_result_carries_the_medicines(matcher: Matcher) -> None:
    assert matcher.match("does letrazole thin your bones").medicines == ("letrozole",)
    assert matcher.match("how often should i get a dxa").medicines == ()


# -- matching realistic phrasings ------------------------------------------------------------------------

# New phrasings written for this test: none is an example in intents/ or a row of tests/data/*.tsv
# (test_phrasings_are_not_copied_from_training_or_eval_data checks that).
PHRASINGS: list[tuple[str, str]] = [
    ("is my skeleton a living thing or just hard stuff", "bone_remodeling"),
    ("what is the job of an osteoblast", "bone_remodeling"),
    ("does bone get replaced over the years", "bone_remodeling"),
    ("what part does oestrogen play in keeping bones healthy", "estrogen_role"),
    ("are estrone and estriol also kinds of estrogen", "estrogen_role"),
    ("why would less estrogen matter to my skeleton", "estrogen_role"),
    ("what exactly is exemestane", "what_is_ai"),
    ("explain what an aromatase inhibitor does", "what_is_ai"),
    ("arimidex what sort of medicine is it", "what_is_ai"),
    ("why was i prescribed an aromatase inhibitor in the first place", "why_ai_prescribed"),
    ("whats the reason men on trt are given anastrozole", "why_ai_prescribed"),
    ("why do i need an estrogen blocker after breast cancer", "why_ai_prescribed"),
    ("how exactly does anastrozole make bones weaker", "ai_bone_loss_mechanism"),
    ("why does lowering estrogen cause bone loss", "ai_bone_loss_mechanism"),
    ("what is going on in my bones on femara", "ai_bone_loss_mechanism"),
    ("is osteopenia the same as osteoporosis", "osteopenia_osteoporosis"),
    ("my scan said osteopina what is that", "osteopenia_osteoporosis"),
    ("what does osteoporosis actually mean", "osteopenia_osteoporosis"),
    ("am i going to fracture my spine on exemestane", "fracture_risk"),
    ("does letrozole make broken bones more likely", "fracture_risk"),
    ("what are the chances of a vertebral fracture on an ai", "fracture_risk"),
    ("how much bone density do women lose each year on an ai", "bone_loss_rate"),
    ("is bone loss on anastrozole faster than normal menopause", "bone_loss_rate"),
    ("what percentage of bone will i lose per year", "bone_loss_rate"),
    ("results of the atac study on bone density", "atac_results"),
    ("how much did bmd drop in the atac trial", "atac_results"),
    ("is tamoxifen kinder to bones than letrozole", "tamoxifen_comparison"),
    ("does tamoxifen cause bone loss like the ais do", "tamoxifen_comparison"),
    ("bmd stands for what", "what_is_bmd"),
    ("what does my bone mineral density number mean", "what_is_bmd"),
    ("can you explain osteoprotegerin", "rank_rankl_opg"),
    ("what does rankl do", "rank_rankl_opg"),
    ("what does the dxa machine actually check", "dexa_scan"),
    ("what does a bone density scan actually measure", "dexa_scan"),
    ("how often do i need a bone scan on letrozole", "dexa_schedule"),
    ("should i have a dexa before i start anastrozole", "dexa_schedule"),
    ("when is my next bone density test due", "dexa_schedule"),
    ("does smoking make osteoporosis more likely", "risk_factors"),
    ("what things make someone more likely to get weak bones", "risk_factors"),
    ("im a guy on testosterone and anastrozole, is my bone health at risk", "men_trt"),
    ("my estradiol is really low on trt, is that bad for bones", "men_trt"),
    ("what can i do to keep my bones strong on arimidex", "prevention_overview"),
    ("are calcium and vitamin d worth taking for my bones on letrozole", "prevention_overview"),
    ("can exercise stop bone loss from my ai", "prevention_overview"),
    ("how does zometa work", "bisphosphonates"),
    ("what is a bisphosphanate", "bisphosphonates"),
    ("what is prolia and how does it work", "denosumab"),
    ("how does denosumab protect bone", "denosumab"),
    ("what did the abcsg 18 trial find", "treatment_evidence"),
    ("is there proof that zoledronic acid prevents bone loss on letrozole", "treatment_evidence"),
    ("what did the aribon study show", "treatment_evidence"),
    ("should i choose prolia or a bisphosphonate", "choosing_treatment"),
    ("how do doctors decide which bone medicine to use", "choosing_treatment"),
    ("do bones get stronger again once you finish letrozole", "recovery_after_stopping"),
    ("is ai bone loss permanent", "recovery_after_stopping"),
    ("im thinking of quitting anastrozole because of my bones", "should_i_stop_ai"),
    ("is letrozole worth the bone damage", "should_i_stop_ai"),
    ("since starting femara i feel achy and low", "feelings_and_symptoms"),
    ("i feel so fragile since i started this medication", "feelings_and_symptoms"),
    ("what questions should i bring to my oncology appointment", "questions_for_care_team"),
    ("help me get ready for my doctors visit", "questions_for_care_team"),
    ("which studies is this information based on", "sources"),
    ("where do your facts come from", "sources"),
    ("hello there bonebot", "greeting"),
    ("hey, morning!", "greeting"),
    ("cheers, that's great", "thanks"),
    ("that was really helpful, thank you", "thanks"),
    ("what sort of things can you answer", "bot_help"),
    ("how am i supposed to use this chat", "bot_help"),
    ("please remind me about my bone scan next month", "set_reminder"),
    ("my dexa appointment is on 12 june can you remind me", "set_reminder"),
    ("i forgot to take my letrozole yesterday should i take two today", "medication_dose"),
    ("what dose of anastrozole is right for me", "medication_dose"),
    ("i just fell down the stairs and my hip is agony", "urgent_symptoms"),
    ("honestly i dont want to be alive anymore", "crisis"),
]

OUT_OF_SCOPE = [
    "how do i cope with hot flushes at night on letrozole",
    "hot flashes are driving me mad, what helps",
    "is hair thinning a side effect of anastrozole",
    "my hair is falling out since starting arimidex",
    "can you give me a weekly meal plan for weight loss",
    "what diet should i follow to lose weight after chemo",
    "what are my chances of the cancer coming back",
    "what is my life expectancy with stage 2 breast cancer",
    "will my breast cancer recur after five years of letrozole",
    "what's the weather like in london tomorrow",
    "who won the football match last night",
    "can you recommend a good pizza place",
    "quelle est la meilleure façon de protéger mes os",
    "¿el anastrozol causa pérdida de hueso?",
    "wie oft sollte ich eine knochendichtemessung machen",
    "asdkjh qwpoeiru zmxncb",
    "jjjjjjjj kkkkk",
    "does letrozole interact with ibuprofen",
    "can i drink grapefruit juice with exemestane",
    "write me a poem about cats",
    "",
    "   ",
    "\t \n",
]


def test_phrasings_are_not_copied_from_training_or_eval_data(matcher: Matcher) -> None:
    seen = {fold(e) for i in matcher.knowledge.intents.values() for e in i.examples}
    for path in DATA.glob("*.tsv"):
        seen |= {fold(row.question) for row in read_labelled(path)}
    copied = [text for text, _ in PHRASINGS if fold(text) in seen]
    copied += [text for text in OUT_OF_SCOPE if text.strip() and fold(text) in seen]
    assert copied == []


def test_phrasings_cover_every_intent(matcher: Matcher) -> None:
    assert {intent for _, intent in PHRASINGS} == set(matcher.knowledge.intents)


@pytest.mark.parametrize(("text", "intent"), PHRASINGS)
def test_realistic_phrasing_matches_its_intent(matcher: Matcher, text: str, intent: str) -> None:
    result = matcher.match(text)
    assert result.intent == intent, f"{result.intent} ({result.score}), alternatives {result.alternatives}"
    assert result.score >= matcher.threshold


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_question_gets_no_intent(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.intent is None, f"{result.intent} ({result.score})"
    assert not result.safety


def test_same_question_gives_the_same_result(matcher: Matcher) -> None:
    sample = [text for text, _ in PHRASINGS[::5]]
    first = [matcher.match(text) for text in sample]
    assert [matcher.match(text) for text in sample] == first
    # ...and again after other questions have been through the typo-correction cache.
    for text in OUT_OF_SCOPE:
        matcher.match(text)
    assert [matcher.match(text) for text in reversed(sample)] == first[::-1]


def test_case_and_accents_do_not_change_the_match(matcher: Matcher) -> None:
    assert matcher.match("WHAT IS A BISPHOSPHANATE?") == matcher.match("what is a bisphosphanate")
    assert matcher.match("Qu'est-ce que l'ostéopénie") == matcher.match("quest ce que losteopenie")


def test_a_second_matcher_agrees_with_the_first(matcher: Matcher) -> None:
    other = Matcher(load_knowledge_base(content_root()))
    for text, _ in PHRASINGS[::3]:
        assert other.match(text) == matcher.match(text)


# -- safety ----------------------------------------------------------------------------------------------

SAFETY: list[tuple[str, str]] = [
    ("I fell and think I broke my hip, is that from letrozole?", "urgent_symptoms"),
    ("just fell in the garden and cant get up, im on arimidex", "urgent_symptoms"),
    ("sudden terrible back pain this morning, I take anastrozole for my osteoporosis", "urgent_symptoms"),
    ("my mum is on exemestane and she fell, her wrist looks bent the wrong way", "urgent_symptoms"),
    ("I think I have a broken rib, does denosumab help", "urgent_symptoms"),
    ("I want to die, what is a dexa scan", "crisis"),
    ("whats the point of living anymore with these brittle bones", "crisis"),
    ("i keep thinking about ending it all since starting femara", "crisis"),
    ("im going to take all my tablets tonight, letrozole included", "crisis"),
    ("i feel like hurting myself, does tamoxifen cause bone loss", "crisis"),
]


@pytest.mark.parametrize(("text", "intent"), SAFETY)
def test_safety_wins_over_topic_words(matcher: Matcher, text: str, intent: str) -> None:
    result = matcher.match(text)
    assert result.intent == intent
    assert result.safety
    assert result.score == 100.0


def test_crisis_beats_urgent_symptoms(matcher: Matcher) -> None:
    assert matcher.match("i fell and broke my hip and i want to die").intent == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "will I break my hip on anastrozole",
        "what if I fall and break my wrist on letrozole",
        "I broke my wrist years ago, am I at higher risk on an AI",
        "how likely is a hip fracture on exemestane",
        "could a fall break my spine if i have osteoporosis",
        "will I fracture something if I keep taking arimidex",
    ],
)
def test_hypothetical_fracture_questions_are_not_emergencies(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.intent not in SAFETY_INTENTS
    assert not result.safety


def test_will_i_break_my_hip_is_about_fracture_risk(matcher: Matcher) -> None:
    assert matcher.match("will I break my hip on anastrozole").intent == "fracture_risk"


def test_asking_whether_osteoporosis_can_kill_is_not_a_crisis(matcher: Matcher) -> None:
    assert matcher.match("can I die from osteoporosis").intent != "crisis"


# -- alternatives ----------------------------------------------------------------------------------------


def _check_alternatives(result: MatchResult) -> None:
    intents = [c.intent for c in result.alternatives]
    assert result.intent is None or result.intent not in intents
    assert len(intents) <= 3
    assert len(set(intents)) == len(intents)
    scores = [c.score for c in result.alternatives]
    assert scores == sorted(scores, reverse=True)
    if not result.safety and result.intent is not None:
        assert all(score <= result.score for score in scores)


@pytest.mark.parametrize(
    "text", [t for t, _ in PHRASINGS] + [t for t, _ in SAFETY] + [t for t in OUT_OF_SCOPE if t.strip()]
)
def test_alternatives_exclude_the_winner_and_are_few_and_sorted(matcher: Matcher, text: str) -> None:
    _check_alternatives(matcher.match(text))


def test_near_ties_are_alternatives_close_to_the_winner(matcher: Matcher) -> None:
    for text, _ in PHRASINGS:
        result = matcher.match(text)
        for candidate in result.near_ties:
            assert candidate in result.alternatives
            assert result.score - candidate.score <= 6.0


# -- evaluation on the labelled sets ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_report(matcher: Matcher) -> EvalReport:
    return evaluate(matcher, read_labelled(DATA / "dev.tsv"))


class TestDevSetAcceptance:
    """The dev-set acceptance test: the figures the matcher is tuned to reach on tests/data/dev.tsv."""

    def test_top1_accuracy(self, dev_report: EvalReport) -> None:
        assert dev_report.top1_accuracy >= 0.95, dev_report.as_dict()

    def test_out_of_scope_rejection(self, dev_report: EvalReport) -> None:
        assert dev_report.rejection_rate >= 0.90, dev_report.as_dict()

    def test_safety_recall(self, dev_report: EvalReport) -> None:
        assert dev_report.safety > 0
        assert dev_report.safety_recall == 1.0, dev_report.as_dict()


def test_dev_set_uses_only_known_intents(dev_report: EvalReport) -> None:
    assert dev_report.unknown_labels == set()
    assert dev_report.in_scope > 0 and dev_report.out_of_scope > 0


def test_every_example_matches_its_own_intent(matcher: Matcher) -> None:
    examples = [(i.id, e) for i in matcher.knowledge.intents.values() for e in i.examples]
    misses = [(intent, text, matcher.match(text).intent) for intent, text in examples]
    misses = [miss for miss in misses if miss[0] != miss[2]]
    assert 1 - len(misses) / len(examples) >= 0.97, misses
