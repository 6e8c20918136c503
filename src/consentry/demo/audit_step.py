"""The demo's last act: the retrained model is audited for what it memorised.

The demo registers models without training them; here a real one stands in
for version 2: a word-level n-gram model (`consentry.audit.ngram`) trained on
CPU on the retrained build, canaries and all. The memorisation audit then
scores the canaries planted in that build against random candidates, probes
the model with the members' source texts, and stores its report.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from consentry.audit.memorisation import audit_memorisation
from consentry.audit.ngram import train_from_build
from consentry.audit.report import html_report
from consentry.store.protocol import Store

__all__ = ["CANDIDATES", "run_audit_step"]

#: Random candidates each canary ranks against in the demo (the CLI's default is 10,000)
CANDIDATES = 2_000


def _extraction(report: dict[str, object]) -> Table:
    table = Table(title="extraction probe: the model completes the true value", title_justify="left")
    for column in ("entity", "members in the build", "members not in it (baseline)"):
        table.add_column(column, justify="left" if column == "entity" else "right")
    extraction = report["extraction"]
    assert isinstance(extraction, dict)
    for entity, cells in sorted(extraction["by_entity"].items()):
        shown = [
            "—" if c["rate"] is None else f"{c['rate']:.1%} of {c['probes']}"
            for c in (cells["members"], cells["non_members"])
        ]
        table.add_row(entity, *shown)
    return table


def run_audit_step(store: Store, model_ref: str, build_dir: Path, directory: Path, console: Console) -> None:
    """Train an n-gram model on `build_dir`, audit `model_ref` with it, and print and store the result."""
    directory.mkdir(parents=True, exist_ok=True)
    model_file = directory / "feed-ranker-2.ngram.gz"
    train_from_build(build_dir, model_file)
    console.print(f"\ntrained an n-gram model on the retrained build as {model_ref} ({escape(str(model_file))})")
    outcome = audit_memorisation(store, model_ref, f"ngram:{model_file}", candidates=CANDIDATES, seed=2025)
    report = outcome.record.report
    s = report["summary"]
    console.print(
        f"memorisation audit (`consentry audit memorisation`): {s['planted']} planted canaries, "
        f"median exposure {s['median_exposure']:.1f} bits (controls, never trained on: "
        f"{s['control_median_exposure']:.1f}); highest {s['max_exposure']:.1f} bits, limit "
        f"{report['thresholds']['max_exposure']:g}; {s['significant_at_0_01']} significant at p ≤ 0.01",
        soft_wrap=True,
    )
    console.print(_extraction(report))
    verdict = "[green]passed[/]" if outcome.record.passed else "[red]did not pass[/]"
    release = "releasable" if outcome.releasable else "[red]not releasable[/]"
    html = directory / "report.html"
    html.write_text(html_report(report), encoding="utf-8")
    console.print(
        f"audit {outcome.record.audit_id}: {verdict}; the model is {release} under the policy; "
        f"report: {escape(str(html))}",
        soft_wrap=True,
    )
    if outcome.releasable and not outcome.record.passed:  # releasable although failed: the audit is not required
        console.print(
            "  (the reference policy does not require this audit for the model's purpose; "
            "`audit: {required: true}` on the purpose would hold this version back)",
            soft_wrap=True,
        )
