"""`consentry demo`: the whole story on an embedded store."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from consentry.cli._common import console, handle_errors


@handle_errors
def demo_command(
    directory: Path = typer.Option(Path(".consentry-demo"), "--dir", help="Where the demo store goes (recreated)."),
    members: int = typer.Option(20_000, "--members", min=100, help="How many synthetic members."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file (default: the reference policy)."),
) -> None:
    """Publish the reference policy, generate a platform, replay the story."""
    from consentry.demo import run_demo

    result = run_demo(directory, members=members, policy_path=policy, console=console)
    console.print(
        "\nNext: browse it —\n"
        f"  CONSENTRY_DB={escape(result.db_url)} .venv/bin/consentry serve --demo\n"
        "  then open http://127.0.0.1:8000/ (member pages) and http://127.0.0.1:8000/admin (staff console)"
    )
    if result.opted_out_member is not None:
        page = escape(f"http://127.0.0.1:8000/in/{result.opted_out_member}")
        console.print(f"  an opted-out member's public page, with its signal headers: curl -sI {page}")
