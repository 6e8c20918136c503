"""`consentry ledger verify|head`."""

from __future__ import annotations

import typer

from consentry.cli._common import err_console, handle_errors, open_store, print_json

app = typer.Typer(help="Check the consent ledger's hash chain.", no_args_is_help=True)


@app.command("verify")
@handle_errors
def verify() -> None:
    """Walk the hash chain: exit 0 if intact, else exit 1 naming the first bad event."""
    report = open_store().verify()
    print_json(report)
    if not report.ok:
        err_console.print(
            f"error: ledger does not verify at event {report.first_bad_event}: {report.problem}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command("head")
@handle_errors
def head() -> None:
    """The number of events and the hash of the last one."""
    events, head_hash = open_store().head()
    print_json({"events": events, "head_hash": head_hash})
