"""Measure the intent matcher's single-question latency and throughput on one core.

Two workloads over the full intent set:

* ``cycled``: the dev and holdout questions, cycled, so the typo-correction cache is warm;
* ``fresh``: unique questions made from the same ones by random typos, shuffled word order and appended
  random words, so almost every unknown word is new and the typo-correction cache cannot help.

Run from the repository root (pin to one core with ``taskset -c 0`` or ``--cpu 0``)::

    taskset -c 0 .venv/bin/python bench/matcher_throughput.py
    .venv/bin/python bench/matcher_throughput.py --iterations 5000 --cpu 0

It prints a small table, then one JSON line with every figure. The target is 5,000 questions/s or more
for each workload on one core.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import string
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.content import content_root, load_knowledge_base  # noqa: E402
from bot.matching import Matcher, read_labelled  # noqa: E402

TARGET_PER_SECOND = 5000.0
LABELLED = (REPO_ROOT / "tests" / "data" / "dev.tsv", REPO_ROOT / "tests" / "data" / "holdout.tsv")


@dataclass(frozen=True)
class Figures:
    """Latency and throughput of one workload."""

    workload: str
    questions: int
    unique: int
    p50_us: float
    p99_us: float
    max_us: float
    per_second: float


def questions() -> list[str]:
    """Return the non-blank questions of the labelled dev and holdout sets."""
    return [row.question for path in LABELLED for row in read_labelled(path) if row.question.strip()]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(len(word) - 1)
    edit = rng.randrange(4)
    if edit == 0:  # swap two neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    if edit == 2:  # double a letter
        return word[: i + 1] + word[i] + word[i + 1 :]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]  # wrong letter


def perturb(question: str, rng: random.Random, vocabulary: list[str]) -> str:
    """Return ``question`` with typos, some word order shuffled and a few random words appended."""
    words = question.split()
    words = [_typo(w, rng) if rng.random() < 0.35 else w for w in words]
    if len(words) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(words) - 1)
        j = min(len(words), i + rng.randint(2, 4))
        middle = words[i:j]
        rng.shuffle(middle)
        words[i:j] = middle
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            words.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))))
        else:
            words.append(_typo(rng.choice(vocabulary), rng))
    return " ".join(words)


def fresh_questions(base: list[str], count: int, seed: int) -> list[str]:
    """Return ``count`` unique perturbed questions built from ``base``."""
    rng = random.Random(seed)
    vocabulary = sorted({w for q in base for w in q.lower().split() if len(w) >= 4})
    made: dict[str, None] = {}
    while len(made) < count:
        made.setdefault(perturb(rng.choice(base), rng, vocabulary), None)
    return list(made)


def _percentile(sorted_ns: list[int], fraction: float) -> float:
    index = min(len(sorted_ns) - 1, max(0, round(fraction * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1000.0


def measure(matcher: Matcher, workload: str, texts: list[str], iterations: int) -> Figures:
    """Match ``iterations`` questions from ``texts`` in order (cycling), timing each one."""
    match = matcher.match
    clock = time.perf_counter_ns
    timings = [0] * iterations
    n = len(texts)
    gc.collect()
    start = clock()
    for i in range(iterations):
        text = texts[i % n]
        t0 = clock()
        match(text)
        timings[i] = clock() - t0
    elapsed = (clock() - start) / 1e9
    timings.sort()
    return Figures(
        workload=workload,
        questions=iterations,
        unique=min(n, iterations),
        p50_us=round(_percentile(timings, 0.50), 1),
        p99_us=round(_percentile(timings, 0.99), 1),
        max_us=round(timings[-1] / 1000.0, 1),
        per_second=round(iterations / elapsed, 1),
    )


def main(argv: list[str] | None = None) -> int:
    """Run both workloads and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000, help="questions timed per workload")
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed questions before each workload")
    parser.add_argument("--seed", type=int, default=20240601, help="seed for the fresh questions")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU (Linux)")
    args = parser.parse_args(argv)

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

    t0 = time.perf_counter()
    matcher = Matcher(load_knowledge_base(content_root()))
    build_s = time.perf_counter() - t0

    base = questions()
    # Warm-up and timed questions are different, so no fresh question has been seen before it is timed.
    fresh = fresh_questions(base, args.warmup + args.iterations, args.seed)

    for i in range(args.warmup):
        matcher.match(base[i % len(base)])
    cycled = measure(matcher, "cycled", base, args.iterations)

    for text in fresh[: args.warmup]:
        matcher.match(text)
    unique = measure(matcher, "fresh", fresh[args.warmup :], args.iterations)

    results = [cycled, unique]
    intents = len(matcher.knowledge.intents)
    examples = sum(len(i.examples) for i in matcher.knowledge.intents.values())
    print(
        f"matcher: {intents} intents, {examples} examples, built in {build_s * 1000:.0f} ms; "
        f"python {platform.python_version()}; cpus {cpus}"
    )
    print(
        f"{'workload':<8} {'questions':>9} {'unique':>7} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>9} {'q/s':>9}"
    )
    for r in results:
        print(
            f"{r.workload:<8} {r.questions:>9} {r.unique:>7} {r.p50_us:>8.1f} {r.p99_us:>8.1f} "
            f"{r.max_us:>9.1f} {r.per_second:>9.0f}"
        )
    passed = all(r.per_second >= TARGET_PER_SECOND for r in results)
    print(
        f"target: {TARGET_PER_SECOND:.0f} questions/s per workload on one core: {'met' if passed else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "bench": "matcher_throughput",
                "intents": intents,
                "examples": examples,
                "build_ms": round(build_s * 1000, 1),
                "cpus": cpus,
                "target_per_second": TARGET_PER_SECOND,
                "target_met": passed,
                "results": [asdict(r) for r in results],
            }
        )
    )
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # output piped into `head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        raise SystemExit(0) from None
