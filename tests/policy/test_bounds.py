"""The policy loader's bounds: alias bombs, cycles, deep nesting, size and duplicate keys.

Each is refused naming the limit and the line, never a RecursionError, and within one
CPU-second (measured as CPU time of this process, so a busy machine does not matter).
"""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consentry.cli import app
from consentry.errors import PolicyValidationError
from consentry.policy import check_policy, load_policy_text
from consentry.policy.yaml_reader import MAX_DEPTH, MAX_NODES, MAX_POLICY_BYTES
from policy.test_loader import MINIMAL

#: An expanded alias bomb or an unbounded nesting costs minutes of CPU; a bounded reader answers in
#: well under a second. The margin is for CPU time inflated by a loaded machine (seen: 1.04 s at load 50).
CPU_BOUND_S = 5.0


@contextmanager
def within_the_cpu_bound() -> Iterator[None]:
    start = time.process_time()
    yield
    assert time.process_time() - start < CPU_BOUND_S


def _issues(text: str) -> list[str]:
    with within_the_cpu_bound(), pytest.raises(PolicyValidationError) as err:
        load_policy_text(text, "p.yaml")
    return [str(i) for i in err.value.issues]


def _bomb(levels: int, width: int = 9) -> str:
    """`levels` anchors, each a list of `width` aliases of the one before: width ** levels nodes."""
    names = string.ascii_lowercase
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [{', '.join([f'*{names[i - 1]}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_a_nine_level_alias_bomb_is_refused_at_the_line_it_passes_the_limit() -> None:
    bomb = _bomb(9)
    assert len(bomb) < 400
    issues = _issues(bomb)
    assert len(issues) == 1
    assert issues[0].startswith("p.yaml:5: (yaml): the document expands to more than 20,000 nodes, the limit")


def test_the_same_bomb_through_the_cli_is_one_line_within_the_cpu_bound(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(9, width=10), encoding="utf-8")
    start = time.process_time()
    result = CliRunner().invoke(app, ["policy", "validate", str(path)])
    assert time.process_time() - start < CPU_BOUND_S
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{path}:5: (yaml): the document expands to more than {MAX_NODES:,} nodes, the limit"
        " (aliases count as the nodes they stand for); write repeated parts out or shorten it"
    ]


def test_an_alias_inside_its_own_anchor_is_a_cycle_not_a_recursion_error() -> None:
    issues = _issues("policy: p\nversions: &v [*v]\n")
    assert issues == ["p.yaml:2: (yaml): alias *v is inside the node it names (a cycle); write it out"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 100_000])
def test_deep_nesting_is_refused_naming_the_limit(depth: int) -> None:
    flow = "policy: p\nversions: " + "[" * depth + "]" * depth + "\n"
    block = "policy: p\nversions:\n" + "".join(" " * i + "- \n" for i in range(min(depth, 600)))
    for text in (flow, block):
        (issue,) = _issues(text)
        assert f"(yaml): nested more than {MAX_DEPTH} levels deep, the limit; flatten it" in issue
        assert issue.startswith("p.yaml:2: ") or issue.startswith(f"p.yaml:{MAX_DEPTH + 2}: ")


def test_nesting_and_nodes_up_to_the_limits_are_read() -> None:
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert "(root)" in _issues(f"- {deep}\n")[0]  # read, then refused for not being a mapping
    many = "[" + ", ".join(["1"] * (MAX_NODES - 2)) + "]"
    assert "(root)" in _issues(f"- {many}\n")[0]
    (issue,) = _issues(f"- {many[:-1]}, 1]\n")
    assert "expands to more than 20,000 nodes" in issue


def test_an_oversized_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as f:
        f.write("policy: p\n")
        for i in range(2_000_000):
            f.write(f"# comment line {i}\n")
    with within_the_cpu_bound():
        policy, issues = check_policy(path)
    assert policy is None
    (issue,) = issues
    assert issue.line is not None and issue.line > 10_000  # the line where the limit is passed
    assert str(issue).startswith(f"{path}:{issue.line}: (yaml): the file is larger than the limit of 262,144 bytes")
    (text_issue,) = _issues("#" * MAX_POLICY_BYTES + "\n")
    assert text_issue.startswith("p.yaml:1: (yaml): the file is larger than the limit of 262,144 bytes")


def test_a_key_given_twice_is_refused_with_both_lines() -> None:
    text = MINIMAL.replace("        mode: opt_in\n", "        mode: opt_in\n        mode: opt_out\n")
    assert _issues(text) == ["p.yaml:16: mode: key given twice in one mapping (first on line 15); keep one"]
    twice = MINIMAL + "policy: other\n"
    assert _issues(twice) == ["p.yaml:19: policy: key given twice in one mapping (first on line 1); keep one"]


def test_aliases_within_the_bounds_still_load() -> None:
    text = MINIMAL.replace("  NORDIC: [NO, SE, DK]", "  NORDIC: &nordic [NO, SE, DK]\n  NORTH: *nordic")
    text = text.replace("{countries: [NORDIC], mode: excluded}", "{countries: *nordic, mode: excluded}")
    policy = load_policy_text(text, "p.yaml")
    region = policy.versions[0].purposes["genai_training"].regions[0]
    assert sorted(region.countries) == ["DK", "NO", "SE"]


# --- fuzz: anchors, aliases, nesting and repeated keys never crash the loader or run away ----------


def _nodes(depth: int) -> st.SearchStrategy[str]:
    scalar = st.sampled_from(["x", "1", "NO", "*a", "*b", "&a x", "&b [x]", "true", "''"])
    if depth == 0:
        return scalar
    inner = _nodes(depth - 1)
    return st.one_of(
        scalar,
        st.lists(inner, max_size=9).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["k", "policy", "versions", "<<"]), inner), max_size=4).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.tuples(st.sampled_from(["&a ", "&b ", ""]), inner).map("".join),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_nodes(4), min_size=1, max_size=6), st.integers(0, 700))
def test_fuzzed_yaml_with_aliases_and_nesting_loads_or_reports_located_issues(values: list[str], nest: int) -> None:
    text = "policy: p\n" + "".join(f"k{i}: {v}\n" for i, v in enumerate(values))
    text += "versions: " + "[" * nest + "]" * nest + "\n"
    start = time.process_time()
    try:
        load_policy_text(text, "f.yaml")
    except PolicyValidationError as e:
        assert e.issues and all(i.file == "f.yaml" and i.field and i.message for i in e.issues)
    assert time.process_time() - start < CPU_BOUND_S


def test_the_reference_policy_is_well_inside_every_bound() -> None:
    text = (Path(__file__).resolve().parents[2] / "examples" / "policies" / "social-network.yaml").read_text()
    events = list(yaml.parse(text))
    assert len(text.encode()) * 10 < MAX_POLICY_BYTES and len(events) * 10 < MAX_NODES
