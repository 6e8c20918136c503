"""The memorisation audit: how exposed a model's planted canaries are, and what an extraction probe recovers.

For a model version, every canary planted in its builds is scored by the
model together with the builds' never-planted controls and `candidates` random
candidates of the same format; each canary's exposure and p-value come from
its rank among the candidates (`consentry.audit.canaries`). The extraction
probe (`consentry.audit.extraction`) asks the model to complete scrubbed
values of members in the builds, against members not in them. The report is
checked against the thresholds of the builds' purposes and stored against the
model version; nothing is stored when the audit cannot run.
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from consentry.audit.canaries import FORMAT, measure
from consentry.audit.release import MEMORISATION, release_status, thresholds_for
from consentry.audit.report import REPORT_SCHEMA, Thresholds, memorisation_checks, model_summary
from consentry.errors import InputError, ModelError, NotFoundError
from consentry.store.audits import AuditRecord, audit_id_for
from consentry.store.canaries import CanaryRecord
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store
from consentry.timeutil import iso, utcnow

__all__ = [
    "DEFAULT_CANDIDATES",
    "AuditOutcome",
    "Measured",
    "audit_memorisation",
    "measure_canaries",
    "memorisation_report",
    "one_model",
    "shown_scorer",
]

#: Random candidates each canary is ranked against, as in the paper's sampling estimate
DEFAULT_CANDIDATES = 10_000


def one_model(store: Store, ref: str) -> ModelRecord:
    """The one model version `ref` names (a model id or NAME@VERSION; a bare NAME if it has one version)."""
    known = store.models.all()
    found = [m for m in known if ref in (m.model_id, f"{m.name}@{m.version}")] or [m for m in known if m.name == ref]
    if not found:
        raise NotFoundError(f"no model {ref!r}; `consentry models list` shows the registered models")
    if len(found) > 1:
        versions = ", ".join(f"{m.name}@{m.version}" for m in found)
        raise InputError(f"model {ref!r} has several versions ({versions}); name one as NAME@VERSION")
    if not found[0].builds:
        raise ModelError(f"model {ref!r} has no registered builds; register the builds it was trained on")
    return found[0]


def shown_scorer(spec: str) -> str:
    """The scorer spec as reports show it: an URL without credentials, query or fragment."""
    spec = spec.strip()
    if spec.startswith(("http://", "https://")):
        parts = urlsplit(spec)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return spec


@dataclass(frozen=True)
class Measured:
    """A canary's exposure under one model: its id, member, repeats, and the measurement."""

    canary: CanaryRecord
    score: float
    exposure: float
    exposure_sampled: float
    exposure_fit: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ids and numbers, never the canary's text."""
        c = self.canary
        return {
            "canary_id": c.canary_id,
            "build_id": c.build_id,
            "member_id": c.member_id,
            "shard": c.shard,
            "repeats": c.repeats,
            "log_likelihood": self.score,
            "exposure": self.exposure,
            "exposure_sampled": self.exposure_sampled,
            "exposure_fit": self.exposure_fit,
            "p_value": self.p_value,
        }


def _distinct(canaries: Sequence[CanaryRecord]) -> list[CanaryRecord]:
    """One canary per text (a canary replanted by a rebuild is the same canary)."""
    seen: dict[str, CanaryRecord] = {}
    for c in canaries:
        seen.setdefault(c.text, c)
    return list(seen.values())


def measure_canaries(
    scorer: Any,
    canaries: Sequence[CanaryRecord],
    *,
    candidates: int,
    batch_size: int,
    rng: random.Random,
    progress: bool = False,
) -> list[Measured]:
    """Score `canaries` and `candidates` random candidates of their format in one pass; each canary's exposure.

    The exposure is the sampled estimate, or the skew-normal fit where the
    canary beats every candidate (the paper's estimate past what sampling resolves).
    """
    from consentry.audit.scorers import score_texts

    if candidates < 1:
        raise InputError(f"--candidates must be at least 1, not {candidates}")
    values = [v for v in (FORMAT.parse(c.text) for c in canaries) if v is not None]
    drawn = [FORMAT.render(v) for v in FORMAT.sample_candidates(rng, candidates, exclude=values)]
    texts = [c.text for c in canaries] + drawn
    scores = score_texts(scorer, texts, batch_size=batch_size, progress=progress, label="scoring canaries")
    candidate_scores = scores[len(canaries) :]
    out = []
    for c, s in zip(canaries, scores, strict=False):
        m = measure(s, candidate_scores, FORMAT.space_size)
        best = m.exposure_fit if m.at_least_as_likely == 0 else m.exposure
        out.append(Measured(c, s, best, m.exposure, m.exposure_fit, m.p_value))
    return out


@dataclass(frozen=True)
class AuditOutcome:
    """A stored audit and whether the model version is releasable after it."""

    record: AuditRecord
    releasable: bool

    def to_dict(self) -> dict[str, Any]:
        """The stored record (with its report) and the release verdict."""
        return {**self.record.to_dict(), "releasable": self.releasable}


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _summary(planted: list[Measured], controls: list[Measured], extraction: dict[str, Any]) -> dict[str, Any]:
    by_repeats: dict[int, list[float]] = {}
    for m in planted:
        by_repeats.setdefault(m.canary.repeats, []).append(m.exposure)
    rates = [
        float(cells["members"]["rate"])
        for cells in extraction.get("by_entity", {}).values()
        if cells["members"]["rate"] is not None
    ]
    return {
        "planted": len(planted),
        "controls": len(controls),
        "max_exposure": max(m.exposure for m in planted),
        "median_exposure": _median([m.exposure for m in planted]),
        "control_median_exposure": _median([m.exposure for m in controls]),
        "significant_at_0_01": sum(1 for m in planted if m.p_value <= 0.01),
        "median_exposure_by_repeats": {str(r): _median(v) for r, v in sorted(by_repeats.items())},
        "max_extraction_rate": max(rates, default=0.0),
    }


def _extraction(
    store: Store, model: ModelRecord, scorer: Any, *, batch_size: int, rng: random.Random, progress: bool
) -> dict[str, Any]:
    """The extraction probe over the builds' source texts: rates by entity type, members against the baseline."""
    from consentry.audit.extraction import probe_extraction
    from consentry.audit.probe_texts import probe_texts

    inside, outside = probe_texts(store, model, rng=rng)
    result = probe_extraction(scorer, inside, outside, rng=rng, batch_size=batch_size, progress=progress)
    by_entity = {
        entity: {"members": _cell(rate), "non_members": _cell(result.baseline.get(entity))}
        for entity, rate in result.members.items()
    }
    return {**result.to_dict(), "by_entity": by_entity}


def _cell(rate: Any) -> dict[str, Any]:
    if rate is None:
        return {"probes": 0, "hits": 0, "rate": None, "chance": None}
    return {
        "probes": rate.probes,
        "hits": rate.hits,
        "rate": rate.rate,
        "top_k_rate": rate.top_k_rate,
        "chance": rate.chance,
    }


def memorisation_report(
    model: ModelRecord,
    scorer_spec: str,
    planted: list[Measured],
    controls: list[Measured],
    extraction: dict[str, Any],
    thresholds: Thresholds,
    *,
    candidates: int,
    now: datetime,
) -> dict[str, Any]:
    """The JSON report of a memorisation audit (docs/audit.md#the-report)."""
    summary = _summary(planted, controls, extraction)
    checks = memorisation_checks(summary, thresholds)
    return {
        "schema": REPORT_SCHEMA,
        "kind": MEMORISATION,
        "model": model_summary(model),
        "created_at": iso(now),
        "scorer": shown_scorer(scorer_spec),
        "candidates": candidates,
        "space_size": FORMAT.space_size,
        "thresholds": thresholds.to_dict(),
        "checks": [c.to_dict() for c in checks],
        "passed": all(c.passed for c in checks),
        "summary": summary,
        "canaries": [m.to_dict() for m in planted],
        "controls": [m.to_dict() for m in controls],
        "extraction": extraction,
    }


def audit_memorisation(
    store: Store,
    model_ref: str,
    scorer_spec: str,
    *,
    candidates: int = DEFAULT_CANDIDATES,
    batch_size: int = 64,
    seed: int | None = None,
    progress: bool = False,
    now: datetime | None = None,
) -> AuditOutcome:
    """Run the memorisation audit of a model version, store its report, and say whether it may be released.

    ModelError when the model has no builds or they hold no canaries; ScorerError
    when the scorer cannot be loaded or gives unusable scores. Nothing is stored then.
    """
    from consentry.audit.scorers import load_scorer

    model = one_model(store, model_ref)
    found = store.canaries.canaries_for_builds(model.builds)
    planted = _distinct([c for c in found if c.planted])
    if not planted:
        raise ModelError(
            f"the builds of model {model_ref!r} hold no canaries; build with `consentry build … --canaries N`, "
            "train on that build and register the model with it"
        )
    controls = [c for c in _distinct([c for c in found if not c.planted]) if c.text not in {p.text for p in planted}]
    scorer = load_scorer(scorer_spec)
    rng = random.Random(secrets.randbits(64) if seed is None else seed)
    measured = measure_canaries(
        scorer, planted + controls, candidates=candidates, batch_size=batch_size, rng=rng, progress=progress
    )
    extraction = _extraction(store, model, scorer, batch_size=batch_size, rng=rng, progress=progress)
    now = now or utcnow()
    thresholds = thresholds_for(store, model, now)
    planted_m, controls_m = measured[: len(planted)], measured[len(planted) :]
    report = memorisation_report(
        model, scorer_spec, planted_m, controls_m, extraction, thresholds, candidates=candidates, now=now
    )
    record = AuditRecord(
        audit_id=audit_id_for(model.model_id, MEMORISATION, now, json.dumps(report, sort_keys=True)),
        model_id=model.model_id,
        kind=MEMORISATION,
        created_at=now,
        policy_version=thresholds.policy_version,
        thresholds=thresholds.to_dict(),
        passed=bool(report["passed"]),
        report=report,
    )
    store.model_audits.add(record)
    return AuditOutcome(record, release_status(store, [model], now)[model.model_id].releasable)
