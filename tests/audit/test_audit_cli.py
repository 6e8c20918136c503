"""`consentry audit …` through the CLI runner: exit codes, errors that store nothing, thresholds, the reports.

The scorers are real: an n-gram model trained on the build, and plain callables
defined here (`module:function` scorers, as a user would write them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pipeline.lake import Platform, platform
from typer.testing import CliRunner

from audit.policies import policy_with_audit
from audit.trained import MEMBERS, canary_build, lake, train
from consentry.cli import app
from consentry.cli.audit import FAILED_THRESHOLD
from consentry.pipeline.models import register_model

__all__ = ["platform"]

HERE = "audit.test_audit_cli"


def length_only(texts: Sequence[str]) -> list[float]:
    """A model that learnt nothing but length: every canary and candidate of one format scores the same."""
    return [-float(len(t)) for t in texts]


def not_a_number(texts: Sequence[str]) -> list[float]:
    """A broken model."""
    return [float("nan")] * len(texts)


def _audit(p: Platform, *args: str) -> Any:
    return CliRunner().invoke(app, ["audit", *args], env={"CONSENTRY_DB": p.url})


def test_errors_exit_1_and_store_nothing(platform: Platform) -> None:
    p = platform
    src = lake(p)
    plain, _ = register_model(p.store, "plain", "1", [canary_build(p, src, "plain")])
    planted, _ = register_model(p.store, "lm", "1", [canary_build(p, src, "planted", canaries=3)])
    register_model(p.store, "lm", "2", [canary_build(p, src, "planted2", canaries=3)])
    for args, message in [
        (["--model", "nope@1", "--scorer", f"{HERE}:length_only"], "no model 'nope@1'"),
        (["--model", "lm", "--scorer", f"{HERE}:length_only"], "several versions"),
        (["--model", "plain@1", "--scorer", f"{HERE}:length_only"], "hold no canaries"),
        (["--model", "lm@1", "--scorer", f"{HERE}:not_a_number"], "returned nan"),
        (["--model", "lm@1", "--scorer", f"{HERE}:missing"], "missing"),
        (["--model", "lm@1", "--scorer", "ngram:/nonexistent/model.gz"], "not a file"),
    ]:
        done = _audit(p, "memorisation", *args, "--candidates", "50")
        assert done.exit_code == 1, (args, done.output)
        assert message in done.stderr and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    forget = _audit(p, "forgetting", "--before", "lm@1", "--after", "lm@1", "--scorer", f"{HERE}:length_only")
    assert forget.exit_code == 1 and "same model version" in forget.stderr
    forget = _audit(p, "forgetting", "--before", "lm@1", "--after", "lm@2", "--scorer", f"{HERE}:length_only")
    assert forget.exit_code == 1 and "nothing to test" in forget.stderr
    assert all(p.store.model_audits.for_model(m.model_id) == [] for m in (plain, planted))


def test_a_failed_threshold_exits_3_stores_the_report_and_blocks_release(platform: Platform) -> None:
    p = platform
    src = lake(p)
    p.store.publish(policy_with_audit(p.root, {"required": True, "max_exposure": 12}))
    model, scorer = train(p, "lm", "1", [canary_build(p, src, "v1", canaries=4, canary_repeats=20)], ["v1"])
    done = _audit(p, "memorisation", "--model", "lm@1", "--scorer", scorer, "--candidates", "200",
                  "--out", str(p.root / "report"))  # fmt: skip
    assert done.exit_code == FAILED_THRESHOLD == 3, done.output
    shown = json.loads(done.stdout)
    assert shown["passed"] is False and shown["releasable"] is False and shown["policy_version"] == "2026-01-01"
    assert {c["name"]: c["passed"] for c in shown["checks"]} == {"max_exposure": False, "max_extraction_rate": False}
    assert shown["thresholds"]["max_exposure"] == 12.0 and shown["summary"]["planted"] == 4

    report = json.loads((p.root / "report" / "report.json").read_text())
    assert report["schema"] == "consentry.audit/1" and report["kind"] == "memorisation"
    assert set(report) >= {"model", "created_at", "scorer", "candidates", "space_size", "thresholds", "checks",
                           "passed", "summary", "canaries", "controls", "extraction"}  # fmt: skip
    assert set(report["canaries"][0]) >= {"canary_id", "member_id", "repeats", "exposure", "p_value"}
    # members' e-mails, seen in training, complete their prompts; no member outside the build to compare with
    email = report["extraction"]["by_entity"]["EMAIL"]
    assert email["members"]["probes"] == len(MEMBERS) and email["members"]["rate"] > 0.5
    assert email["non_members"]["probes"] == 0
    texts = [c.text for c in p.store.canaries.canaries_for_builds(model.builds)]
    raw = (p.root / "report" / "report.json").read_text()
    assert not any(t in raw for t in texts)  # canaries are named by id, never by their text

    html = (p.root / "report" / "report.html").read_text()
    assert (
        html.startswith("<!doctype html>")
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert html.count('class="bar planted"') >= 1 and 'class="bar control"' in html and 'class="limit"' in html
    assert "EMAIL" in html and not any(t in html for t in texts)

    listed = json.loads(_audit(p, "list", "--model", "lm@1").stdout)
    assert [a["audit_id"] for a in listed] == [shown["audit_id"]] and "report" not in listed[0]
    again = _audit(p, "show", shown["audit_id"], "--html", str(p.root / "again.html"))
    assert again.exit_code == 0 and (p.root / "again.html").read_text() == html
    assert _audit(p, "show", "au-nope").exit_code == 1

    models = CliRunner().invoke(app, ["models", "show", "lm@1"], env={"CONSENTRY_DB": p.url})
    assert json.loads(models.stdout)[0]["releasable"] is False

    # a model that memorised nothing passes, and the version becomes releasable
    fine = _audit(p, "memorisation", "--model", "lm@1", "--scorer", f"{HERE}:length_only", "--candidates", "50")
    assert fine.exit_code == 0, fine.output
    assert json.loads(fine.stdout)["releasable"] is True
    assert json.loads(_audit(p, "list", "--model", "lm@1").stdout)[0]["passed"] is True
