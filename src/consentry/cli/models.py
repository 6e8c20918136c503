"""`consentry models register|list|show|obligations|waive|sync|retrain-plan`: parse → one library call → render JSON."""

from __future__ import annotations

import typer

from consentry.cli._common import handle_errors, open_store, print_json, when

__all__ = ["app"]

app = typer.Typer(
    help="Models trained on builds, and the forgetting obligations withdrawals open against them.",
    no_args_is_help=True,
)


@app.command("register")
@handle_errors
def register_command(
    name: str = typer.Option(..., "--name", help="The model's name."),
    version: str = typer.Option(..., "--version", help="The version of the model."),
    build: list[str] = typer.Option(..., "--build", help="A build it was trained on (repeatable)."),
    trained_at: str | None = typer.Option(None, "--trained-at", help="When it was trained (default now)."),
    uri: str | None = typer.Option(None, "--uri", help="Where the model lives (registry or storage URI)."),
) -> None:
    """Record that a model version was trained on these builds; prints the model as JSON."""
    from consentry.pipeline.models import register_model

    trained = when(trained_at, "--trained-at") if trained_at else None
    record, _ = register_model(open_store(access="write"), name, version, build, trained_at=trained, uri=uri)
    print_json(
        {k: v for k, v in record.to_dict().items() if k in ("model_id", "name", "version", "builds", "trained_at")}
        | {"uri": record.uri}
    )


@app.command("list")
@handle_errors
def list_command() -> None:
    """Every registered model version, by name, then training time."""
    from consentry.pipeline.models import list_models

    print_json([m.to_dict() for m in list_models(open_store())])


@app.command("show")
@handle_errors
def show_command(
    model: str = typer.Argument(..., help="A model id, NAME@VERSION, or a NAME (every version)."),
) -> None:
    """A model's versions with their builds, the members and records behind them, and whether each is releasable."""
    from consentry.audit.release import release_status
    from consentry.pipeline.models import show_model

    store = open_store()
    shown = show_model(store, model)
    status = release_status(store, [s.model for s in shown])
    print_json(
        [
            s.to_dict()
            | {"releasable": status[s.model.model_id].releasable, "release": status[s.model.model_id].to_dict()}
            for s in shown
        ]
    )


@app.command("obligations")
@handle_errors
def obligations_command(
    model: str | None = typer.Option(None, "--model", help="Only this model: an id, NAME@VERSION or NAME."),
    overdue: bool = typer.Option(False, "--overdue", help="Only obligations past their due date."),
    as_of: str | None = typer.Option(None, "--as-of", help="As of this RFC 3339 time (default now)."),
    no_members: bool = typer.Option(False, "--no-members", help="Leave out member ids (counts stay)."),
) -> None:
    """Forgetting obligations: each withdrawal, objection, closure or deletion against each model, by due date."""
    from consentry.pipeline.obligations import obligations

    found = obligations(open_store(), as_of=when(as_of, "--as-of"), model=model, overdue=overdue)
    print_json([o.to_dict(members=not no_members) for o in found])


@app.command("waive")
@handle_errors
def waive_command(
    obligation: str = typer.Argument(..., help="The obligation id (ob-…)."),
    grounds: str = typer.Option(..., "--grounds", help="Why the model will not be retrained; recorded."),
    by: str = typer.Option(..., "--by", help="Who waives it (staff name or id); recorded."),
) -> None:
    """Waive an open or overdue obligation, with recorded grounds; prints the obligation."""
    from consentry.pipeline.obligations import waive_obligation

    print_json(waive_obligation(open_store(access="write"), obligation, grounds=grounds, actor=by).to_dict())


@app.command("retrain-plan")
@handle_errors
def retrain_plan_command(
    model: str = typer.Option(..., "--model", help="A model id, NAME@VERSION or NAME (every version)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Obligations as of this RFC 3339 time (default now)."),
) -> None:
    """The shards of each build of the model that hold members with open obligations, and their share of records."""
    from consentry.pipeline.retrain import retrain_plan

    print_json(retrain_plan(open_store(), model, as_of=when(as_of, "--as-of")))


@app.command("sync")
@handle_errors
def sync_command(
    tracking_uri: str = typer.Option(..., "--mlflow-tracking-uri", help="The MLflow tracking server or store URI."),
) -> None:
    """Register every MLflow run or registered model version whose inputs carry a build digest."""
    from consentry.mlflow import sync_models

    print_json(sync_models(open_store(access="write"), tracking_uri))
