"""Audit reports: the checks against a purpose's thresholds, and the HTML form of a report.

A report is a JSON document (`REPORT_SCHEMA` names its version); the store
keeps it whole against the model version it judged. `html_report` renders one
as a self-contained page: an inline SVG histogram of canary exposures (planted
against never-planted controls, with the threshold marked) and the extraction
rates by entity type, members in the builds against members not in them. No
canary text ever appears in a report: canaries are named by id only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentry.store.models import ModelRecord

__all__ = [
    "REPORT_SCHEMA",
    "Check",
    "Thresholds",
    "exposure_histogram",
    "html_report",
    "memorisation_checks",
    "model_summary",
]

#: The version of the report's JSON layout (docs/audit.md)
REPORT_SCHEMA = "consentry.audit/1"


def model_summary(model: ModelRecord) -> dict[str, Any]:
    """The report's `model` block: the audited model version and the builds it was trained on."""
    return {"model_id": model.model_id, "name": model.name, "version": model.version, "builds": list(model.builds)}


@dataclass(frozen=True)
class Thresholds:
    """What a model version must stay under, from the policy version in effect for its purposes."""

    required: bool
    max_exposure: float
    max_extraction_rate: float
    policy_version: str | None
    purposes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "required": self.required,
            "max_exposure": self.max_exposure,
            "max_extraction_rate": self.max_extraction_rate,
            "policy_version": self.policy_version,
            "purposes": list(self.purposes),
        }


@dataclass(frozen=True)
class Check:
    """One measured value against its limit."""

    name: str
    value: float
    limit: float

    @property
    def passed(self) -> bool:
        """The value is within its limit."""
        return self.value <= self.limit

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"name": self.name, "value": self.value, "limit": self.limit, "passed": self.passed}


def memorisation_checks(summary: dict[str, Any], thresholds: Thresholds) -> list[Check]:
    """The checks of a memorisation report's summary: the highest exposure, the highest extraction rate.

    Also used to judge a stored report against thresholds that changed after it ran.
    """
    return [
        Check("max_exposure", float(summary["max_exposure"]), thresholds.max_exposure),
        Check("max_extraction_rate", float(summary["max_extraction_rate"]), thresholds.max_extraction_rate),
    ]


def _bins(values: Sequence[float], top: float, width: float) -> list[int]:
    n = max(1, math.ceil(top / width))
    counts = [0] * n
    for v in values:
        counts[min(n - 1, max(0, int(v // width)))] += 1
    return counts


def exposure_histogram(
    planted: Sequence[float], controls: Sequence[float], limit: float | None, *, width: int = 640, bin_bits: float = 1.0
) -> str:
    """An inline <svg> histogram of exposures (bits): planted canaries and controls side by side, the limit dashed."""
    top = max([*planted, *controls, limit or 0.0, 1.0]) + bin_bits
    p_bins, c_bins = _bins(planted, top, bin_bits), _bins(controls, top, bin_bits)
    tallest = max([*p_bins, *c_bins, 1])
    left, bottom, plot_h = 40, 40, 180
    plot_w = width - left - 10
    height = plot_h + bottom + 30
    slot = plot_w / len(p_bins)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="Histogram of canary exposure, planted canaries against controls" class="exposure-histogram">',
        f'<line x1="{left}" y1="{plot_h + 10}" x2="{width - 10}" y2="{plot_h + 10}" stroke="#444"/>',
        f'<text x="{left}" y="{height - 8}" font-size="12">exposure (bits)</text>',
        f'<text x="0" y="20" font-size="11">{tallest}</text><text x="0" y="{plot_h + 10}" font-size="11">0</text>',
    ]
    for i, (p, c) in enumerate(zip(p_bins, c_bins, strict=True)):
        x = left + i * slot
        for j, (n, colour, kind) in enumerate(((p, "#b5462f", "planted"), (c, "#5b6fb0", "control"))):
            if n:
                h = plot_h * n / tallest
                parts.append(
                    f'<rect class="bar {kind}" x="{x + 1 + j * slot / 2:.1f}" y="{plot_h + 10 - h:.1f}" '
                    f'width="{max(slot / 2 - 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{kind}: {n} with exposure {i * bin_bits:g}–{(i + 1) * bin_bits:g} bits</title></rect>"
                )
        if i % max(1, len(p_bins) // 10) == 0:
            parts.append(f'<text x="{x:.1f}" y="{plot_h + 25}" font-size="11">{i * bin_bits:g}</text>')
    if limit is not None:
        x = left + plot_w * limit / (len(p_bins) * bin_bits)
        parts.append(
            f'<line class="limit" x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{plot_h + 10}" stroke="#d00000" '
            f'stroke-dasharray="4 3"><title>limit: {limit:g} bits</title></line>'
        )
    parts.append(
        f'<rect x="{width - 170}" y="4" width="10" height="10" fill="#b5462f"/>'
        f'<text x="{width - 155}" y="13" font-size="11">planted</text>'
        f'<rect x="{width - 95}" y="4" width="10" height="10" fill="#5b6fb0"/>'
        f'<text x="{width - 80}" y="13" font-size="11">controls</text></svg>'
    )
    return "".join(parts)


def _rate(cell: dict[str, Any] | None) -> str:
    if not cell or not cell.get("probes"):
        return "—"
    return f"{100 * float(cell['rate']):.1f}% ({cell['hits']}/{cell['probes']})"


def _extraction_table(extraction: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(entity)}</td><td>{_rate(cells.get('members'))}</td><td>{_rate(cells.get('non_members'))}</td></tr>"
        for entity, cells in sorted(extraction.get("by_entity", {}).items())
    )
    if not rows:
        return "<p>No extraction probes (no scrubbed entities in the builds' records).</p>"
    return (
        '<table class="extraction"><thead><tr><th>Entity</th><th>Members in the builds</th>'
        f"<th>Members not in the builds (baseline)</th></tr></thead><tbody>{rows}</tbody></table>"
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    ".pass{color:#2f6f4f}.fail{color:#b5462f}.muted{color:#666}"
)


def _checks_table(checks: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{"pass" if c["passed"] else "fail"}"><td>{escape(c["name"])}</td><td>{c["value"]:.4g}</td>'
        f"<td>{c['limit']:.4g}</td><td>{'passed' if c['passed'] else 'failed'}</td></tr>"
        for c in checks
    )
    head = "<thead><tr><th>Check</th><th>Value</th><th>Limit</th><th></th></tr></thead>"
    return f"<table>{head}<tbody>{rows}</tbody></table>"


def _memorisation_body(report: dict[str, Any]) -> str:
    planted = [c["exposure"] for c in report["canaries"]]
    controls = [c["exposure"] for c in report["controls"]]
    s = report["summary"]
    return (
        f"<p>{s['planted']} planted canaries and {s['controls']} never-planted controls, each ranked against "
        f"{report['candidates']} random candidates of the same format (|R| = {report['space_size']:.3g}).</p>"
        f"<p>Median exposure: planted {s['median_exposure']:.2f} bits, controls {s['control_median_exposure']:.2f}"
        f" bits; highest {s['max_exposure']:.2f} bits.</p>"
        "<h2>Exposure</h2>"
        + exposure_histogram(planted, controls, report["thresholds"]["max_exposure"])
        + "<h2>Extraction</h2>"
        + _extraction_table(report["extraction"])
    )


def _forgetting_body(report: dict[str, Any]) -> str:
    groups = report["groups"]
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{g['count']}</td><td>{g['median_exposure']:.2f}</td></tr>"
        for name, g in groups.items()
        if g is not None
    )
    tests = "".join(
        f"<tr><td>{escape(name)}</td><td>{t['statistic']:.4g}</td><td>{t['p_value']:.4g}</td></tr>"
        for name, t in report["tests"].items()
        if t is not None
    )
    withdrawn = groups["withdrawn_after"]
    controls = groups["controls"]
    return (
        f"<p>Verdict: <strong>{escape(report['verdict'])}</strong> "
        f"({escape(report['test'])}, α = {report['alpha']}).</p>"
        f"<table><thead><tr><th>Canaries</th><th>Count</th><th>Median exposure (bits)</th></tr></thead><tbody>{rows}"
        "</tbody></table><h2>Tests</h2><table><thead><tr><th>Comparison</th><th>Statistic</th><th>p-value</th></tr>"
        f"</thead><tbody>{tests}</tbody></table><h2>Exposure after retraining</h2>"
        + exposure_histogram(withdrawn["exposures"], controls["exposures"], None)
    )


def html_report(report: dict[str, Any]) -> str:
    """A self-contained HTML page for a memorisation or forgetting report (no scripts, no external files)."""
    model = report["model"]
    title = f"{report['kind'].capitalize()} audit of {model['name']} {model['version']}"
    verdict = "passed" if report["passed"] else "did not pass"
    body = _memorisation_body(report) if report["kind"] == "memorisation" else _forgetting_body(report)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f'<p class="{"pass" if report["passed"] else "fail"}">The model {verdict} this audit.</p>'
        f'<p class="muted">Model <code>{escape(model["model_id"])}</code>, run {escape(report["created_at"])}, '
        f"policy version {escape(str(report['thresholds'].get('policy_version')))}, scorer "
        f"<code>{escape(report['scorer'])}</code>.</p>" + _checks_table(report["checks"]) + body + "</body></html>"
    )
