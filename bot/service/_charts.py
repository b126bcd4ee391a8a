"""The /stats bar chart, drawn headless with matplotlib's Agg back end."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: must come before pyplot is imported

from matplotlib.figure import Figure

MAX_BARS = 10
MAX_LABEL = 40


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def stats_chart(topics: list[tuple[str, int]], unanswered: list[tuple[str, int]], title: str) -> bytes:
    """Return a PNG with two horizontal bar charts: answers by topic and repeated unanswered questions."""
    figure = Figure(figsize=(8, 6), dpi=100)
    panels = (
        (topics, "Answers by topic this month", "#3b7dd8"),
        (unanswered, "Not answered (3+ askers)", "#d8843b"),
    )
    for index, (rows, heading, colour) in enumerate(panels, start=1):
        axes = figure.add_subplot(2, 1, index)
        rows = rows[:MAX_BARS]
        if rows:
            labels = [_short(label) for label, _ in reversed(rows)]
            values = [count for _, count in reversed(rows)]
            axes.barh(labels, values, color=colour)
            axes.tick_params(axis="y", labelsize=8)
        else:
            axes.text(0.5, 0.5, "nothing yet", ha="center", va="center", transform=axes.transAxes)
            axes.set_yticks([])
        axes.set_title(heading, fontsize=10)
    figure.suptitle(_short(title), fontsize=12)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
