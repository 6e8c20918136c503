"""Policy as code: the versioned rule set, loaded from a reviewed YAML file."""

from consentry.policy.loader import RESERVED_COLUMNS, check_policy, load_policy, load_policy_text
from consentry.policy.models import (
    ObjectionSettings,
    PolicyDocument,
    PurposeRule,
    RegionRule,
    VersionSpec,
)
from consentry.policy.policy import Policy, PolicyVersion

__all__ = [
    "RESERVED_COLUMNS",
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
