"""Country codes and named country groups (EU, EEA, …), with nesting and cycle checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import pycountry

__all__ = ["expand", "is_country", "resolve_groups"]

# Kosovo uses a user-assigned code that platforms see in practice.
_EXTRA_CODES = frozenset({"XK"})


@cache
def _codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | _EXTRA_CODES


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case) that exists."""
    return code in _codes()


class GroupCycleError(ValueError):
    """A country group contains itself, directly or through other groups."""

    def __init__(self, cycle: list[str]):
        self.cycle = cycle
        super().__init__(" -> ".join(cycle))


def resolve_groups(groups: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Expand nested groups into plain sets of country codes.

    Raises GroupCycleError on a cycle and KeyError naming an entry that is
    neither a country code nor a group.
    """
    resolved: dict[str, frozenset[str]] = {}

    def visit(name: str, stack: list[str]) -> frozenset[str]:
        if name in resolved:
            return resolved[name]
        if name in stack:
            raise GroupCycleError([*stack[stack.index(name) :], name])
        out: set[str] = set()
        for entry in groups[name]:
            if entry in groups:
                out |= visit(entry, [*stack, name])
            elif is_country(entry):
                out.add(entry)
            else:
                raise KeyError(entry)
        resolved[name] = frozenset(out)
        return resolved[name]

    for name in groups:
        visit(name, [])
    return resolved


def expand(entries: Iterable[str], groups: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Country codes named by `entries` (codes or group names, already validated)."""
    out: set[str] = set()
    for e in entries:
        out |= groups.get(e, frozenset({e}))
    return frozenset(out)
