"""`consentry decide`: replay one decision as of any moment."""

from __future__ import annotations

import typer

from consentry.cli._common import handle_errors, open_store, print_json, when


@handle_errors
def decide_command(
    member: str = typer.Option(..., "--member", help="Member id."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose name, as in the policy."),
    at: str | None = typer.Option(None, "--at", help="Moment T (RFC 3339); default now."),
    now: str | None = typer.Option(
        None, "--now", help="Also apply withdrawals recorded up to this moment (as a build would)."
    ),
    kind: str | None = typer.Option(None, "--kind", help="Record kind, e.g. post."),
    visibility: str | None = typer.Option(None, "--visibility", help="public | connections | private."),
) -> None:
    """May this member's data be used for this purpose as of T? Prints the decision and its evidence."""
    from consentry.decide import decide_for
    from consentry.timeutil import parse_instant

    at_t = when(at)
    now_t = parse_instant(now, field="--now") if now else None
    decision = decide_for(open_store(), member, purpose, at=at_t, now=now_t, kind=kind, visibility=visibility)
    print_json(decision.to_dict())
