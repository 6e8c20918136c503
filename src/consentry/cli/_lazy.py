"""A command group that imports a command's module only when that command is used.

`consentry --help` lists every command from a table of names and help lines without
importing any of them; `consentry policy …` imports `consentry.cli.policy` alone. A
test (tests/cli/test_lazy.py) holds each help line equal to the real command's help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter

__all__ = ["Kind", "LazyEntry", "LazyGroup"]


class Kind(StrEnum):
    """How a module's object becomes a command."""

    COMMAND = "command"  # a function, as `app.command(name)(function)` registers it
    GROUP = "group"  # a `typer.Typer`, as `app.add_typer(sub_app, name=name)` adds it


@dataclass(frozen=True)
class LazyEntry:
    """Where one command lives, and the help line `consentry --help` shows for it."""

    module: str
    attribute: str
    kind: Kind
    help: str


class _Commands(MutableMapping[str, "Command"]):
    """The group's commands by name: the names are known up front, each command is built on first access."""

    def __init__(self, group: LazyGroup) -> None:
        self._group = group
        self._loaded: dict[str, Command] = {}

    def loaded(self, name: str) -> Command | None:
        return self._loaded.get(name)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            if name not in self._group.entries:
                raise KeyError(name)
            self._loaded[name] = self._group.load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands cannot be removed from the consentry CLI")

    def __iter__(self) -> Iterator[str]:
        yield from self._group.entries
        yield from (name for name in self._loaded if name not in self._group.entries)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class LazyGroup(TyperGroup):
    """A Typer group whose commands, listed in `entries`, are imported on first use.

    Subclass it with `entries` set and pass the subclass as `typer.Typer(cls=...)`.
    """

    entries: ClassVar[Mapping[str, LazyEntry]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        registered = dict(self.commands)
        self.commands = _Commands(self)
        self.commands.update(registered)

    def load(self, name: str) -> Command:
        """Import the command's module and build its command as the eager registration would."""
        entry = self.entries[name]
        target = getattr(importlib.import_module(entry.module), entry.attribute)
        host = typer.Typer(rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands)
        if entry.kind is Kind.GROUP:
            host.add_typer(target, name=name)
        else:
            host.command(name)(target)
        return typer.main.get_group(host).commands[name]

    def list_commands(self, ctx: Context) -> list[str]:
        """The command names, in table order, without importing any command."""
        return list(self.commands)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command `cmd_name`; while help is being written, a stand-in carrying its help line."""
        assert isinstance(self.commands, _Commands)
        entry = self.entries.get(cmd_name)
        if self._listing and entry is not None and self.commands.loaded(cmd_name) is None:
            return TyperCommand(cmd_name, help=entry.help, rich_markup_mode=self.rich_markup_mode)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The group's help, listing every command without importing any."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
