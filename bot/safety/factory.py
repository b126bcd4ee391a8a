"""Build the safety detector from the matcher's normaliser and the shipped data files."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.safety._detector import SafetyDetector
from bot.safety._dose import DEFAULT_DOSE_CUES, DoseCues
from bot.safety._gate import AlarmGate
from bot.safety._language import LanguageGuesser
from bot.safety._lexicon import DEFAULT_LEXICON, Lexicon
from bot.safety._semantic import ALARM_CLASSES, CALM_CLASSES, DEFAULT_BANK, E5Embedder, ExemplarIndex

if TYPE_CHECKING:
    from bot.matching._normalize import Normalizer

logger = logging.getLogger(__name__)


def build_safety_detector(
    normalizer: Normalizer,
    *,
    semantic: bool = True,
    ordinary: Iterable[str] = (),
    bank: Path = DEFAULT_BANK,
    lexicon: Path = DEFAULT_LEXICON,
    dose_cues: Path = DEFAULT_DOSE_CUES,
    threads: int = 1,
) -> SafetyDetector:
    """Return a detector with the rules, the other-language phrases and, if ``semantic``, the model."""

    def canonical_forms(text: str) -> tuple[str, ...]:
        analysis = normalizer.analyse(text[:4000])
        # A correction can also spoil a word the rules know ("kil" is not "kill"): read both.
        if analysis.spelled == analysis.corrected:
            return (analysis.corrected,)
        return (analysis.corrected, analysis.spelled)

    lexical = SafetyDetector(
        canonical_forms,
        LanguageGuesser(normalizer.english_words),
        Lexicon.load(lexicon),
        dose_cues=DoseCues.load(dose_cues),
    )
    if not semantic:
        return lexical
    started = time.perf_counter()
    ordinary = list(ordinary)
    index = ExemplarIndex.load(E5Embedder(threads), bank, ordinary)
    alarms = [t for name in ALARM_CLASSES for t in index.bank[name]]
    calm = [t for name in CALM_CLASSES for t in index.bank[name]]
    missed = [t for t, v in zip(alarms, lexical.assess_many(alarms), strict=True) if v.kind is None]
    gate = AlarmGate.fit(alarms, calm, must_pass=missed)
    logger.info("safety model loaded seconds=%.2f", time.perf_counter() - started)
    return SafetyDetector(
        lexical._canonical_forms,
        lexical.guesser,
        lexical.lexicon,
        index,
        gate,
        dose_cues=lexical.dose_cues,
    )
