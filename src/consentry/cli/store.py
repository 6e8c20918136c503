"""`consentry store backup|restore` (SQLite; PostgreSQL uses pg_dump and pg_restore)."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import handle_errors, print_json, settings

app = typer.Typer(help="Back up and restore a SQLite store (online, consistent).", no_args_is_help=True)


@app.command("backup")
@handle_errors
def backup(out: Path = typer.Option(..., "--out", help="The backup file to create (never overwritten).")) -> None:
    """Copy the store CONSENTRY_DB names into a new file while it stays in use."""
    from consentry.store.backup import backup_sqlite

    print_json(backup_sqlite(settings().db_url, out))


@app.command("restore")
@handle_errors
def restore(
    backup: Path = typer.Argument(..., help="A file written by `consentry store backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: the store's current contents are replaced."),
) -> None:
    """Replace the store with a backup; then run `ledger verify --checkpoints` to see what was lost."""
    from consentry.errors import InputError
    from consentry.store.backup import restore_sqlite

    if not yes:
        raise InputError("restore replaces the whole store: add --yes to confirm")
    print_json(restore_sqlite(settings().db_url, backup))
