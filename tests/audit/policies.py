"""Policies with an `audit` block on genai_training, for the audit tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from consentry.policy import Policy, load_policy
from consentry.policy.yaml_reader import YamlDocument, read_yaml

__all__ = ["GENAI", "policy_with_audit"]

GENAI = "genai_training"
REFERENCE_POLICY_DIR = Path(__file__).parents[2] / "examples" / "policies"


def policy_with_audit(root: Path, *audits: dict[str, Any] | None) -> Policy:
    """The reference policy plus one version per entry of `audits` (its genai_training `audit` block), a day apart."""
    read = read_yaml(REFERENCE_POLICY_DIR.joinpath("social-network.yaml").read_text(), "social-network.yaml")
    assert isinstance(read, YamlDocument)
    doc = read.data
    last = doc["versions"][-1]
    for i, block in enumerate(audits):
        purposes = {**last["purposes"], GENAI: {**last["purposes"][GENAI]}}
        if block is not None:
            purposes[GENAI]["audit"] = block
        doc["versions"].append(
            {**last, "version": f"2026-01-0{i + 1}", "published_at": "2025-12-01T00:00:00Z",
             "effective_at": f"2026-01-0{i + 1}T00:00:00Z", "purposes": purposes}
        )  # fmt: skip
    if not (root / "lia").exists():
        shutil.copytree(REFERENCE_POLICY_DIR / "lia", root / "lia")
    path = root / "audit-policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_policy(path)
