"""`consentry consent import|set|gpc|history`."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import handle_errors, open_store, print_json, stamp
from consentry.vocab import Choice, Source

app = typer.Typer(help="Record and inspect members' consent choices.", no_args_is_help=True)


@app.command("import")
@handle_errors
def import_(file: Path = typer.Argument(..., help="Consent events JSONL file.")) -> None:
    """Import consent events all-or-nothing (re-importing the same lines records nothing new)."""
    print_json({"imported": open_store(access="create").import_events(file), "file": file})


@app.command("set")
@handle_errors
def set_(
    member: str = typer.Option(..., "--member", help="Member id."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose name from the policy."),
    choice: Choice = typer.Option(..., "--choice", help="allow or deny."),
    at: str | None = typer.Option(None, "--at", help="When it takes effect (RFC 3339; default now)."),
    source: Source = typer.Option(Source.ADMIN, "--source", help="Where the choice came from."),
    actor: str | None = typer.Option(None, "--actor", help="Who recorded it."),
) -> None:
    """Record one choice."""
    from consentry.store import NewEvent

    event = open_store(access="write").record(NewEvent(member, purpose, choice, stamp(at), source, actor=actor))
    print_json(event)


@app.command("gpc")
@handle_errors
def gpc(
    member: str = typer.Option(..., "--member", help="Member id."),
    at: str | None = typer.Option(None, "--at", help="When the Sec-GPC: 1 signal was seen (default now)."),
) -> None:
    """Record a Global Privacy Control signal: a deny for every purpose the policy marks `gpc: true`."""
    print_json(open_store(access="write").record_gpc(member, stamp(at)))


@app.command("history")
@handle_errors
def history(
    member: str = typer.Option(..., "--member", help="Member id."),
    purpose: str | None = typer.Option(None, "--purpose", help="Only this purpose."),
) -> None:
    """Every recorded event of a member, in ledger order."""
    store = open_store()
    store.member(member)
    print_json(store.events(member_id=member, purpose=purpose))
