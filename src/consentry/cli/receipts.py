"""`consentry receipts verify`: check an event proof against a signed checkpoint, without the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from consentry.cli._common import err_console, handle_errors, print_json

app = typer.Typer(help="Check event proofs against signed ledger checkpoints.", no_args_is_help=True)


@app.command("verify")
@handle_errors
def verify(
    proof: Path = typer.Argument(..., help="The proof (JSON from `consentry ledger prove`)."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="The signed checkpoint it is checked against."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="Public key (PEM) [default: public-key.pem beside the checkpoint]."
    ),
) -> None:
    """Exit 0 if the event is in the ledger the checkpoint signed, else exit 1 saying why."""
    from consentry.errors import InputError
    from consentry.store import anchors
    from consentry.store import checkpoints as cps

    signed = cps.read_checkpoint(checkpoint)
    key = cps.load_public_key(public_key or checkpoint.parent / cps.PUBLIC_KEY_FILE)
    try:
        obj = json.loads(proof.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"{proof}: cannot read: {e.strerror}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{proof}: not JSON ({e})") from e
    result = anchors.check_event_proof(obj, signed, key)
    print_json(result)
    if not result["ok"]:
        err_console.print(f"error: {proof}: {result['problem']}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)
