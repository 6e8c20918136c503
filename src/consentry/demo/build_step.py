"""The demo's second act: a training-data build on the synthetic lake, then withdrawals that make it stale."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from consentry.demo.synth import SyntheticPlatform, records_table
from consentry.demo.web import web_rows
from consentry.pipeline import BuildProgress, BuildResult, build, get_build, stale_builds
from consentry.store.protocol import NewEvent, Store
from consentry.timeutil import utcnow
from consentry.vocab import Choice, ReasonCode, Source

__all__ = ["BUILD_AS_OF", "run_build_step"]

BUILD_AS_OF = datetime(2025, 12, 1, tzinfo=UTC)
#: Canaries the build plants (secret, in the store), each this many times, for the closing memorisation audit
CANARIES = 40
CANARY_REPEATS = 5


def write_lake(platform: SyntheticPlatform, directory: Path, records: int) -> pa.Table:
    """Write the content lake as JSONL (malformed rows survive as they are) and return it."""
    table = records_table(platform, records)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "records-000.jsonl").open("w", encoding="utf-8") as f:
        for row in table.to_pylist():
            f.write(json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False) + "\n")
    web = web_rows(platform, max(1, records // 10))  # articles members shared, with their sites' signals
    with (directory / "web-000.jsonl").open("w", encoding="utf-8") as f:
        for row in web:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    shared = pa.Table.from_pylist([{k: r.get(k) for k in table.column_names} for r in web], schema=table.schema)
    return pa.concat_tables([table, shared])


def _reason_table(result: BuildResult, width: int = 24) -> Table:
    counts: dict[str, Any] = result.counts
    total = int(counts["input"]) or 1
    rows = [(ReasonCode.ALLOWED.value, int(counts["included"]))]
    rows += [(r, int(n)) for r, n in counts["excluded"].items() if n]
    rows.sort(key=lambda rn: ReasonCode(rn[0]).rank)
    table = Table(title=f"build as of {BUILD_AS_OF:%Y-%m-%d}: {total:,} records", title_justify="left")
    table.add_column("reason")
    table.add_column("records", justify="right")
    table.add_column("")
    for reason, n in rows:
        style = "bold green" if reason == "ALLOWED" else None
        table.add_row(reason, f"{n:,}", "[green]" + "█" * max(1, round(n / total * width)) + "[/]", style=style)
    return table


def _examples(lake: pa.Table, out: Path, console: Console, n: int = 3) -> None:
    shards = sorted(out.glob("part-*.parquet"))
    if not shards:
        return
    built = pq.read_table(shards[0], columns=["record_id", "text"]).slice(0, 400)
    originals = dict(zip(lake.column("record_id").to_pylist(), lake.column("text").to_pylist(), strict=True))
    shown = 0
    for rid, text in zip(built.column("record_id").to_pylist(), built.column("text").to_pylist(), strict=True):
        before = originals.get(rid)
        if before and before != text and shown < n:
            label, was, scrubbed = escape(str(rid)), escape(before), escape(str(text))  # data, never markup
            console.print(f"  [dim]{label} before:[/] {was}\n  [dim]{label} after: [/] [green]{scrubbed}[/]")
            shown += 1


def run_build_step(store: Store, platform: SyntheticPlatform, directory: Path, console: Console, records: int) -> None:
    """Build genai_training as of 2025-12-01 with canaries, show what went in and why, train a model on it, make
    both stale, retrain on a rebuild, and audit what the retrained model memorised."""
    lake = write_lake(platform, directory / "lake", records)
    out = directory / "builds" / "genai_training-2025-12-01"
    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("build: reading sources", total=None)

        def report(p: BuildProgress) -> None:
            progress.update(task, description=f"build: {p.stage.value}", completed=p.done, total=p.total or None)

        result = build(
            store,
            "genai_training",
            [str(directory / "lake")],
            out,
            as_of=BUILD_AS_OF,
            progress=report,
            canaries=CANARIES,
            canary_repeats=CANARY_REPEATS,
        )
    console.print(_reason_table(result))
    reserved = {k: v for k, v in result.counts.get("reserved_by_signal", {}).items() if v}
    if reserved:
        by_kind = ", ".join(f"{kind} {n:,}" for kind, n in reserved.items())
        console.print(f"reserved by their rights holders, per signal: {by_kind}", soft_wrap=True)
    pii = ", ".join(f"{k} {v:,}" for k, v in sorted(result.pii.items(), key=lambda kv: -kv[1]))
    console.print(f"PII replaced: {pii or 'none'}")
    console.print(f"manifest: {escape(str(result.manifest_path))} (sha256 {result.manifest_sha256[:16]}…)")
    console.print(
        f"canaries: {CANARIES} planted, {CANARY_REPEATS} times each; the manifest holds only their commitment"
    )
    console.print("[bold]scrubbed examples[/]")
    _examples(lake, out, console)
    from consentry.demo.models_step import retrain, train_first

    train_first(store, get_build(store, result.build_id), console)
    _withdraw(store, lake, out, console)
    retrained = directory / "builds" / "genai_training-2025-12-01-retrained"
    model_ref = retrain(store, result.build_id, retrained, console)
    from consentry.demo.audit_step import run_audit_step

    run_audit_step(store, model_ref, retrained, directory / "audit", console)


def _withdraw(store: Store, lake: pa.Table, out: Path, console: Console, n: int = 25) -> None:
    """Some members whose data went in turn the setting off today: the build goes stale."""
    shards = sorted(out.glob("part-*.parquet"))
    included = pq.read_table(shards, columns=["record_id"]) if shards else pa.table({"record_id": []})
    ids = pc.is_in(lake.column("record_id"), value_set=included.column("record_id"))
    members = sorted({m for m in pc.filter(lake.column("member_id"), ids).to_pylist() if m})[:n]
    now = utcnow()
    store.record_many(
        NewEvent(m, "genai_training", Choice.DENY, now, Source.SETTINGS, actor=m, idempotency_key=f"demo-withdraw:{m}")
        for m in members
    )
    console.print(f"\n{len(members)} members whose posts are in that build turn the setting off today.")
    for stale in stale_builds(store):
        console.print(
            f"[yellow]stale build[/] {stale.build.build_id}: {stale.stale_members} members, "
            f"{stale.stale_records} records to drop ({', '.join(stale.causes)}) — `consentry builds rebuild`"
        )
