"""Reading a policy's YAML within bounds, so that a few hundred bytes cannot cost minutes or gigabytes.

YAML aliases let a small file stand for a huge document (nine levels of nine aliases
are 9⁹ nodes in under 400 bytes), an alias inside its own anchor makes a cycle, and
deep nesting exhausts Python's recursion limit. Before the document is built, one pass
over the parser's events (streamed, never recursive) refuses a file that is:

- larger than `MAX_POLICY_BYTES`;
- nested more than `MAX_DEPTH` mappings and lists deep;
- more than `MAX_NODES` nodes once every alias is expanded;
- using an alias inside the node it names (a cycle).

Each refusal names the limit and the line where it was crossed. The document is then
built once, and a key given twice in one mapping is refused (YAML would keep the last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from consentry.errors import PolicyIssue

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_POLICY_BYTES", "PolicyLoader", "YamlDocument", "read_yaml", "too_large"]

#: Largest policy file, in bytes (the reference policy is about 5 kB).
MAX_POLICY_BYTES = 256 * 1024
#: Deepest nesting of mappings and lists (the reference policy nests 8 deep).
MAX_DEPTH = 32
#: Most nodes (scalars, mappings, lists) the document may have with every alias expanded
#: (the reference policy has about 400).
MAX_NODES = 20_000

_FIELD = "(yaml)"


class PolicyLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so Norway's `NO` stays a country code."""


PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

# The bounds pass needs events only; libyaml's parser gives them fastest when it is there.
_EventLoader: Any = getattr(yaml, "CSafeLoader", PolicyLoader)


@dataclass(frozen=True)
class YamlDocument:
    """The composed node tree (for line numbers) and the data built from it."""

    node: yaml.Node | None
    data: Any


class _Refused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def read_yaml(text: str, file: str) -> YamlDocument | list[PolicyIssue]:
    """The document in `text`, or the issues that refuse it (bounds, syntax, duplicate keys)."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_POLICY_BYTES:
        return [too_large(file, raw)]
    try:
        try:
            _check_bounds(text, _EventLoader)
        except yaml.YAMLError:  # libyaml stopped: bound what the Python parser below will read
            _check_bounds(text, PolicyLoader)
    except _Refused as e:
        return [PolicyIssue(file, e.line, _FIELD, e.message)]
    except yaml.YAMLError:
        pass  # the loader below stops at the same place and reports it, with its own wording
    try:
        node, data = _load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or "invalid YAML"
        return [PolicyIssue(file, line, _FIELD, f"{problem}; fix the YAML syntax")]
    except RecursionError:  # only if the bounds pass stopped early at a syntax error
        return [PolicyIssue(file, None, _FIELD, f"nested more than {MAX_DEPTH} levels deep, the limit; flatten it")]
    duplicates = _duplicate_keys(node, file)
    return duplicates or YamlDocument(node, data)


def _load(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose the document once and build its data from the same nodes."""
    loader = PolicyLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def too_large(file: str, raw: bytes) -> PolicyIssue:
    """The issue for a file whose bytes `raw` (or their first part) pass MAX_POLICY_BYTES, on the line passing it."""
    line = raw[:MAX_POLICY_BYTES].count(b"\n") + 1
    message = f"the file is larger than the limit of {MAX_POLICY_BYTES:,} bytes; split or shorten it"
    return PolicyIssue(file, line, _FIELD, message)


def _check_bounds(text: str, loader: Any) -> None:
    """Walk the parser's events: depth, expanded size and alias cycles, without building anything."""
    sizes: dict[str, int] = {}  # anchor -> expanded size of the node it names
    stack: list[list[Any]] = []  # open mappings and lists: [anchor, expanded size so far]
    total = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in stack):
                raise _Refused(line, f"alias *{event.anchor} is inside the node it names (a cycle); write it out")
            added = sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            added = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep, the limit; flatten it")
            stack.append([event.anchor, 1])
            added = 0
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, added = stack.pop()
            if anchor is not None:
                sizes[anchor] = added
            if stack:
                stack[-1][1] += added
            continue
        else:
            continue
        if stack:
            stack[-1][1] += added
        total += added
        if total > MAX_NODES:
            raise _Refused(
                line,
                f"the document expands to more than {MAX_NODES:,} nodes, the limit"
                " (aliases count as the nodes they stand for); write repeated parts out or shorten it",
            )


def _duplicate_keys(root: yaml.Node | None, file: str) -> list[PolicyIssue]:
    """A key given twice in one mapping, each time it happens (YAML alone keeps the last silently)."""
    issues: list[PolicyIssue] = []
    seen: set[int] = set()
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in first:
                        issues.append(
                            PolicyIssue(
                                file,
                                line,
                                str(key.value),
                                f"key given twice in one mapping (first on line {first[key.value]}); keep one",
                            )
                        )
                    first.setdefault(key.value, line)
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return sorted(issues, key=lambda i: i.line or 0)
