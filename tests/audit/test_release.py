"""Thresholds and release: the policy's `audit` block, stored audits, and whether a model version is releasable.

Real builds and a registered model on the seeded platform, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pipeline.lake import Platform, any_platform, lake_records, write_parquet
from pipeline.test_build import _build
from pipeline.test_models import _run

from audit.policies import GENAI, policy_with_audit
from consentry.audit.release import release_status, thresholds_for
from consentry.audit.report import Thresholds, memorisation_checks
from consentry.errors import NotFoundError, PolicyValidationError
from consentry.pipeline.models import register_model
from consentry.policy import Policy
from consentry.store.audits import AuditRecord, audit_id_for
from consentry.timeutil import utcnow

__all__ = ["any_platform"]


def test_the_audit_block_is_optional_with_defaults_and_checked(tmp_path: Path, reference_policy: Policy) -> None:
    policy = policy_with_audit(tmp_path, None, {"required": True})
    without, with_block = policy.versions[-2], policy.versions[-1]
    assert without.spec.purposes[GENAI].audit is None and '"audit"' not in without.canonical_json
    block = with_block.spec.purposes[GENAI].audit
    assert block is not None and (block.required, block.max_exposure, block.max_extraction_rate) == (True, 10.0, 0.2)
    # the versions written before the block keep their digests
    assert [v.sha256 for v in policy.versions[:3]] == [v.sha256 for v in reference_policy.versions]
    for bad in ({"max_extraction_rate": 1.5}, {"required": "sometimes"}, {"max_exposure": 3, "colour": "red"}):
        with pytest.raises(PolicyValidationError, match="audit"):
            policy_with_audit(tmp_path / "bad", bad)


def _audit(model_id: str, passed: bool, exposure: float, rate: float, minutes: int) -> AuditRecord:
    at = utcnow() - timedelta(minutes=minutes)
    report = {"summary": {"max_exposure": exposure, "max_extraction_rate": rate}, "passed": passed}
    return AuditRecord(audit_id_for(model_id, "memorisation", at, str(report)), model_id, "memorisation", at,
                       "2026-01-01", {"max_exposure": 10.0}, passed, report)  # fmt: skip


def test_a_required_audit_decides_release_and_lowered_limits_judge_stored_reports(any_platform: Platform) -> None:
    p = any_platform
    src = write_parquet(p.root / "lake.parquet", lake_records())
    model, _ = register_model(p.store, "ranker", "1", [_build(p, [src]).build_id])  # type: ignore[attr-defined]
    (status,) = release_status(p.store, [model]).values()
    assert status.releasable and not status.audit_required and status.audit is None

    p.store.publish(policy_with_audit(p.root, {"required": True, "max_exposure": 12}))
    t = thresholds_for(p.store, model)
    assert (t.required, t.max_exposure, t.max_extraction_rate, t.policy_version, t.purposes) == (
        True, 12.0, 0.2, "2026-01-01", (GENAI,)
    )  # fmt: skip
    status = release_status(p.store, [model])[model.model_id]
    assert not status.releasable and "none has run" in status.reason

    failed = p.store.model_audits.add(_audit(model.model_id, False, 20.0, 0.0, minutes=5))
    status = release_status(p.store, [model])[model.model_id]
    assert not status.releasable and status.audit == failed and "did not pass" in status.reason
    passed = p.store.model_audits.add(_audit(model.model_id, True, 11.0, 0.01, minutes=1))
    status = release_status(p.store, [model])[model.model_id]
    assert status.releasable and status.to_dict()["memorisation_audit"]["audit_id"] == passed.audit_id
    assert [a.audit_id for a in p.store.model_audits.for_model(model.model_id)] == [passed.audit_id, failed.audit_id]
    assert p.store.model_audits.get(passed.audit_id) == passed

    # a later version lowers the limit below what the stored report measured: not releasable until audited again
    p.store.publish(
        policy_with_audit(p.root, {"required": True, "max_exposure": 12}, {"required": True, "max_exposure": 8})
    )
    status = release_status(p.store, [model])[model.model_id]
    assert not status.releasable and "max_exposure" in status.reason

    with pytest.raises(NotFoundError, match="models list"):
        p.store.model_audits.add(_audit("m-nope", True, 1.0, 0.0, minutes=0))
    if p.url.startswith("sqlite"):  # `models show` prints the verdict
        (shown,) = json.loads(_run(p, "models", "show", "ranker@1").stdout)
        assert shown["releasable"] is False and shown["release"]["memorisation_audit"]["audit_id"] == passed.audit_id


def test_checks_compare_each_measure_with_its_limit() -> None:
    limits = Thresholds(True, 10.0, 0.05, "v", (GENAI,))
    checks = memorisation_checks({"max_exposure": 10.0, "max_extraction_rate": 0.2}, limits)
    assert [(c.name, c.passed) for c in checks] == [("max_exposure", True), ("max_extraction_rate", False)]
