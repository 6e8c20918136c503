"""`consentry signals check`."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import handle_errors, print_json

app = typer.Typer(help="Rights holders' signals: what a page or a captured file reserves.", no_args_is_help=True)


@app.command("check")
@handle_errors
def check(
    target: str = typer.Argument(..., help="A page's http(s) URL, a captured signals .json file, or a media file."),
    url: str | None = typer.Option(None, "--url", help="For a .json file: the address it was captured at."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, max=120, help="Seconds for each fetch of a URL."),
) -> None:
    """Print the parsed reservation: the verdict, and per signal kind what was read and what it says."""
    from consentry.signals.check import check_file, check_url

    web = target.startswith(("http://", "https://"))
    print_json((check_url(target, timeout) if web else check_file(Path(target), url)).to_dict())
