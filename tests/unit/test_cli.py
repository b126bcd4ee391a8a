"""The ``bonebot`` command, run as a separate process the way operators and scripts run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SET = REPO_ROOT / "tests" / "data" / "dev.tsv"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BONEBOT_", "TELEGRAM_")) and k not in {"DATABASE_URL", "PYTHONHASHSEED"}
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 't.sqlite3'}"
    env.update(extra)
    return env


def bonebot(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=60,
    )


MATCH_INPUT = [
    "how often should I have a DXA scan on Arimidex?",
    "",
    "I fell down the stairs and can't get up",
    "what's the weather in Lisbon",
]


@pytest.fixture(scope="module")
def match_runs(tmp_path_factory: pytest.TempPathFactory) -> list[subprocess.CompletedProcess[str]]:
    """Run ``bonebot match`` twice with different hash seeds, to check the output does not depend on them."""
    runs = []
    for seed in ("1", "2"):
        tmp_path = tmp_path_factory.mktemp("match")
        runs.append(bonebot(tmp_path, "match", stdin="\n".join(MATCH_INPUT) + "\n", PYTHONHASHSEED=seed))
    return runs


def test_match_writes_one_json_object_per_input_line(
    match_runs: list[subprocess.CompletedProcess[str]],
) -> None:
    run = match_runs[0]
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(records) == len(MATCH_INPUT)
    for text, record in zip(MATCH_INPUT, records, strict=True):
        assert set(record) == {"text", "intent", "score", "alternatives"}
        assert record["text"] == text
        assert isinstance(record["score"], float | int) and 0 <= record["score"] <= 100
        alternatives = record["alternatives"]
        assert isinstance(alternatives, list) and len(alternatives) <= 3
        assert all(set(a) == {"intent", "score"} for a in alternatives)
        assert record["intent"] is None or record["intent"] not in [a["intent"] for a in alternatives]
        scores = [a["score"] for a in alternatives]
        assert scores == sorted(scores, reverse=True)
    question, blank, emergency, weather = records
    assert question["intent"] == "dexa_schedule"
    assert blank["intent"] is None and blank["alternatives"] == []
    assert emergency["intent"] == "urgent_symptoms" and emergency["score"] == 100
    assert weather["intent"] is None


def test_match_output_does_not_depend_on_the_hash_seed(
    match_runs: list[subprocess.CompletedProcess[str]],
) -> None:
    assert match_runs[0].stdout == match_runs[1].stdout


def test_check_passes_and_prints_the_content_version(tmp_path: Path) -> None:
    from bot.content import content_root, content_version

    run = bonebot(tmp_path, "check")
    assert run.returncode == 0, run.stderr
    assert content_version(content_root()) in run.stdout


def test_eval_json_prints_the_three_figures(tmp_path: Path) -> None:
    run = bonebot(tmp_path, "eval", str(DEV_SET), "--json")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    for key in ("top1_accuracy", "out_of_scope_rejection", "safety_recall"):
        assert 0.0 <= figures[key] <= 1.0, key
    assert figures["in_scope_rows"] > 0


def test_eval_of_a_malformed_file_fails_with_the_line_number(tmp_path: Path) -> None:
    labelled = tmp_path / "bad.tsv"
    labelled.write_text(
        "# a comment\ndexa_scan\twhat is a dexa scan\nthis row has no tab\n", encoding="utf-8"
    )
    run = bonebot(tmp_path, "eval", str(labelled))
    assert run.returncode != 0
    assert ":3:" in run.stderr
    assert "Traceback" not in run.stderr


def test_chat_answers_piped_lines_and_numbers_the_buttons(tmp_path: Path) -> None:
    from bot.content import AnswerContext
    from bot.domain import load_domain
    from bot.telegram_html import to_plain_text

    run = bonebot(tmp_path, "chat", stdin="what is a dexa scan?\n1\n")
    assert run.returncode == 0, run.stderr
    assert "[1]" in run.stdout
    first, _, rest = run.stdout.partition("[1] ")
    assert "DEXA" in first
    assert rest.startswith("Tell me more")
    # Pressing 1 shows the next level of the answer.
    renderer = load_domain().renderer
    deeper = to_plain_text(renderer.answer("dexa_scan", "I", AnswerContext(), with_source=False))
    assert deeper.split("\n\n")[0] in rest
    assert "Traceback" not in run.stderr


def test_a_bad_setting_stops_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    run = bonebot(tmp_path, "chat", BONEBOT_DISPATCH_INTERVAL="soon")
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "BONEBOT_DISPATCH_INTERVAL" in lines[0]
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


def test_check_fails_on_a_planted_claim_naming_intent_level_profile_and_sentence(tmp_path: Path) -> None:
    from bot.content import content_root

    content = tmp_path / "content"
    for folder in ("intents", "answers"):
        shutil.copytree(content_root() / folder, content / folder)
    template = content / "answers" / "what_is_ai.html.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "AIs include anastrozole", "There are three AIs: anastrozole"
        ),
        encoding="utf-8",
    )
    run = bonebot(tmp_path, "check", BONEBOT_CONTENT_DIR=str(content))
    assert run.returncode == 1
    assert "what_is_ai [short, woman_ai]: says 'three AIs'" in run.stderr
    assert (
        "“There are three AIs: anastrozole (Arimidex), letrozole (Femara) and exemestane (Aromasin).”"
        in run.stderr
    )


def test_review_pack_writes_one_html_file(tmp_path: Path) -> None:
    from bot.content import content_root, content_version

    run = bonebot(tmp_path, "review-pack", "--out", "pack.html")
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert content_version(content_root()) in html
    default = bonebot(tmp_path, "review-pack")
    assert default.returncode == 0, default.stderr
    assert (tmp_path / f"review-pack-{content_version(content_root())}.html").is_file()
