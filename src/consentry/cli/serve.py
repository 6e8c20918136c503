"""`consentry serve` (the web service) and `consentry staff …` (staff accounts, API keys, the audit log)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from consentry.cli._common import console, err_console, handle_errors, open_store, print_json, settings
from consentry.config import Settings
from consentry.errors import InputError

if TYPE_CHECKING:
    from consentry.service.checkpoints import CheckpointSchedule
    from consentry.service.staff import StaffRole

__all__ = ["register", "serve_command", "staff_app"]

DEMO_DB = Path(".consentry-demo") / "consentry.db"

staff_app = typer.Typer(
    help="Named staff accounts, their API keys (stored hashed) and the audit log.", no_args_is_help=True
)


def _role(value: str) -> StaffRole:
    from consentry.service.staff import StaffRole

    try:
        return StaffRole(value)
    except ValueError:
        raise InputError(f"{value!r} is not a role; use viewer, reviewer or publisher", field="--role") from None


@staff_app.command("add-account")
@handle_errors
def add_account(
    role: str = typer.Option(..., "--role", help="viewer, reviewer (objections) or publisher (policy, builds)."),
    name: str = typer.Option(..., "--name", help="The staff member's or service's name."),
) -> None:
    """Create a named staff account (OpenID Connect sign-ins create theirs on first sign-in)."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store(access="write")).add_account(name, _role(role)))


@staff_app.command("list-accounts")
@handle_errors
def list_accounts() -> None:
    """Every staff account (ids, names, roles, provider subjects, last sign-in)."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store()).list_accounts())


@staff_app.command("disable-account")
@handle_errors
def disable_account(account_id: str = typer.Argument(..., help="The account id (from list-accounts).")) -> None:
    """Disable an account at once: its keys stop working and its console sessions end."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store(access="write")).disable_account(account_id))


@staff_app.command("add-key")
@handle_errors
def add_key(
    role: str = typer.Option(..., "--role", help="viewer, reviewer (objections) or publisher (policy, builds)."),
    name: str = typer.Option(..., "--name", help="Who or what holds the key."),
    account: str | None = typer.Option(
        None, "--account", help="The account the key acts for (default: a new account named like the key)."
    ),
) -> None:
    """Create a staff API key for an account; the secret is printed once and only its hash is stored."""
    from consentry.service.staff import StaffRegistry

    issued = StaffRegistry(open_store(access="write")).add_key(name, _role(role), account_id=account)
    print_json(
        {
            "key_id": issued.key.key_id,
            "role": issued.key.role,
            "name": issued.key.name,
            "account_id": issued.key.account_id,
            "api_key": issued.secret,
        }
    )
    err_console.print("Keep the api_key now: it cannot be shown again.")


@staff_app.command("list-keys")
@handle_errors
def list_keys() -> None:
    """Every staff key (ids, names, roles; never secrets)."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store()).list_keys())


@staff_app.command("revoke")
@handle_errors
def revoke(key_id: str = typer.Argument(..., help="The key id (from list-keys).")) -> None:
    """Revoke a staff key at once."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store(access="write")).revoke(key_id))


@staff_app.command("audit")
@handle_errors
def audit(limit: int = typer.Option(100, "--limit", min=1, max=1000)) -> None:
    """The latest staff actions, newest first."""
    from consentry.service.staff import StaffRegistry

    print_json(StaffRegistry(open_store()).audit_entries(limit))


def _demo_settings() -> Settings:
    s = settings()
    if os.environ.get("CONSENTRY_DB") or not DEMO_DB.exists():
        return s
    return Settings(db_url=f"sqlite:///{DEMO_DB}", policy_path=s.policy_path, pseudonym_key=s.pseudonym_key)


@handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    demo: bool = typer.Option(False, "--demo", help="Enable the demo sign-in page and print demo staff keys."),
    as_of: str | None = typer.Option(None, "--as-of", help="Run the clock from this moment (demos)."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (state they share is in the store)."
    ),
    checkpoint_every: float | None = typer.Option(
        None,
        "--checkpoint-every",
        min=0.01,
        help="Take a signed ledger checkpoint every this many minutes (key: CONSENTRY_CHECKPOINT_KEY_FILE; "
        "into CONSENTRY_CHECKPOINT_DIR and/or CONSENTRY_CHECKPOINT_WITNESS).",
    ),
) -> None:
    """Serve the member pages, the staff console and the JSON API."""
    from consentry.service import ServiceConfig
    from consentry.service.workers import serve
    from consentry.timeutil import parse_instant

    s = _demo_settings() if demo else settings()
    store = open_store(s, access="create" if demo else "write")
    overrides: dict[str, object] = {"demo": demo, "served_host": host}
    if demo:
        overrides["cookie_secure"] = False
        lake = DEMO_DB.parent / "lake" / "records-000.jsonl"
        if lake.exists():  # the demo's public pages show its lake's public posts (workers read the environment)
            os.environ.setdefault("CONSENTRY_PUBLIC_LAKE", str(lake))
    if as_of:
        overrides["clock_start"] = parse_instant(as_of, field="--as-of")
    config = ServiceConfig.from_environ(os.environ, **overrides)
    if demo:
        from consentry.demo.staff_keys import rotate_demo_staff_keys

        keys = rotate_demo_staff_keys(store)
        base = escape(f"http://{host}:{port}")
        console.print(
            f"[bold]Consentry demo[/] on {escape(s.db_url)}\n"
            f"  member pages:  {base}/demo/sign-in  (pick a demo member)\n"
            f"  staff console: {base}/admin/sign-in\n"
            f"    reviewer key:  {keys.reviewer}\n"
            f"    publisher key: {keys.publisher}\n"
            f"  JSON API:      {base}/openapi.json",
            highlight=False,
        )
    schedule = _checkpoints(s, checkpoint_every)
    try:
        serve(store, s.db_url, config, overrides, host, port, workers)
    finally:
        if schedule is not None:
            schedule.stop()


def _checkpoints(s: Settings, every_min: float | None) -> CheckpointSchedule | None:
    """The checkpoint schedule of `--checkpoint-every`, started (None without the option)."""
    if every_min is None:
        return None
    from consentry.service.checkpoints import CheckpointSchedule
    from consentry.store import checkpoints as cps

    directory = os.environ.get("CONSENTRY_CHECKPOINT_DIR") or None
    witness = os.environ.get("CONSENTRY_CHECKPOINT_WITNESS") or None
    if directory is None and witness is None:
        raise InputError("--checkpoint-every needs CONSENTRY_CHECKPOINT_DIR and/or CONSENTRY_CHECKPOINT_WITNESS")
    schedule = CheckpointSchedule(
        lambda: open_store(s), cps.load_private_key(), every_min * 60, Path(directory) if directory else None, witness
    )
    schedule.start()
    return schedule


def register(app: typer.Typer) -> None:
    """Add `serve` and the `staff` group to the CLI."""
    app.command("serve")(serve_command)
    app.add_typer(staff_app, name="staff")
