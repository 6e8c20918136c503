"""The demo's third act: a model trained on the build, withdrawals that oblige it, a retrained version."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from consentry.pipeline.models import register_model
from consentry.pipeline.obligations import obligations
from consentry.pipeline.registry import BuildRecord
from consentry.store.protocol import Store

__all__ = ["MODEL", "retrain", "train_first"]

MODEL = "feed-ranker"


def train_first(store: Store, build: BuildRecord, console: Console) -> None:
    """Version 1 of the model is trained on the build, before anyone withdraws."""
    record, _ = register_model(store, MODEL, "1", [build.build_id], uri="s3://models/feed-ranker/1")
    console.print(f"\nmodel [bold]{MODEL}[/] version 1 trained on {build.build_id} ({record.model_id})")


def _table(store: Store, title: str) -> Table:
    versions = {m.model_id: m.version for m in store.models.all()}
    table = Table(title=title, title_justify="left")
    for column in ("model", "cause", "members", "records", "due by", "status"):
        table.add_column(column, justify="right" if column in ("members", "records") else "left")
    for o in obligations(store):
        status = f"met (v{versions.get(o.met_by or '', o.met_by)})" if o.status == "met" else o.status
        table.add_row(
            f"{o.model.name} {o.model.version}", o.cause, f"{o.member_count:,}", f"{o.records:,}",
            f"{o.due_by:%Y-%m-%d}", status, style="green" if o.status == "met" else None,
        )  # fmt: skip
    return table


def retrain(store: Store, build_id: str, out: Path, console: Console) -> str:
    """Show the obligations the withdrawals opened, retrain on a rebuild, and show them met; the new version."""
    from consentry.pipeline import rebuild

    console.print(_table(store, "forgetting obligations (`consentry models obligations`)"))
    result = rebuild(store, build_id, out)
    record, _ = register_model(store, MODEL, "2", [result.build_id], uri="s3://models/feed-ranker/2")
    console.print(f"model [bold]{MODEL}[/] version 2 retrained on the rebuild {result.build_id} ({record.model_id})")
    console.print(_table(store, "after retraining: met, checked against the new build's member set"))
    return f"{MODEL}@2"
