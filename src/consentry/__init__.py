"""Consentry: consent-aware training data, disclosed in advance, scrubbed, and provable.

The library's public surface, stated once (imported lazily so the command line starts fast):

    policy    load_policy, check_policy, Policy, PolicyVersion
    store     open_store, Store, Member, NewEvent, ConsentEvent, ObjectionCase
    decide    decide_for, is_allowed, Decision, ConsentFacts, RecordFacts
    builds    build, BuildResult, list_builds, builds_for_member, stale_builds, rebuild
    scrub     Scrubber, ScrubConfig, EntityType
    signals   reservation_for, Reservation, reservation_headers, SignalKind
    vocab     ReasonCode, Choice, Source, Mode, Control, LegalBasis, Visibility, CaseStatus
    errors    ConsentryError and its tree (see consentry.errors)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Settings": "consentry.config",
    "load_policy": "consentry.policy",
    "check_policy": "consentry.policy",
    "Policy": "consentry.policy",
    "PolicyVersion": "consentry.policy",
    "open_store": "consentry.store",
    "Store": "consentry.store",
    "Member": "consentry.store",
    "NewEvent": "consentry.store",
    "ConsentEvent": "consentry.store",
    "ObjectionCase": "consentry.store",
    "decide_for": "consentry.decide",
    "is_allowed": "consentry.decide",
    "Decision": "consentry.decide",
    "ConsentFacts": "consentry.decide",
    "RecordFacts": "consentry.decide",
    "build": "consentry.pipeline",
    "BuildResult": "consentry.pipeline",
    "list_builds": "consentry.pipeline",
    "builds_for_member": "consentry.pipeline",
    "stale_builds": "consentry.pipeline",
    "rebuild": "consentry.pipeline",
    "Scrubber": "consentry.scrub",
    "ScrubConfig": "consentry.scrub",
    "EntityType": "consentry.scrub",
    "reservation_for": "consentry.signals.reservation",
    "Reservation": "consentry.signals.reservation",
    "reservation_headers": "consentry.signals.headers",
    "SignalKind": "consentry.vocab",
    "ReasonCode": "consentry.vocab",
    "Choice": "consentry.vocab",
    "Source": "consentry.vocab",
    "Mode": "consentry.vocab",
    "Control": "consentry.vocab",
    "LegalBasis": "consentry.vocab",
    "Visibility": "consentry.vocab",
    "CaseStatus": "consentry.vocab",
    "ConsentryError": "consentry.errors",
    "InputError": "consentry.errors",
    "PolicyValidationError": "consentry.errors",
    "NotFoundError": "consentry.errors",
    "BuildError": "consentry.errors",
}

__all__ = [
    "BuildError",
    "BuildResult",
    "CaseStatus",
    "Choice",
    "ConsentEvent",
    "ConsentFacts",
    "ConsentryError",
    "Control",
    "Decision",
    "EntityType",
    "InputError",
    "LegalBasis",
    "Member",
    "Mode",
    "NewEvent",
    "NotFoundError",
    "ObjectionCase",
    "Policy",
    "PolicyValidationError",
    "PolicyVersion",
    "ReasonCode",
    "RecordFacts",
    "Reservation",
    "ScrubConfig",
    "Scrubber",
    "Settings",
    "SignalKind",
    "Source",
    "Store",
    "Visibility",
    "__version__",
    "build",
    "builds_for_member",
    "check_policy",
    "decide_for",
    "is_allowed",
    "list_builds",
    "load_policy",
    "open_store",
    "rebuild",
    "reservation_for",
    "reservation_headers",
    "stale_builds",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'consentry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from consentry.config import Settings
    from consentry.decide import ConsentFacts, Decision, RecordFacts, decide_for, is_allowed
    from consentry.errors import BuildError, ConsentryError, InputError, NotFoundError, PolicyValidationError
    from consentry.pipeline import (  # type: ignore[no-redef]
        BuildResult,
        build,
        builds_for_member,
        list_builds,
        rebuild,
        stale_builds,
    )
    from consentry.policy import Policy, PolicyVersion, check_policy, load_policy
    from consentry.scrub import EntityType, Scrubber, ScrubConfig
    from consentry.signals.headers import reservation_headers
    from consentry.signals.reservation import Reservation, reservation_for
    from consentry.store import ConsentEvent, Member, NewEvent, ObjectionCase, Store, open_store
    from consentry.vocab import (
        CaseStatus,
        Choice,
        Control,
        LegalBasis,
        Mode,
        ReasonCode,
        SignalKind,
        Source,
        Visibility,
    )
