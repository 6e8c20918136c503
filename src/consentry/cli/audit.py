"""`consentry audit memorisation|forgetting|list|show`: parse → one library call → render JSON.

Exit codes: 0 the audit ran and passed; 3 it ran, its report is stored, and it
did not pass (a threshold exceeded, or forgetting not shown); 1 it could not
run (nothing stored); 2 a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from consentry.cli._common import fail, handle_errors, open_store, print_json

if TYPE_CHECKING:
    from consentry.audit.memorisation import AuditOutcome

__all__ = ["FAILED_THRESHOLD", "app"]

#: The exit code of an audit that ran, was stored, and did not pass
FAILED_THRESHOLD = 3

app = typer.Typer(
    help="Audit trained models: memorisation of planted canaries and members' data, and forgetting.",
    no_args_is_help=True,
)

_SCORER_HELP = "How to score texts under the model: module:function, hf:DIR, ngram:FILE or an http(s):// URL."


def _write(out: Path | None, report: dict[str, Any]) -> None:
    """The report as `report.json` and `report.html` in `out` (created if missing)."""
    if out is None:
        return
    import json

    from consentry.audit.report import html_report

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.html").write_text(html_report(report), encoding="utf-8")


def _finish(outcome: AuditOutcome, out: Path | None) -> None:
    record = outcome.record
    _write(out, record.report)
    shown = record.to_dict(report=False) | {"releasable": outcome.releasable, "checks": record.report["checks"]}
    for key in ("summary", "verdict", "tests"):
        if key in record.report:
            shown[key] = record.report[key]
    print_json(shown)
    if not record.passed:
        raise typer.Exit(FAILED_THRESHOLD)


@app.command("memorisation")
@handle_errors
def memorisation_command(
    model: str = typer.Option(..., "--model", help="The model version: an id or NAME@VERSION."),
    scorer: str = typer.Option(..., "--scorer", help=_SCORER_HELP),
    candidates: int = typer.Option(10_000, "--candidates", min=1, help="Random candidates each canary ranks against."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Texts per call to the scorer."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the candidate sample (default: random)."),
    out: Path | None = typer.Option(None, "--out", help="Also write report.json and report.html into this directory."),
) -> None:
    """Exposure of every canary planted in the model's builds, and the extraction probe; stores the report."""
    from consentry.audit.memorisation import audit_memorisation

    outcome = audit_memorisation(
        open_store(access="write"),
        model,
        scorer,
        candidates=candidates,
        batch_size=batch_size,
        seed=seed,
        progress=sys.stderr.isatty(),
    )
    _finish(outcome, out)


@app.command("forgetting")
@handle_errors
def forgetting_command(
    before: str = typer.Option(..., "--before", help="The model version trained with the members' data."),
    after: str = typer.Option(..., "--after", help="The retrained version that met their obligations."),
    scorer: str = typer.Option(..., "--scorer", help=_SCORER_HELP + " Scores under --after."),
    before_scorer: str | None = typer.Option(None, "--before-scorer", help="Also score under --before (same forms)."),
    candidates: int = typer.Option(10_000, "--candidates", min=1, help="Random candidates each canary ranks against."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Texts per call to the scorer."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the tests."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the candidate sample (default: random)."),
    out: Path | None = typer.Option(None, "--out", help="Also write report.json and report.html into this directory."),
) -> None:
    """Whether the withdrawn members' canaries fell to the level of canaries never trained on; stores the report."""
    from consentry.audit.forgetting import audit_forgetting

    outcome = audit_forgetting(
        open_store(access="write"),
        before,
        after,
        scorer,
        before_scorer_spec=before_scorer,
        candidates=candidates,
        batch_size=batch_size,
        alpha=alpha,
        seed=seed,
        progress=sys.stderr.isatty(),
    )
    _finish(outcome, out)


@app.command("list")
@handle_errors
def list_command(
    model: str = typer.Option(..., "--model", help="The model version: an id or NAME@VERSION."),
) -> None:
    """The audits stored against a model version, newest first (without their reports)."""
    from consentry.audit.memorisation import one_model

    store = open_store()
    print_json([a.to_dict(report=False) for a in store.model_audits.for_model(one_model(store, model).model_id)])


@app.command("show")
@handle_errors
def show_command(
    audit_id: str = typer.Argument(..., help="The audit id (au-…)."),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report to this file instead."),
) -> None:
    """A stored audit with its whole JSON report, or its HTML report."""
    found = open_store().model_audits.get(audit_id)
    if found is None:
        raise fail(f"no audit {audit_id!r}; `consentry audit list --model M` lists a model's audits")
    if html is None:
        print_json(found.to_dict())
        return
    from consentry.audit.report import html_report

    html.write_text(html_report(found.report), encoding="utf-8")
    print_json({"audit_id": audit_id, "html": str(html)})
