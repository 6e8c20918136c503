"""The `consentry` command line: every command is parse → one library call → render.

Each command or command group lives in its own module and is listed in `_COMMANDS`
below (one entry each, with the help line `consentry --help` shows). A module is
imported only when its command is used, so every call starts fast.
"""

from __future__ import annotations

import typer

from consentry.cli._lazy import Kind, LazyEntry, LazyGroup

_COMMANDS = {
    "build": LazyEntry(
        "consentry.cli.build",
        "build_command",
        Kind.COMMAND,
        "Build a consent-filtered training dataset; prints the build summary as JSON.",
    ),
    "decide": LazyEntry(
        "consentry.cli.decide",
        "decide_command",
        Kind.COMMAND,
        "May this member's data be used for this purpose as of T? Prints the decision and its evidence.",
    ),
    "demo": LazyEntry(
        "consentry.cli.demo",
        "demo_command",
        Kind.COMMAND,
        "Publish the reference policy, generate a platform, replay the story.",
    ),
    "serve": LazyEntry(
        "consentry.cli.serve",
        "serve_command",
        Kind.COMMAND,
        "Serve the member pages, the staff console and the JSON API.",
    ),
    "builds": LazyEntry(
        "consentry.cli.build",
        "builds_app",
        Kind.GROUP,
        "Registered builds: list, show, lineage per member, stale builds, rebuild.",
    ),
    "models": LazyEntry(
        "consentry.cli.models",
        "app",
        Kind.GROUP,
        "Models trained on builds, and the forgetting obligations withdrawals open against them.",
    ),
    "audit": LazyEntry(
        "consentry.cli.audit",
        "app",
        Kind.GROUP,
        "Audit trained models: memorisation of planted canaries and members' data, and forgetting.",
    ),
    "staff": LazyEntry(
        "consentry.cli.serve",
        "staff_app",
        Kind.GROUP,
        "Named staff accounts, their API keys (stored hashed) and the audit log.",
    ),
    "scrub": LazyEntry(
        "consentry.cli.scrub",
        "app",
        Kind.GROUP,
        "Find and rewrite personal data in text (JSONL lines carrying `text`).",
    ),
    "policy": LazyEntry(
        "consentry.cli.policy",
        "app",
        Kind.GROUP,
        "Validate and publish the policy file; list published versions.",
    ),
    "members": LazyEntry("consentry.cli.members", "app", Kind.GROUP, "Import and look up members."),
    "consent": LazyEntry("consentry.cli.consent", "app", Kind.GROUP, "Record and inspect members' consent choices."),
    "objection": LazyEntry(
        "consentry.cli.objection",
        "app",
        Kind.GROUP,
        "File and decide objections (the objection form's cases).",
    ),
    "ledger": LazyEntry(
        "consentry.cli.ledger",
        "app",
        Kind.GROUP,
        "Check the consent ledger's hash chain; sign checkpoints and prove events against them.",
    ),
    "store": LazyEntry(
        "consentry.cli.store", "app", Kind.GROUP, "Back up and restore a SQLite store (online, consistent)."
    ),
    "receipts": LazyEntry(
        "consentry.cli.receipts",
        "app",
        Kind.GROUP,
        "Verify signed receipts (against the store) and event proofs (against a checkpoint); rotate receipt keys.",
    ),
    "signals": LazyEntry(
        "consentry.cli.signals", "app", Kind.GROUP, "Rights holders' signals: what a page or a captured file reserves."
    ),
}


class _Consentry(LazyGroup):
    """The `consentry` group: the commands above, each imported when used."""

    entries = _COMMANDS


app = typer.Typer(
    name="consentry",
    help="Consent-aware, disclosed-in-advance, PII-scrubbed training data — and the proof.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Consentry,
)


@app.callback()
def _consentry() -> None:
    # Makes `app` a group although it registers no command itself; the commands come from `_COMMANDS`.
    pass


def main() -> None:
    """Entry point of the `consentry` script."""
    from consentry.cli._edge import EDGE_ERRORS
    from consentry.errors import ConsentryError

    caught: tuple[type[BaseException], ...] = (ConsentryError, *EDGE_ERRORS)
    try:
        app()
    except caught as e:  # raised outside a command, e.g. while loading one
        from consentry.cli._common import fail
        from consentry.cli._edge import describe

        fail(str(e) if isinstance(e, ConsentryError) else describe(e))
        raise SystemExit(1) from None
