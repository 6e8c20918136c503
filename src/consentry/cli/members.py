"""`consentry members import|show`."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import handle_errors, open_store, print_json

app = typer.Typer(help="Import and look up members.", no_args_is_help=True)


@app.command("import")
@handle_errors
def import_(file: Path = typer.Argument(..., help="Members file: .jsonl, .csv or .parquet.")) -> None:
    """Import members all-or-nothing; members already stored are updated."""
    print_json({"imported": open_store(access="create").import_members(file), "file": file})


@app.command("show")
@handle_errors
def show(member: str = typer.Argument(..., help="The member id.")) -> None:
    """Show one member."""
    print_json(open_store().member(member))
