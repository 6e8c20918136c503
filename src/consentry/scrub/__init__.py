"""PII scrubbing of training text: detectors that explain themselves, operators chosen per entity.

from consentry.scrub import ScrubConfig, Scrubber
scrubber = Scrubber(ScrubConfig.default(), key=b"build-key", names=["Ada Lovelace"])
res = scrubber.scrub_batch(["Mail ada@example.org"])   # res.texts, res.failed, res.counts

Names are imported on first use, so that `ScrubConfig` or `NerBackend` alone (the command
line's options) does not load the detectors.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Engine": "consentry.scrub.config",
    "NerBackend": "consentry.scrub.config",
    "OperatorName": "consentry.scrub.config",
    "ScrubConfig": "consentry.scrub.config",
    "STRUCTURED_ENTITIES": "consentry.scrub.entities",
    "EntityType": "consentry.scrub.entities",
    "Finding": "consentry.scrub.findings",
    "SCRUBBER_RELEASE": "consentry.scrub.scrubber",
    "Scrubber": "consentry.scrub.scrubber",
    "ScrubResult": "consentry.scrub.scrubber",
    "scrub_parallel": "consentry.scrub.scrubber",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'consentry.scrub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from consentry.scrub.config import Engine, NerBackend, OperatorName, ScrubConfig
    from consentry.scrub.entities import STRUCTURED_ENTITIES, EntityType
    from consentry.scrub.findings import Finding
    from consentry.scrub.scrubber import SCRUBBER_RELEASE, Scrubber, ScrubResult, scrub_parallel
