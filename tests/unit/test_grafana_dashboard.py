"""deploy/grafana-dashboard.json queries only metrics and labels the bot exports, and shows what ops need."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import Metric

from bot.metrics import REGISTRY

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
# Labels Prometheus adds to every scraped series, and the histogram bucket label.
SCRAPE_LABELS = {"job", "instance", "le"}
# Series Prometheus itself records for every scrape target.
PROMETHEUS_SERIES = {"up"}


def _exported() -> dict[str, set[str]]:
    """Return every series name the registry exports, with the label names it carries."""
    series: dict[str, set[str]] = {}
    families: list[Metric] = list(REGISTRY.collect())
    for family in families:
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}[family.type]
        collector = REGISTRY._names_to_collectors[family.name + suffixes[0]]  # the registry's own index
        labels = set(getattr(collector, "_labelnames", ()))
        for suffix in suffixes:
            series[family.name + suffix] = labels
    return series


def _targets() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def _panels() -> dict[str, dict[str, Any]]:
    return {panel["title"]: panel for panel in json.loads(DASHBOARD.read_text())["panels"]}


def test_the_registry_exports_what_the_dashboard_needs() -> None:
    exported = _exported()
    assert "bonebot_updates_total" in exported and exported["bonebot_updates_total"] == {"kind"}
    assert "bonebot_handler_seconds_bucket" in exported


@pytest.mark.parametrize(("title", "expr"), _targets(), ids=lambda value: str(value)[:60])
def test_every_query_names_exported_series_and_labels(title: str, expr: str) -> None:
    exported = _exported()
    # Drop label matchers' values and Grafana's variables before looking for names.
    bare = re.sub(r'"[^"]*"', '""', expr)
    names = set(re.findall(r"\b(bonebot_[a-z0-9_]+)\b", bare))
    others = set(re.findall(r"\b([a-z_]+)\{", bare)) - names
    assert names or others, f"{title}: no metric in {expr}"
    unknown = names - set(exported)
    assert not unknown, f"{title}: {sorted(unknown)} not exported by bot.metrics"
    assert others <= PROMETHEUS_SERIES, f"{title}: {sorted(others - PROMETHEUS_SERIES)}"
    available = set().union(*(exported[name] for name in names)) | SCRAPE_LABELS
    used = set(re.findall(r"\b([a-z_]+)\s*=~?", bare))
    for group in re.findall(r"\bby\s*\(([^)]*)\)", bare):
        used |= {label.strip() for label in group.split(",")}
    assert used <= available, f"{title}: labels {sorted(used - available)} are not on {sorted(names)}"


def test_the_dashboard_has_a_panel_for_each_thing_operators_watch() -> None:
    wanted = {
        "bonebot_updates_total": "Updates per minute",
        "bonebot_replies_total": "Replies per minute",
        "bonebot_answers_total": "Answers by topic",
        "bonebot_unanswered_total": "Out-of-scope rate",
        "bonebot_safety_replies_total": "Safety replies",
        "bonebot_reminders_total": "Reminder deliveries",
        "bonebot_broadcast_deliveries_total": "Broadcast deliveries",
        "bonebot_bot_api_errors_total": "Bot API errors",
        "bonebot_handler_seconds_bucket": "Handler latency percentiles",
    }
    panels = _panels()
    for metric, title_start in wanted.items():
        titles = [title for title in panels if title.startswith(title_start)]
        assert titles, f"no panel titled {title_start!r}"
        assert any(metric in target["expr"] for t in titles for target in panels[t]["targets"])
    latency = " ".join(t["expr"] for t in panels["Handler latency percentiles"]["targets"])
    assert {"0.5", "0.99"} <= set(re.findall(r"histogram_quantile\(([0-9.]+)", latency))


def test_every_panel_uses_the_dashboard_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "job"} <= variables
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert 'job=~"$job"' in target["expr"], f"{panel['title']}: filtered by the job variable"
