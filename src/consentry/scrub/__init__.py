"""PII scrubbing of training text: detectors that explain themselves, operators chosen per entity.

from consentry.scrub import ScrubConfig, Scrubber
scrubber = Scrubber(ScrubConfig.default(), key=b"build-key", names=["Ada Lovelace"])
res = scrubber.scrub_batch(["Mail ada@example.org"])   # res.texts, res.failed, res.counts
"""

from __future__ import annotations

from consentry.scrub.config import Engine, NerBackend, OperatorName, ScrubConfig
from consentry.scrub.entities import STRUCTURED_ENTITIES, EntityType
from consentry.scrub.findings import Finding
from consentry.scrub.scrubber import SCRUBBER_RELEASE, Scrubber, ScrubResult, scrub_parallel

__all__ = [
    "SCRUBBER_RELEASE",
    "STRUCTURED_ENTITIES",
    "Engine",
    "EntityType",
    "Finding",
    "NerBackend",
    "OperatorName",
    "ScrubConfig",
    "ScrubResult",
    "Scrubber",
    "scrub_parallel",
]
