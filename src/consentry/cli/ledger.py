"""`consentry ledger verify|head|keygen|checkpoint|prove`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from consentry.cli._common import handle_errors, open_store, print_json, when

app = typer.Typer(
    help="Check the consent ledger's hash chain; sign checkpoints and prove events against them.",
    no_args_is_help=True,
)

_KEY_HELP = (
    "Public key (PEM) the checkpoints are checked with "
    "[default: CONSENTRY_CHECKPOINT_PUBLIC_KEY, else DIR/public-key.pem]."
)


def _problem(message: str) -> None:
    from consentry.cli._common import err_console  # rich: only when there is a problem to print

    err_console.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)


@app.command("verify")
@handle_errors
def verify(
    checkpoints: Path | None = typer.Option(
        None, "--checkpoints", help="Directory of signed checkpoints the chain must extend."
    ),
    manifests: list[Path] = typer.Option(
        [], "--manifests", help="Build manifest, or a directory searched for manifest.json files (repeatable)."
    ),
    public_key: Path | None = typer.Option(None, "--public-key", help=_KEY_HELP),
) -> None:
    """Walk the hash chain: exit 0 if intact (and consistent with every checkpoint and manifest given), else exit 1."""
    store = open_store()
    if checkpoints is None and not manifests:
        report = store.verify()
        print_json(report)
        if not report.ok:
            _problem(f"ledger does not verify at event {report.first_bad_event}: {report.problem}")
            raise typer.Exit(1)
        return
    from consentry.store import anchors
    from consentry.store import checkpoints as cps

    found: list[cps.Anchor] = []
    if checkpoints is not None:
        key = cps.load_public_key(_public_key_path(public_key, checkpoints))
        found += cps.anchors_from_checkpoints(cps.read_checkpoints(checkpoints), key)
    found += cps.anchors_from_manifests(manifests)
    result = anchors.verify_against(store, found)
    print_json(result.to_dict())
    if not result.ok:
        first = result.contradictions[0]
        _problem(f"{first['kind']} {first['source']} is contradicted by the ledger: {first['problem']}")
        raise typer.Exit(1)


def _public_key_path(given: Path | None, directory: Path | None) -> Path:
    from consentry.store.checkpoints import PUBLIC_KEY_FILE

    if given is not None:
        return given
    if os.environ.get("CONSENTRY_CHECKPOINT_PUBLIC_KEY"):
        return Path(os.environ["CONSENTRY_CHECKPOINT_PUBLIC_KEY"])
    if directory is not None:
        return directory / PUBLIC_KEY_FILE
    from consentry.errors import InputError

    raise InputError("name the public key: --public-key FILE or CONSENTRY_CHECKPOINT_PUBLIC_KEY")


@app.command("head")
@handle_errors
def head() -> None:
    """The number of events and the hash of the last one."""
    events, head_hash = open_store().head()
    print_json({"events": events, "head_hash": head_hash})


@app.command("keygen")
@handle_errors
def keygen(out: Path = typer.Option(..., "--out", help="Where to write the new private key (PEM, mode 0600).")) -> None:
    """Create an Ed25519 checkpoint key; keep it outside the store (CONSENTRY_CHECKPOINT_KEY_FILE)."""
    from consentry.store.checkpoints import generate_key

    kid, public_pem = generate_key(out)
    print_json({"key_file": str(out), "key_id": kid, "public_key": public_pem})


@app.command("checkpoint")
@handle_errors
def checkpoint(
    directory: Path | None = typer.Option(
        None, "--dir", help="Write the checkpoint here [default: CONSENTRY_CHECKPOINT_DIR]."
    ),
    witness: str | None = typer.Option(
        None, "--witness", help="Command given the checkpoint's JSON on stdin [default: CONSENTRY_CHECKPOINT_WITNESS]."
    ),
    at: str | None = typer.Option(None, "--at", help="The checkpoint's time [default: now]."),
) -> None:
    """Verify the chain, then sign its size, head hash and Merkle root and hand it to the witnesses."""
    from consentry.errors import InputError
    from consentry.store import anchors
    from consentry.store import checkpoints as cps

    directory = directory or (
        Path(os.environ["CONSENTRY_CHECKPOINT_DIR"]) if os.environ.get("CONSENTRY_CHECKPOINT_DIR") else None
    )
    witness = witness or os.environ.get("CONSENTRY_CHECKPOINT_WITNESS") or None
    if directory is None and witness is None:
        raise InputError("say where the checkpoint goes: --dir DIR and/or --witness CMD (or CONSENTRY_CHECKPOINT_DIR)")
    print_json(anchors.checkpoint_to(open_store(), cps.load_private_key(), when(at), directory, witness))


@app.command("prove")
@handle_errors
def prove(
    event: int = typer.Option(..., "--event", help="The event's id."),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Prove against this checkpoint's tree [default: the whole ledger now]."
    ),
) -> None:
    """One event with its Merkle audit path: a receipt anyone can check against a checkpoint."""
    from consentry.store import anchors
    from consentry.store import checkpoints as cps

    signed = cps.read_checkpoint(checkpoint) if checkpoint is not None else None
    print_json(anchors.prove_event(open_store(), event, signed))
