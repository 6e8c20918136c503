"""The audits end to end, on real builds with canaries planted and real n-gram models trained in the test.

- exposure rises with the canaries' repeats (1, 10, 100);
- after a withdrawal, a rebuild and retraining on it, the withdrawn members' canaries fall to the
  exposure of canaries never trained on, while the other members' canaries keep theirs.
"""

from __future__ import annotations

import statistics

from pipeline.lake import GENAI, KEY, Platform, platform

from audit.trained import MEMBERS, canary_build, lake, train
from consentry.audit.forgetting import FORGOTTEN, NOT_SHOWN, audit_forgetting
from consentry.audit.memorisation import audit_memorisation
from consentry.pipeline import rebuild
from consentry.store.protocol import NewEvent
from consentry.vocab import Choice, Source

__all__ = ["platform"]


def test_exposure_rises_with_repeats(platform: Platform) -> None:
    p = platform
    src = lake(p)
    outs = {r: f"r{r}" for r in (1, 10, 100)}
    builds = [canary_build(p, src, out, canaries=4, canary_repeats=r) for r, out in outs.items()]
    # a trigram model: it memorises gradually enough that 1 and 10 repeats stay below log2 |R| (26.6 bits)
    model, scorer = train(p, "lm", "1", builds, list(outs.values()), order=3)
    outcome = audit_memorisation(p.store, "lm@1", scorer, candidates=200, seed=1)
    summary = outcome.record.report["summary"]
    by_repeats = summary["median_exposure_by_repeats"]
    assert summary["planted"] == 12 and summary["controls"] >= 12
    assert summary["control_median_exposure"] < 3.0 < by_repeats["1"] < by_repeats["10"] <= by_repeats["100"]
    likelihood: dict[int, list[float]] = {}
    for c in outcome.record.report["canaries"]:
        likelihood.setdefault(c["repeats"], []).append(c["log_likelihood"])
    medians = [statistics.median(likelihood[r]) for r in (1, 10, 100)]
    assert medians == sorted(medians) and len(set(medians)) == 3  # where exposure saturates, likelihood still rises
    # past the default limit of 10 bits: not passed, yet releasable, as the reference policy requires no audit
    assert summary["max_exposure"] > 10 and not outcome.record.passed and outcome.releasable
    assert p.store.model_audits.for_model(model.model_id) == [outcome.record]


def test_a_retrained_model_forgets_the_withdrawn_members_and_keeps_the_others(platform: Platform) -> None:
    p = platform
    src = lake(p)
    first = canary_build(p, src, "v1", canaries=len(MEMBERS), canary_repeats=20)
    m1, before = train(p, "lm", "1", [first], ["v1"])
    withdrawn = MEMBERS[:8]
    for member in withdrawn:
        p.store.record(NewEvent(member, GENAI, Choice.DENY, None, Source.SETTINGS))
    second = rebuild(p.store, first, p.root / "v2", key=KEY).build_id
    m2, after = train(p, "lm", "2", [second], ["v2"])

    # α = 1e-4: 8 canaries never trained on reach it against 24 controls by chance once in 10,000 runs
    opts = {"alpha": 1e-4, "candidates": 200, "seed": 2}
    outcome = audit_forgetting(p.store, "lm@1", "lm@2", after, before_scorer_spec=before, **opts)  # type: ignore[arg-type]
    report = outcome.record.report
    groups, tests = report["groups"], report["tests"]
    assert groups["withdrawn_after"]["count"] == 8 and groups["retained_after"]["count"] == len(MEMBERS) - 8
    # under M1 the withdrawn canaries were exposed; under M2 they sit with the controls, the others keep theirs
    assert groups["withdrawn_before"]["median_exposure"] > 10 > groups["withdrawn_after"]["median_exposure"]
    assert groups["retained_after"]["median_exposure"] > 10
    assert tests["withdrawn_after_vs_controls"]["p_value"] >= 1e-4 > tests["retained_after_vs_controls"]["p_value"]
    assert report["verdict"] == FORGOTTEN and outcome.record.passed
    assert outcome.record.model_id == m2.model_id and outcome.record.baseline_model_id == m1.model_id

    # a version registered as retrained whose weights still are version 1's: forgetting is not shown
    unchanged = audit_forgetting(p.store, "lm@1", "lm@2", before, **opts)  # type: ignore[arg-type]
    assert unchanged.record.report["verdict"] == NOT_SHOWN and not unchanged.record.passed
