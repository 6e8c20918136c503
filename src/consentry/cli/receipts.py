"""`consentry receipts`: verify signed consent receipts and event proofs; rotate the receipt signing key."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from consentry.cli._common import err_console, handle_errors, open_store, print_json, when

app = typer.Typer(
    help="Verify signed receipts (against the store) and event proofs (against a checkpoint); rotate receipt keys.",
    no_args_is_help=True,
)


def _fail(path: Path, problem: str) -> typer.Exit:
    err_console.print(f"error: {path}: {problem}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(1)


@app.command("verify")
@handle_errors
def verify(
    file: Path = typer.Argument(..., help="A signed receipt (.jws), or an event proof from `consentry ledger prove`."),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="For an event proof: the signed checkpoint it is checked against."
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="For an event proof: public key (PEM) [default: public-key.pem beside it]."
    ),
) -> None:
    """Exit 0 if the receipt's signature and ledger evidence check out (or the proof leads to the checkpoint),
    else exit 1 naming the check that failed."""
    if checkpoint is None:
        from consentry.receipts.verify import read_receipt_file, verify_signed_receipt

        report = verify_signed_receipt(read_receipt_file(file), open_store())
        print_json(report.to_dict())
        if not report.ok:
            raise _fail(file, f"{report.failed} check failed: {report.problem}")
        return
    _verify_proof(file, checkpoint, public_key)


def _verify_proof(proof: Path, checkpoint: Path, public_key: Path | None) -> None:
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
        raise _fail(proof, str(result["problem"]))


@app.command("keys")
@handle_errors
def keys() -> None:
    """The public keys that verify signed receipts (the JWK Set served at /.well-known/jwks.json)."""
    from consentry.receipts.signing import jwks

    print_json(jwks(open_store().secrets))


@app.command("rotate-key")
@handle_errors
def rotate_key(at: str | None = typer.Option(None, "--at", help="When the key is made [default: now].")) -> None:
    """Make a new current signing key; earlier keys stay listed, so receipts they signed still verify."""
    from consentry.receipts.signing import jwks, rotate_key

    store = open_store(access="write")
    kid = rotate_key(store.secrets, when(at))
    print_json({"current": kid, "keys": [k["kid"] for k in jwks(store.secrets)["keys"]]})
