"""Measure what the safety layer costs: per-message latency on one core, batch throughput, load time, RSS.

Three figures, each against issue 7's targets:

* ``per-message``: ``Matcher.match`` one message at a time with every layer (rules, other-language
  phrases, the gate and the embedding model on one thread), over the dev, holdout and safety sets
  cycled; p50/p99 in milliseconds (target p99 <= 30 ms on one core);
* ``batched``: ``Matcher.match_many`` in batches of 64, as ``bonebot match`` reads piped input, over the
  ordinary questions of dev and holdout (target >= 500 questions/s);
* ``model``: the share of ordinary questions the gate sends to the model, the model's load time and the
  process's peak RSS with it loaded.

Run from the repository root::

    taskset -c 0 .venv/bin/python bench/safety_latency.py            # one core
    .venv/bin/python bench/safety_latency.py --threads 2                # the batch figure on two cores

It prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.content import SAFETY_INTENTS  # noqa: E402
from bot.domain import load_domain  # noqa: E402
from bot.matching import read_labelled  # noqa: E402

DATA = REPO_ROOT / "tests" / "data"
ORDINARY = (DATA / "dev.tsv", DATA / "holdout.tsv")
MIXED = (*ORDINARY, DATA / "safety_dev.tsv", DATA / "safety_holdout.tsv", DATA / "safety_holdout2.tsv")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1500, help="messages timed one at a time")
    parser.add_argument("--threads", type=int, default=1, help="the model's threads")
    args = parser.parse_args()

    started = time.perf_counter()
    domain = load_domain(threads=args.threads)
    load_seconds = time.perf_counter() - started
    matcher = domain.matcher
    detector = matcher.safety_detector

    mixed = [row.question for path in MIXED for row in read_labelled(path)]
    ordinary = [
        row.question for path in ORDINARY for row in read_labelled(path) if row.intent not in SAFETY_INTENTS
    ]
    for text in mixed[:50]:  # warm caches
        matcher.match(text)

    latencies = []
    for i in range(args.messages):
        text = mixed[i % len(mixed)]
        t0 = time.perf_counter()
        matcher.match(text)
        latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    done = 0
    while done < 2 * len(ordinary):
        for start in range(0, len(ordinary), 64):
            batch = ordinary[start : start + 64]
            matcher.match_many(batch)
            done += len(batch)
    batch_rate = done / (time.perf_counter() - t0)

    gated = sum(detector.worth_embedding(t) for t in ordinary) if detector.gate else len(ordinary)
    figures = {
        "per_message_p50_ms": round(percentile(latencies, 0.50), 2),
        "per_message_p99_ms": round(percentile(latencies, 0.99), 2),
        "per_message_max_ms": round(max(latencies), 2),
        "batched_questions_per_s": round(batch_rate, 1),
        "ordinary_share_embedded": round(gated / len(ordinary), 3),
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": args.threads,
        "messages": args.messages,
    }
    print(
        f"per message (mixed sets, {args.messages}):  p50 {figures['per_message_p50_ms']} ms  "
        f"p99 {figures['per_message_p99_ms']} ms  (target p99 <= 30 ms)"
    )
    print(f"batched ordinary questions:     {figures['batched_questions_per_s']}/s  (target >= 500/s)")
    print(f"ordinary questions embedded:    {figures['ordinary_share_embedded']:.1%}")
    print(
        f"load (content, matcher, model): {figures['load_seconds']} s;  peak RSS {figures['peak_rss_mib']} MiB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
