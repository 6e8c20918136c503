"""`consentry demo`: the story of docs/concepts.md ("The reference policy") replayed on an embedded SQLite store.

A professional network announces generative-AI training on 2024-09-18,
keeps Europe out, and lets Europe in a year later. The demo publishes the
reference policy, generates a platform of synthetic members with their
choices, objections and GPC signals, and shows, per moment, why each
member's data may or may not be used.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from consentry.decide import decide_members
from consentry.demo.synth import SyntheticPlatform
from consentry.errors import ConfigError
from consentry.policy import Policy, load_policy
from consentry.store import open_store
from consentry.store.protocol import Store
from consentry.timeutil import utcnow
from consentry.vocab import CaseStatus, ReasonCode

__all__ = ["MOMENTS", "DemoResult", "default_policy_path", "run_demo"]

T = TypeVar("T")

#: The moments the story replays, with what happened then.
MOMENTS: list[tuple[str, str]] = [
    ("2024-09-01", "before any disclosure"),
    ("2024-09-20", "network already training; terms in force only on 11-20"),
    ("2024-12-01", "disclosed; EU/EEA/CH/UK excluded"),
    ("2025-11-10", "Europe brought in; still in its notice period"),
    ("2025-12-01", "Europe in, notice served"),
]


def default_policy_path() -> Path:
    """The reference policy shipped in the repository's examples/."""
    return Path(__file__).resolve().parents[3] / "examples" / "policies" / "social-network.yaml"


@dataclass
class DemoResult:
    """What the demo left behind and what it counted."""

    directory: Path
    db_url: str
    counts: dict[str, Counter[str]]
    #: a member who turned generative-AI training off: their public page shows the signals
    opted_out_member: str | None = None


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _tracked(progress: Progress, items: Iterable[T], description: str, total: int) -> Iterator[T]:
    task = progress.add_task(description, total=total)
    for item in items:
        yield item
        progress.advance(task)


def _populate(store: Store, platform: SyntheticPlatform, console: Console) -> None:
    members = platform.members
    events = list(platform.consent_events())
    gpc = list(platform.gpc_signals())
    objections = list(platform.objections())
    with _progress(console) as progress:
        store.add_members(_tracked(progress, members, "members", len(members)))
        store.record_many(_tracked(progress, events, "settings choices", len(events)))
        for member_id, at in _tracked(progress, gpc, "GPC signals", len(gpc)):
            store.record_gpc(member_id, at)
        for member_id, purposes, filed, outcome in _tracked(progress, objections, "objections", len(objections)):
            case = store.file_objection(member_id, purposes, filed, text=None)
            if outcome is not None and case.due_by < platform.until:
                decided = min(case.due_by, platform.until)
                grounds = "compelling legitimate grounds documented in the case file" if outcome == "rejected" else None
                store.decide_objection(case.case_id, CaseStatus(outcome), decided, grounds=grounds, actor="demo-staff")


def replay(store: Store, policy: Policy, purpose: str, moments: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    """Member-level reason counts for `purpose` at each moment (pure replays: now = at)."""
    out: dict[str, Counter[str]] = {}
    for day, _ in moments:
        at = datetime.fromisoformat(day).replace(tzinfo=UTC)
        verdicts = decide_members(policy, purpose, store.snapshot(purpose, at, at), at=at, now=at)
        counts: Counter[str] = Counter()
        for gate, closed, consent in zip(
            verdicts.column("gate_reason").to_pylist(),
            verdicts.column("closed").to_pylist(),
            verdicts.column("consent_reason").to_pylist(),
            strict=True,
        ):
            counts[gate or ("ACCOUNT_CLOSED" if closed else None) or consent or "ALLOWED"] += 1
        out[day] = counts
    return out


def _table(purpose: str, counts: dict[str, Counter[str]], moments: list[tuple[str, str]]) -> Table:
    table = Table(title=f"{purpose}: why each member's data may or may not be used", title_justify="left")
    table.add_column("reason")
    for day, _ in moments:
        table.add_column(day, justify="right")
    seen = {r for c in counts.values() for r in c}
    for reason in [r.value for r in ReasonCode if r.value in seen]:
        style = "bold green" if reason == "ALLOWED" else None
        table.add_row(reason, *[f"{counts[d].get(reason, 0):,}" for d, _ in moments], style=style)
    return table


def _chart(counts: dict[str, Counter[str]], moments: list[tuple[str, str]], width: int = 28) -> Table:
    """Share of members allowed at each moment, as bars, with what happened then."""
    chart = Table.grid(padding=(0, 1))
    for day, what in moments:
        total = sum(counts[day].values()) or 1
        share = counts[day].get("ALLOWED", 0) / total
        bar = "█" * round(share * width)
        chart.add_row(day, f"[green]{bar:<{width}}[/]", f"{share:6.1%}", f"[dim]{what}[/]")
    return chart


def run_demo(
    directory: Path = Path(".consentry-demo"),
    *,
    members: int = 20_000,
    records: int = 60_000,
    policy_path: Path | None = None,
    console: Console | None = None,
) -> DemoResult:
    """Build the demo store from scratch in `directory` and replay the story."""
    console = console or Console()
    policy_path = policy_path or default_policy_path()
    if not policy_path.is_file():
        raise ConfigError(f"reference policy not found at {policy_path}; pass --policy FILE")
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    db_url = f"sqlite:///{directory / 'consentry.db'}"
    store = open_store(db_url)
    policy = load_policy(policy_path)
    console.rule("[bold]Consentry demo")
    published = store.publish(policy)
    console.print(
        f"published policy [bold]{escape(policy.name)}[/]: "
        + ", ".join(f"{p.version} ({p.sha256[:12]}…)" for p in published)
    )
    for w in policy.warnings:
        console.print(f"[yellow]policy validate:[/] {escape(str(w))}")
    platform = SyntheticPlatform(members_count=members)
    _populate(store, platform, console)
    counts = replay(store, policy, "genai_training", MOMENTS)
    console.print(_table("genai_training", counts, MOMENTS))
    console.print("[bold]share of members whose data may be used[/]")
    console.print(_chart(counts, MOMENTS))
    from consentry.demo.build_step import run_build_step

    run_build_step(store, platform, directory, console, records)
    from consentry.demo.signals_step import run_signals_step

    # now, as `consentry serve --demo` answers (the build step's withdrawals "today" included)
    opted_out = run_signals_step(store, policy, platform, utcnow(), console)
    verify = store.verify()
    console.print(f"ledger: {verify.events:,} events, head {verify.head_hash[:16]}…, intact: {verify.ok}")
    return DemoResult(directory, db_url, counts, opted_out)
