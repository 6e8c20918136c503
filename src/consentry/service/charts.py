"""Server-rendered inline SVG charts (no front-end build step, no scripts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["reason_bars"]

_PALETTE = [
    "#2f6f4f",
    "#b5462f",
    "#d08c2f",
    "#5b6fb0",
    "#8a5bb0",
    "#3f9aa8",
    "#a83f6c",
    "#7a7a2f",
    "#4f4f4f",
    "#c76f9a",
    "#6fa83f",
    "#2f4fb5",
    "#b58f2f",
    "#8f2f2f",
]


def reason_bars(rows: Sequence[tuple[str, int, Mapping[str, int], bool]], width: int = 720) -> str:
    """A horizontal stacked bar per build: included, then each exclusion reason.

    `rows` holds (label, included, excluded counts by reason, stale). Stale builds
    get a red outline. Returns an <svg> element with a legend, safe to embed.
    """
    reasons = sorted({r for _, _, excl, _ in rows for r in excl})
    colours = {"included": "#2f6f4f", **{r: _PALETTE[(i + 1) % len(_PALETTE)] for i, r in enumerate(reasons)}}
    label_w, bar_h, gap = 170, 18, 8
    plot_w = width - label_w - 10
    height = len(rows) * (bar_h + gap) + 30 + 18 * ((len(reasons) + 4) // 4)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Records per reason for each build" class="chart">'
    ]
    for i, (label, included, excl, stale) in enumerate(rows):
        y = 10 + i * (bar_h + gap)
        total = included + sum(excl.values()) or 1
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(label[:26])}</text>')
        x = float(label_w)
        for reason, n in [("included", included), *sorted(excl.items())]:
            if n <= 0:
                continue
            w = plot_w * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colours[reason]}">'
                f"<title>{escape(reason)}: {n}</title></rect>"
            )
            x += w
        if stale:
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="none" '
                f'stroke="#d00000" stroke-width="3"><title>stale</title></rect>'
            )
    y0 = 10 + len(rows) * (bar_h + gap) + 6
    for j, reason in enumerate(["included", *reasons]):
        lx, ly = (j % 4) * (width // 4), y0 + (j // 4) * 18
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colours[reason]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{ly + 11}" font-size="11">{escape(reason)}</text>')
    parts.append("</svg>")
    return "".join(parts)
