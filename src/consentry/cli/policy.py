"""`consentry policy validate|publish|versions`."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import handle_errors, open_store, print_json

app = typer.Typer(help="Validate and publish the policy file; list published versions.", no_args_is_help=True)


@app.command("validate")
@handle_errors
def validate(file: Path = typer.Argument(..., help="The policy YAML file.")) -> None:
    """Check a policy file: errors as `file:line: field: message` (exit 1), warnings on stderr."""
    from consentry.cli._common import err_console
    from consentry.policy import check_policy

    policy, issues = check_policy(file)
    for issue in issues:
        err_console.print(str(issue), highlight=False, soft_wrap=True, markup=False)
    if policy is None:
        raise typer.Exit(1)
    print_json(
        {
            "policy": policy.name,
            "valid": True,
            "versions": [{"version": v.version, "sha256": v.sha256} for v in policy.versions],
            "warnings": len(issues),
        }
    )


@app.command("publish")
@handle_errors
def publish(file: Path = typer.Argument(..., help="The policy YAML file.")) -> None:
    """Store every version in FILE (identical versions are left as they are; changed ones refused)."""
    from consentry.policy import load_policy

    outcomes = open_store(access="create").publish(load_policy(file))
    print_json({"published": [{"version": o.version, "sha256": o.sha256, "status": o.status} for o in outcomes]})


@app.command("versions")
@handle_errors
def versions() -> None:
    """List the published versions."""
    print_json(
        [
            {
                "policy": v.policy,
                "version": v.version,
                "sha256": v.sha256,
                "published_at": v.published_at,
                "effective_at": v.effective_at,
                "stored_at": v.stored_at,
            }
            for v in open_store().published_versions()
        ]
    )
