"""Policy as code: the versioned rule set, loaded from a reviewed YAML file.

The names below are imported on first use, so that a module needing one part (the
country codes, or a stored policy rebuilt from its canonical JSON) does not import
the YAML loader too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "RESERVED_COLUMNS": "consentry.policy.loader",
    "check_policy": "consentry.policy.loader",
    "load_policy": "consentry.policy.loader",
    "load_policy_text": "consentry.policy.loader",
    "DatasetSettings": "consentry.policy.models",
    "ObjectionSettings": "consentry.policy.models",
    "PolicyDocument": "consentry.policy.models",
    "PurposeRule": "consentry.policy.models",
    "RegionRule": "consentry.policy.models",
    "VersionSpec": "consentry.policy.models",
    "Policy": "consentry.policy.policy",
    "PolicyVersion": "consentry.policy.policy",
}

__all__ = [
    "RESERVED_COLUMNS",
    "DatasetSettings",
    "ObjectionSettings",
    "Policy",
    "PolicyDocument",
    "PolicyVersion",
    "PurposeRule",
    "RegionRule",
    "VersionSpec",
    "check_policy",
    "load_policy",
    "load_policy_text",
]


def __getattr__(name: str) -> Any:
    """The exported name `name`, importing its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from consentry.policy.loader import RESERVED_COLUMNS, check_policy, load_policy, load_policy_text
    from consentry.policy.models import (
        DatasetSettings,
        ObjectionSettings,
        PolicyDocument,
        PurposeRule,
        RegionRule,
        VersionSpec,
    )
    from consentry.policy.policy import Policy, PolicyVersion
