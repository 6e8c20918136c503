"""The `consentry` command line: every command is parse → one library call → render.

Each command group lives in its own module and is registered here.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="consentry",
    help="Consent-aware, disclosed-in-advance, PII-scrubbed training data — and the proof.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command groups register themselves below (one line each).
from consentry.cli import consent as _consent  # noqa: E402
from consentry.cli import ledger as _ledger  # noqa: E402
from consentry.cli import members as _members  # noqa: E402
from consentry.cli import objection as _objection  # noqa: E402
from consentry.cli import policy as _policy  # noqa: E402
from consentry.cli.build import build_command, builds_app  # noqa: E402
from consentry.cli.decide import decide_command  # noqa: E402
from consentry.cli.demo import demo_command  # noqa: E402
from consentry.cli.scrub import app as _scrub_app  # noqa: E402
from consentry.cli.serve import register as _register_serve  # noqa: E402

app.command("build")(build_command)
app.add_typer(builds_app, name="builds")
app.command("decide")(decide_command)
app.command("demo")(demo_command)
_register_serve(app)
app.add_typer(_scrub_app, name="scrub")
for _name, _group in (
    ("policy", _policy),
    ("members", _members),
    ("consent", _consent),
    ("objection", _objection),
    ("ledger", _ledger),
):
    app.add_typer(_group.app, name=_name)


def main() -> None:
    """Entry point of the `consentry` script."""
    app()
