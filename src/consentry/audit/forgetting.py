"""The forgetting audit: did a retrained model forget the members whose obligations it met?

Model version M1 was trained on builds holding canaries of members who have
since taken their data back; M2, trained later, left them out (it met their
forgetting obligations, `consentry.pipeline.obligations`). Under M2, those
members' canaries should be no more exposed than the controls, canaries of the
same format never planted in any build. A one-sided Mann–Whitney U test asks
whether they are more exposed; the retained members' canaries (still in M2's
builds), or the withdrawn canaries under M1, show that the audit could have
seen memorisation at all. The verdict is "forgotten" only when both hold:
no evidence of memorisation where it was withdrawn, and evidence where it
was not. Otherwise it is "not shown": nothing is claimed.
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.audit.canaries import FORMAT
from consentry.audit.memorisation import AuditOutcome, Measured, measure_canaries, one_model, shown_scorer
from consentry.audit.release import release_status
from consentry.audit.report import REPORT_SCHEMA, model_summary
from consentry.errors import InputError, ModelError
from consentry.store.audits import AuditRecord, audit_id_for
from consentry.store.canaries import CanaryRecord
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store
from consentry.timeutil import iso, utcnow

__all__ = ["DEFAULT_ALPHA", "FORGETTING", "FORGOTTEN", "NOT_SHOWN", "audit_forgetting", "compare"]

FORGETTING = "forgetting"
FORGOTTEN = "forgotten"
NOT_SHOWN = "not shown"
#: The significance level of the tests
DEFAULT_ALPHA = 0.05
_TEST = "Mann-Whitney U, one-sided (exposure greater than the controls')"


def compare(exposures: Sequence[float], controls: Sequence[float]) -> dict[str, float] | None:
    """The one-sided Mann–Whitney U test of `exposures` above `controls`: statistic and p-value (None if empty)."""
    from scipy.stats import mannwhitneyu

    if not exposures or not controls:
        return None
    result = mannwhitneyu(list(exposures), list(controls), alternative="greater", method="auto")
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue)}


def _members(store: Store, model: ModelRecord) -> set[str]:
    out: set[str] = set()
    for build_id in model.builds:
        out.update(str(m) for m in store.builds.members(build_id).column("member_id").to_pylist())
    return out


def _met_members(store: Store, before: ModelRecord, after: ModelRecord) -> set[str]:
    """Members of obligations against `before` whom `after` left out: member by member, as obligations are met."""
    from consentry.pipeline.obligations import obligations

    owed = {m for o in obligations(store, model=before.model_id) for m in o.members}
    return owed - _members(store, after)


def _group(measured: Sequence[Measured]) -> dict[str, Any]:
    values = [m.exposure for m in measured]
    return {
        "count": len(values),
        "median_exposure": float(statistics.median(values)) if values else 0.0,
        "exposures": values,
        "canaries": [m.canary.canary_id for m in measured],
    }


def _verdict(tests: dict[str, dict[str, float] | None], alpha: float) -> str:
    withdrawn = tests["withdrawn_after_vs_controls"]
    power = [t for k, t in tests.items() if k != "withdrawn_after_vs_controls" and t is not None]
    if withdrawn is None or withdrawn["p_value"] < alpha:
        return NOT_SHOWN
    return FORGOTTEN if any(t["p_value"] < alpha for t in power) else NOT_SHOWN


def _canaries(store: Store, before: ModelRecord, after: ModelRecord) -> tuple[list[CanaryRecord], ...]:
    """(withdrawn, retained, controls): the planted canaries of `before`'s builds, and every control."""
    met = _met_members(store, before, after)
    kept = _members(store, after)
    found = store.canaries.canaries_for_builds(list(before.builds) + list(after.builds))
    planted: dict[str, CanaryRecord] = {}
    for c in found:
        if c.planted and c.build_id in before.builds:
            planted.setdefault(c.text, c)
    withdrawn = [c for c in planted.values() if c.member_id in met]
    if not withdrawn:
        raise ModelError(
            f"no canaries of members whose obligations {after.name}@{after.version} met were planted in the builds "
            f"of {before.name}@{before.version}; nothing to test"
        )
    retained = [c for c in planted.values() if c.member_id in kept]
    controls: dict[str, CanaryRecord] = {}
    for c in found:
        if not c.planted and c.text not in planted:
            controls.setdefault(c.text, c)
    if not controls:
        raise ModelError("the builds hold no control canaries to compare with; rebuild them with --canaries N")
    return withdrawn, retained, list(controls.values())


def _measure(
    scorer_spec: str,
    groups: dict[str, list[CanaryRecord]],
    *,
    candidates: int,
    batch_size: int,
    seed: int | None,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Each group of canaries measured under one scorer, against one sample of candidates."""
    from consentry.audit.scorers import load_scorer

    rng = random.Random(secrets.randbits(64) if seed is None else seed)
    flat = [c for group in groups.values() for c in group]
    measured = measure_canaries(
        load_scorer(scorer_spec), flat, candidates=candidates, batch_size=batch_size, rng=rng, progress=progress
    )
    out, at = {}, 0
    for name, group in groups.items():
        out[name] = _group(measured[at : at + len(group)])
        at += len(group)
    return out


def _report(
    before: ModelRecord, after: ModelRecord, groups: dict[str, Any], alpha: float, now: datetime, **scoring: Any
) -> dict[str, Any]:
    exp = {k: g["exposures"] for k, g in groups.items()}
    tests = {
        "withdrawn_after_vs_controls": compare(exp["withdrawn_after"], exp["controls"]),
        "retained_after_vs_controls": compare(exp["retained_after"], exp["controls"]),
        "withdrawn_before_vs_controls": compare(exp["withdrawn_before"], exp["controls_before"])
        if "withdrawn_before" in groups
        else None,
    }
    verdict = _verdict(tests, alpha)
    return {
        "schema": REPORT_SCHEMA,
        "kind": FORGETTING,
        "model": model_summary(after),
        "before": {"model_id": before.model_id, "name": before.name, "version": before.version},
        "created_at": iso(now),
        **scoring,
        "space_size": FORMAT.space_size,
        "test": _TEST,
        "alpha": alpha,
        "groups": groups,
        "tests": tests,
        "verdict": verdict,
        "checks": [
            {"name": "forgotten", "value": float(verdict != FORGOTTEN), "limit": 0.0, "passed": verdict == FORGOTTEN}
        ],
        "passed": verdict == FORGOTTEN,
        "thresholds": {"alpha": alpha, "policy_version": None},
    }


def audit_forgetting(
    store: Store,
    before_ref: str,
    after_ref: str,
    scorer_spec: str,
    *,
    before_scorer_spec: str | None = None,
    candidates: int = 10_000,
    batch_size: int = 64,
    alpha: float = DEFAULT_ALPHA,
    seed: int | None = None,
    progress: bool = False,
    now: datetime | None = None,
) -> AuditOutcome:
    """Test whether `after` forgot the members whose obligations it met; store the report against `after`.

    `scorer_spec` scores under `after`; `before_scorer_spec`, if given, scores
    the withdrawn canaries under `before` too. ModelError when there is nothing
    to test; ScorerError when a scorer fails. Nothing is stored then.
    """
    if not 0 < alpha < 1:
        raise InputError(f"--alpha must be between 0 and 1, not {alpha}")
    if candidates < 1:
        raise InputError(f"--candidates must be at least 1, not {candidates}")
    before, after = one_model(store, before_ref), one_model(store, after_ref)
    if before.model_id == after.model_id:
        raise InputError("--before and --after name the same model version; name the retrained one as --after")
    withdrawn, retained, controls = _canaries(store, before, after)
    opts: dict[str, Any] = {"candidates": candidates, "batch_size": batch_size, "seed": seed, "progress": progress}
    groups = _measure(
        scorer_spec, {"withdrawn_after": withdrawn, "retained_after": retained, "controls": controls}, **opts
    )
    if before_scorer_spec:
        under = _measure(before_scorer_spec, {"withdrawn_before": withdrawn, "controls_before": controls}, **opts)
        groups.update(under)
    now = now or utcnow()
    shown_before = shown_scorer(before_scorer_spec) if before_scorer_spec else None
    report = _report(
        before,
        after,
        groups,
        alpha,
        now,
        scorer=shown_scorer(scorer_spec),
        before_scorer=shown_before,
        candidates=candidates,
    )
    record = AuditRecord(
        audit_id=audit_id_for(after.model_id, FORGETTING, now, json.dumps(report, sort_keys=True)),
        model_id=after.model_id,
        kind=FORGETTING,
        created_at=now,
        policy_version=None,
        thresholds={"alpha": alpha},
        passed=bool(report["passed"]),
        report=report,
        baseline_model_id=before.model_id,
    )
    store.model_audits.add(record)
    return AuditOutcome(record, release_status(store, [after], now)[after.model_id].releasable)
