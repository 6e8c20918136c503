"""`consentry build` and `consentry builds …`: parse → one library call → render JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from consentry.cli._common import err_console, handle_errors, open_store, print_json, settings, when

__all__ = ["build_command", "builds_app"]

builds_app = typer.Typer(
    help="Registered builds: list, show, lineage per member, stale builds, rebuild.", no_args_is_help=True
)

_LINEAGE_HELP = "Send OpenLineage events: none, console (stderr), file:PATH or an http(s):// URL (CONSENTRY_LINEAGE)."


def _lineage(option: str | None) -> Any:
    """The lineage transport: the option, else CONSENTRY_LINEAGE, else none."""
    from consentry.pipeline.lineage_run import LineageConfig

    s = settings()
    return LineageConfig.parse(option or s.lineage, namespace=s.lineage_namespace, api_key=s.lineage_api_key)


def _progress_bar() -> tuple[Progress, Callable[[Any], None]]:
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("reading sources", total=None)

    def report(p: Any) -> None:
        labels = {"read": "reading sources", "decide": "deciding", "write": "writing", "commit": "committing"}
        bar.update(task, description=labels.get(str(p.stage), str(p.stage)), completed=p.done, total=p.total or None)

    return bar, report


@handle_errors
def build_command(
    purpose: str = typer.Option(..., "--purpose", help="Purpose from the policy, e.g. genai_training."),
    source: list[str] = typer.Option(..., "--source", help="Parquet/JSONL/CSV file, directory or glob (repeatable)."),
    out: Path = typer.Option(..., "--out", help="Output directory (must not exist unless --force)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Build as of this RFC 3339 time (default: now)."),
    engine: str = typer.Option("local", "--engine", help="Engine: local or spark."),
    no_scrub: bool = typer.Option(False, "--no-scrub", help="Skip PII scrubbing (only for data without PII)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    spark_master: str | None = typer.Option(None, "--spark-master", help="Spark master URL (default local[*])."),
    spark_conf: list[str] = typer.Option([], "--spark-conf", help="Spark setting key=value (repeatable)."),
    shards: int = typer.Option(1, "--shards", help="Split the output into K cohort shards (1 to 4096; 1: unsharded)."),
    lineage: str | None = typer.Option(None, "--lineage", help=_LINEAGE_HELP),
    surrogates: str = typer.Option(
        "store",
        "--surrogates",
        help="store: name surrogates under the store's key, the same in every build (default); "
        "build: names, e-mails, phones and usernames replaced by surrogates consistent within this build only.",
    ),
    canaries: int = typer.Option(
        0, "--canaries", help="Plant N secret canaries for the memorisation audit (kept in the store only)."
    ),
    canary_repeats: int = typer.Option(1, "--canary-repeats", help="Insert each canary R times (default 1)."),
) -> None:
    """Build a consent-filtered training dataset; prints the build summary as JSON."""
    from consentry.pipeline import build
    from consentry.pipeline.engines.spark import spark_scope
    from consentry.pipeline.shards import check_shards

    check_shards(shards)  # before the store is opened: a bad count writes nothing

    transport = _lineage(lineage)
    store = open_store(access="write")
    bar, report = _progress_bar()
    with spark_scope(engine, spark_master, spark_conf), bar:
        result = build(
            store,
            purpose,
            source,
            out,
            as_of=when(as_of, "--as-of") if as_of else None,
            engine=engine,
            scrub=not no_scrub,
            force=force,
            key=settings().pseudonym_key,
            progress=report,
            shards=shards,
            lineage=transport,
            surrogates=surrogates,
            canaries=canaries,
            canary_repeats=canary_repeats,
        )
    print_json(result.to_dict())


@builds_app.command("list")
@handle_errors
def list_command() -> None:
    """Every registered build, oldest first."""
    from consentry.pipeline import list_builds

    print_json([b.to_dict() for b in list_builds(open_store())])


@builds_app.command("show")
@handle_errors
def show_command(
    build_id: str = typer.Argument(..., help="The build."),
    form: str = typer.Option(
        "json", "--format", help="json (registry entry), croissant, openlineage (START and COMPLETE) or card."
    ),
) -> None:
    """One build: its registry entry, Croissant metadata, OpenLineage events or dataset card."""
    from consentry.pipeline.show import show_build

    text = show_build(open_store(), build_id, form)
    typer.echo(text.rstrip("\n"))


@builds_app.command("for-member")
@handle_errors
def for_member_command(member: str = typer.Argument(..., help="The member id.")) -> None:
    """The builds that used this member's data (and, for a sharded build, the member's shard)."""
    from consentry.pipeline.registry import shards_for_member

    found = shards_for_member(open_store(), member)
    print_json([b.to_dict() | ({"shard": s} if b.shards > 1 else {}) for b, s in found])


@builds_app.command("stale")
@handle_errors
def stale_command(
    at: str | None = typer.Option(None, "--at", help="Judge staleness as of this time (default: now)."),
) -> None:
    """Builds holding data of members who since withdrew, objected, closed their account or deleted records."""
    from consentry.pipeline import stale_builds

    store = open_store(access="write")  # the deletion check is recorded
    found = stale_builds(store, when(at, "--at"), check_deletions=True, key=settings().pseudonym_key)
    print_json([s.to_dict() for s in found])


@builds_app.command("rebuild")
@handle_errors
def rebuild_command(
    build_id: str = typer.Argument(..., help="The build to redo."),
    out: Path = typer.Option(..., "--out", help="Output directory for the new build."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    only_affected_shards: bool = typer.Option(
        False, "--only-affected-shards", help="Write only the shards whose decision changed; carry the rest over."
    ),
    lineage: str | None = typer.Option(None, "--lineage", help=_LINEAGE_HELP),
) -> None:
    """Build the same purpose, sources and T again, excluding what was taken back since."""
    from consentry.pipeline import rebuild

    transport = _lineage(lineage)
    store = open_store(access="write")
    bar, report = _progress_bar()
    with bar:
        result = rebuild(
            store,
            build_id,
            out,
            force=force,
            key=settings().pseudonym_key,
            progress=report,
            only_affected_shards=only_affected_shards,
            lineage=transport,
        )
    print_json(result.to_dict())
