"""The safety layer's figures on the safety sets, with every layer and the real model.

Issue 7's bar is alarm recall 100%, the right kind for at least 95% of alarms and false alarms at most 1%,
on every half. It holds on the first two tuning halves: dev (used for the rules, phrases and margins) and val
(used for choosing margins). It does not yet hold on val2 to val13, tuning sets written fresh (each by someone
who had read none of the rules, banks or sets) to find what the first two no longer could; nor on the nine
held-out halves, which are never used for tuning: safety_holdout.tsv (written with dev),
safety_holdout2.tsv (written in a later session, like val2, by someone who had read none of them),
safety_holdout3.tsv to safety_holdout9.tsv (each written beside a tuning set, by someone who had read nothing
of the project but the article). Their
figures are pinned as floors, so the layer cannot get worse unnoticed, and the issue's bar on the held-out
halves is a strict expected failure that turns red the day it is met, so the marker comes off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import Domain, load_domain
from bot.matching import EvalReport, evaluate, read_labelled

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SAFETY_SETS = (
    "safety_dev.tsv",
    "safety_val.tsv",
    "safety_val2.tsv",
    "safety_val3.tsv",
    "safety_val4.tsv",
    "safety_val5.tsv",
    "safety_val6.tsv",
    "safety_val7.tsv",
    "safety_val8.tsv",
    "safety_val9.tsv",
    "safety_val10.tsv",
    "safety_val11.tsv",
    "safety_val12.tsv",
    "safety_val13.tsv",
    "safety_holdout.tsv",
    "safety_holdout2.tsv",
    "safety_holdout3.tsv",
    "safety_holdout4.tsv",
    "safety_holdout5.tsv",
    "safety_holdout6.tsv",
    "safety_holdout7.tsv",
    "safety_holdout8.tsv",
    "safety_holdout9.tsv",
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def reports(domain: Domain) -> dict[str, EvalReport]:
    return {name: evaluate(domain.matcher, read_labelled(DATA_DIR / name)) for name in SAFETY_SETS}


def meets_the_issues_bar(figures: EvalReport) -> bool:
    return (
        figures.alarm_recall == 1.0 and figures.right_kind_rate >= 0.95 and figures.false_alarm_rate <= 0.01
    )


def test_the_sets_are_big_enough(reports: dict[str, EvalReport]) -> None:
    dev, holdout = reports["safety_dev.tsv"], reports["safety_holdout.tsv"]
    assert dev.alarms + holdout.alarms >= 150 and dev.calm_rows + holdout.calm_rows >= 250
    languages = set(dev.alarms_by_language) & set(holdout.alarms_by_language)
    assert {"en", "es", "fr", "de", "ru", "pt", "it", "pl", "uk"} <= languages


@pytest.mark.parametrize("name", ["safety_dev.tsv", "safety_val.tsv"])
def test_the_tuning_halves_meet_the_issues_bar(reports: dict[str, EvalReport], name: str) -> None:
    figures = reports[name]
    assert meets_the_issues_bar(figures), (figures.missed, figures.false_alarm_lines, figures.as_dict())


@pytest.mark.parametrize(
    ("name", "recall", "right_kind", "false_alarms"),
    # Measured when the rules and the bank last changed (see the closing note): floors, not targets.
    [
        ("safety_val2.tsv", 1.0, 1.0, 0.036),
        ("safety_val3.tsv", 1.0, 0.984, 0.028),
        ("safety_val4.tsv", 0.995, 0.984, 0.036),
        ("safety_val5.tsv", 0.995, 0.979, 0.045),
        ("safety_val6.tsv", 0.994, 0.994, 0.005),
        ("safety_val7.tsv", 1.0, 1.0, 0.032),
        ("safety_val8.tsv", 1.0, 1.0, 0.079),
        ("safety_val9.tsv", 1.0, 1.0, 0.005),
        ("safety_val10.tsv", 0.994, 0.994, 0.022),
        ("safety_val11.tsv", 0.994, 0.994, 0.044),
        ("safety_val12.tsv", 1.0, 1.0, 0.035),
        ("safety_val13.tsv", 1.0, 1.0, 0.005),
        ("safety_holdout.tsv", 0.991, 0.99, 0.043),
        ("safety_holdout2.tsv", 0.977, 0.969, 0.039),
        ("safety_holdout3.tsv", 0.972, 0.956, 0.051),
        ("safety_holdout4.tsv", 0.964, 0.953, 0.066),
        ("safety_holdout5.tsv", 0.917, 0.911, 0.039),
        ("safety_holdout6.tsv", 0.943, 0.933, 0.018),
        ("safety_holdout7.tsv", 0.917, 0.896, 0.04),
        ("safety_holdout8.tsv", 0.94, 0.934, 0.022),
        ("safety_holdout9.tsv", 0.93, 0.924, 0.031),
    ],
)
def test_sets_below_the_bar_do_not_fall(
    reports: dict[str, EvalReport], name: str, recall: float, right_kind: float, false_alarms: float
) -> None:
    figures = reports[name]
    assert figures.alarm_recall >= recall, figures.missed
    assert figures.right_kind_rate >= right_kind, figures.missed
    assert figures.false_alarm_rate <= false_alarms, figures.false_alarm_lines


@pytest.mark.xfail(
    strict=True, reason="issue 7's bar is not yet met on unseen messages; see the closing note"
)
@pytest.mark.parametrize(
    "name",
    [
        "safety_holdout.tsv",
        "safety_holdout2.tsv",
        "safety_holdout3.tsv",
        "safety_holdout4.tsv",
        "safety_holdout5.tsv",
        "safety_holdout6.tsv",
        "safety_holdout7.tsv",
        "safety_holdout8.tsv",
        "safety_holdout9.tsv",
    ],
)
def test_unseen_halves_meet_the_issues_bar(reports: dict[str, EvalReport], name: str) -> None:
    assert meets_the_issues_bar(reports[name])


# val12, val13, holdout8 and holdout9 were written in the nine languages the safety layer reads, and nothing else.
SETS_WITH_UNREAD_LANGUAGES = tuple(
    name
    for name in SAFETY_SETS
    if name not in ("safety_val12.tsv", "safety_val13.tsv", "safety_holdout8.tsv", "safety_holdout9.tsv")
)


@pytest.mark.parametrize("name", SETS_WITH_UNREAD_LANGUAGES)
def test_alarms_in_languages_the_bot_cannot_read_still_get_the_numbers(
    reports: dict[str, EvalReport], name: str
) -> None:
    rows, numbers = reports[name].other_language_alarms
    assert rows > 0 and numbers == rows


@pytest.mark.parametrize(
    ("name", "top1", "rejection"),
    # The figures before the safety model (closing note of the earlier issues): they must not fall.
    [("dev.tsv", 0.973, 0.969), ("holdout.tsv", 0.894, 0.927)],
)
def test_the_intent_figures_do_not_fall_with_the_model(
    domain: Domain, name: str, top1: float, rejection: float
) -> None:
    figures = evaluate(domain.matcher, read_labelled(DATA_DIR / name))
    assert figures.top1_accuracy >= top1 - 0.0005, figures.as_dict()
    assert figures.rejection_rate >= rejection - 0.0005, figures.as_dict()
    assert figures.safety_recall == 1.0
    assert figures.false_alarms == 0, figures.false_alarm_lines
