"""`consentry objection file|extend|decide|show|list`."""

from __future__ import annotations

from enum import StrEnum

import typer

from consentry.cli._common import handle_errors, open_store, print_json, stamp, when
from consentry.vocab import CaseStatus

app = typer.Typer(help="File and decide objections (the objection form's cases).", no_args_is_help=True)


class Outcome(StrEnum):
    """The decisions staff can take on a case."""

    UPHELD = "upheld"
    REJECTED = "rejected"


@app.command("file")
@handle_errors
def file(
    member: str = typer.Option(..., "--member", help="Member id."),
    purpose: list[str] = typer.Option(..., "--purpose", help="A purpose objected to (repeatable)."),
    at: str | None = typer.Option(None, "--at", help="When it was received (default now)."),
    text: str | None = typer.Option(None, "--text", help="The member's words, if any (no reason is required)."),
) -> None:
    """File an objection; prints the case id and its due date."""
    case = open_store(access="write").file_objection(member, purpose, when(at), text)
    print_json({"case_id": case.case_id, "due_by": case.due_by, "purposes": case.purposes})


@app.command("extend")
@handle_errors
def extend(
    case: str = typer.Argument(..., help="Case id."),
    reasons: str = typer.Option(..., "--reasons", help="The reasons sent to the member."),
    days: int = typer.Option(..., "--days", help="Days added to the deadline."),
    at: str | None = typer.Option(None, "--at", help="When the reasons were sent (default now)."),
) -> None:
    """Extend a case's deadline once, before it passes."""
    print_json(open_store(access="write").extend_objection(case, when(at), reasons, days))


@app.command("decide")
@handle_errors
def decide(
    case: str = typer.Argument(..., help="Case id."),
    outcome: Outcome = typer.Option(..., "--outcome", help="upheld or rejected."),
    grounds: str | None = typer.Option(None, "--grounds", help="Required to reject."),
    at: str | None = typer.Option(None, "--at", help="When it was decided (default now)."),
    actor: str | None = typer.Option(None, "--actor", help="Who decided."),
) -> None:
    """Uphold (records a deny per purpose) or reject (needs --grounds) an open case."""
    print_json(open_store(access="write").decide_objection(case, CaseStatus(outcome.value), stamp(at), grounds, actor))


@app.command("show")
@handle_errors
def show(case: str = typer.Argument(..., help="Case id.")) -> None:
    """Show one case."""
    print_json(open_store().objection(case))


@app.command("list")
@handle_errors
def list_(
    member: str | None = typer.Option(None, "--member", help="Only this member's cases."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open cases past their due date."),
    at: str | None = typer.Option(None, "--at", help="With --overdue: overdue as of this time (default now)."),
) -> None:
    """List cases, oldest first."""
    from consentry.timeutil import utcnow

    overdue_at = (when(at) if at else utcnow()) if overdue else None
    print_json(open_store().objections(member_id=member, overdue_at=overdue_at))
