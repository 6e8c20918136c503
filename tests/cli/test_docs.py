"""Every command is documented in docs/cli.md, and the library's stated public surface is honest."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

import consentry
from consentry.cli import app

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def _commands(cmd: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from _commands(sub, (*prefix, name))
    else:
        yield " ".join(prefix)


def test_every_command_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) > 20
    missing = [c for c in commands if f"### `consentry {c}`" not in text]
    assert not missing, f"document these in docs/cli.md: {missing}"


def test_public_api_is_exported_and_importable() -> None:
    for name in consentry.__all__:
        assert getattr(consentry, name) is not None, name
    for module in (
        "consentry.policy",
        "consentry.store",
        "consentry.decide",
        "consentry.rules",
        "consentry.rules.records",
        "consentry.pipeline",
        "consentry.scrub",
        "consentry.signals.reservation",
        "consentry.signals.headers",
    ):
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", []):
            assert hasattr(mod, name), f"{module}.{name}"


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert set(consentry.__all__) - {"__version__"} == set(consentry._EXPORTS)
