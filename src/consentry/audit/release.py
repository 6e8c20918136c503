"""Whether a model version may be released: the thresholds its purposes set, and its latest memorisation audit.

A purpose's `audit` block in the policy (docs/policy.md) says whether a model
trained for it must pass a memorisation audit, and the limits it must stay
under. A model version whose builds serve several purposes takes the strictest
of them: required if any requires it, the lowest limits. The version in effect
at the moment asked decides, so a stored report is judged again against limits
lowered after it ran: a model that passed under older limits and exceeds the
new ones is not releasable until audited again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consentry.audit.report import Thresholds, memorisation_checks
from consentry.errors import NotFoundError
from consentry.policy.models import DEFAULT_MAX_EXPOSURE, DEFAULT_MAX_EXTRACTION_RATE
from consentry.store.audits import AuditRecord
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store
from consentry.timeutil import iso, utcnow

__all__ = ["MEMORISATION", "ReleaseStatus", "release_status", "thresholds_for"]

#: The audit kind a release may require
MEMORISATION = "memorisation"


def thresholds_for(store: Store, model: ModelRecord, at: datetime | None = None) -> Thresholds:
    """The thresholds of a model version's purposes in the policy version in effect at `at` (default now)."""
    purposes = sorted({b.purpose for b in (store.builds.get(build_id) for build_id in model.builds) if b is not None})
    try:
        version = store.policy().version_at(at or utcnow())
    except NotFoundError:
        version = None
    blocks = []
    for purpose in purposes:
        rule = version.spec.purposes.get(purpose) if version else None
        if rule is not None and rule.audit is not None:
            blocks.append(rule.audit)
    return Thresholds(
        required=any(b.required for b in blocks),
        max_exposure=min((b.max_exposure for b in blocks), default=DEFAULT_MAX_EXPOSURE),
        max_extraction_rate=min((b.max_extraction_rate for b in blocks), default=DEFAULT_MAX_EXTRACTION_RATE),
        policy_version=version.version if version else None,
        purposes=tuple(purposes),
    )


@dataclass(frozen=True)
class ReleaseStatus:
    """Whether a model version may be released, and why."""

    model_id: str
    releasable: bool
    audit_required: bool
    reason: str
    audit: AuditRecord | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the verdict, the reason, and the latest memorisation audit (without its report)."""
        return {
            "releasable": self.releasable,
            "audit_required": self.audit_required,
            "reason": self.reason,
            "memorisation_audit": None
            if self.audit is None
            else {
                "audit_id": self.audit.audit_id,
                "created_at": iso(self.audit.created_at),
                "passed": self.audit.passed,
            },
        }


def _judge(model: ModelRecord, thresholds: Thresholds, audit: AuditRecord | None) -> ReleaseStatus:
    def status(ok: bool, reason: str) -> ReleaseStatus:
        return ReleaseStatus(model.model_id, ok, thresholds.required, reason, audit)

    if not thresholds.required:
        return status(True, "no purpose of its builds requires a memorisation audit")
    if audit is None:
        return status(False, "not releasable: a memorisation audit is required and none has run")
    if not audit.passed:
        return status(False, "not releasable: its latest memorisation audit did not pass")
    failed = [c.name for c in memorisation_checks(audit.report["summary"], thresholds) if not c.passed]
    if failed:
        return status(False, f"not releasable: its latest audit exceeds the current limits ({', '.join(failed)})")
    return status(True, "passed its latest memorisation audit")


def release_status(store: Store, models: Sequence[ModelRecord], at: datetime | None = None) -> dict[str, ReleaseStatus]:
    """Each model version's release status (by model id), as of `at` (default now)."""
    latest = store.model_audits.latest([m.model_id for m in models], MEMORISATION)
    return {m.model_id: _judge(m, thresholds_for(store, m, at), latest.get(m.model_id)) for m in models}
