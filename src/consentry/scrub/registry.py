"""The detector registry: which detectors serve which entity types under a configuration."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from consentry.errors import ScrubError
from consentry.scrub.config import NerBackend, ScrubConfig
from consentry.scrub.detectors.base import Detector
from consentry.scrub.detectors.names import DirectoryDetector, LexiconPersonDetector, directory_tokens
from consentry.scrub.detectors.structured import PatternDetector
from consentry.scrub.entities import EntityType

__all__ = ["DetectorFactory", "build_detectors", "register"]

DetectorFactory = Callable[[ScrubConfig, Sequence[str]], Detector | None]
_FACTORIES: dict[str, DetectorFactory] = {}


def register(name: str, factory: DetectorFactory) -> None:
    """Add a detector factory; it returns None when the configuration does not want it."""
    _FACTORIES[name] = factory


def _patterns(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    return PatternDetector(cfg.entities, cfg.engine, cfg.min_score)


def _lexicon(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    if EntityType.PERSON not in cfg.entities:
        return None
    return LexiconPersonDetector(cfg.min_score, directory_tokens(names))


def _directory(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    return DirectoryDetector(names) if EntityType.PERSON in cfg.entities and names else None


def _spacy(cfg: ScrubConfig, names: Sequence[str]) -> Detector | None:
    if cfg.ner is not NerBackend.SPACY or EntityType.PERSON not in cfg.entities:
        return None
    from consentry.scrub.detectors.ner import SpacyPersonDetector

    return SpacyPersonDetector(cfg.spacy_model)


register("patterns", _patterns)
register("person_lexicon", _lexicon)
register("member_directory", _directory)
register("spacy_ner", _spacy)


def build_detectors(cfg: ScrubConfig, names: Sequence[str] = ()) -> list[Detector]:
    """The detectors the configuration asks for; fails loudly when an entity has none."""
    detectors = [d for f in _FACTORIES.values() if (d := f(cfg, names)) is not None]
    covered = set().union(*(d.entities for d in detectors)) if detectors else set()
    missing = sorted(set(cfg.entities) - covered)
    if missing:
        raise ScrubError(f"no detector finds {', '.join(missing)}; remove them from the scrub configuration")
    return detectors


def _register_local_rules() -> None:
    """The languages' local rules (national ids, local phones, formats and names): `consentry.scrub.local_rules`."""
    from consentry.scrub.local_rules import LOCAL_FACTORIES

    for name, factory in LOCAL_FACTORIES.items():
        register(name, factory)


_register_local_rules()
