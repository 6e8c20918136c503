"""Parsing rights holders' signals: each kind as its specification says, most restrictive wins, bad is unreadable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.signals.c2pa import cawg_state
from consentry.signals.captured import reservation_of, verdict_of, verdicts
from consentry.signals.parse import aipref_state, path_state, robots_rules, tdmrep_rules, x_robots_state
from signals.assets import signed_png, signer


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("train-ai=n", "n"),
        ("train-ai=y, search=n", "y"),
        ("search=n", "-"),  # says nothing about training
        ('train-ai=y;reason="x", ai-use=n', "y"),  # parameters and other categories ignored
        ("train-genai=n", "n"),  # the earlier drafts' label
        ("train-ai=y, train-genai=n", "n"),  # the most restrictive wins
        ('train-ai="n"', "?"),  # a string, not the token: unreadable (the draft says unknown; we exclude)
        ("train-ai", "?"),
        ("TRAIN-AI=n", "?"),  # keys are lowercase in Structured Fields
        ("train-ai==", "?"),
        ("train-ai=n, é=y", "?"),
        ("", "-"),
    ],
)
def test_content_usage_is_a_structured_fields_dictionary(value: str, state: str) -> None:
    assert aipref_state(value) == state


ROBOTS = """User-Agent: *
Allow: /
Disallow: /never/
Content-Usage: / train-ai=n
Content-Usage: /ai-ok/ train-ai=y   # a comment
content-usage :  /img/*.png$ train-ai=y

User-Agent: ExampleBot
Content-Usage: /bot-only/ train-ai=n
"""


@pytest.mark.parametrize(
    ("path", "state"),
    [("/test", "n"), ("/ai-ok/test", "y"), ("/img/a.png", "y"), ("/img/a.png?x=1", "n"), ("/bot-only/x", "n")],
)
def test_robots_content_usage_rules_take_the_longest_match_of_every_group(path: str, state: str) -> None:
    rules = robots_rules(ROBOTS)
    assert rules is not None
    assert path_state(rules, path, first=False) == state


def test_robots_rules_that_cannot_be_read() -> None:
    assert robots_rules("User-Agent: *\nContent-Usage: train-ai=n\n") is None  # no path
    assert robots_rules("Content-Usage: /\n") is None  # no preference
    assert robots_rules("User-Agent: *\nDisallow: /\n") == ()  # nothing about usage
    assert robots_rules("x" * 600_000) is None  # past the 500 KiB of RFC 9309


def test_tdmrep_file_first_matching_rule_wins() -> None:
    rules = tdmrep_rules(
        json.dumps([{"location": "/open/*", "tdm-reservation": 0}, {"location": "/", "tdm-reservation": 1}])
    )
    assert rules is not None
    assert path_state(rules, "/open/a", first=True) == "y"
    assert path_state(rules, "/news/a", first=True) == "n"
    for bad in (
        "{",
        "{}",
        '[{"location": "/"}]',
        '[{"location": "/", "tdm-reservation": 2}]',
        '[{"tdm-reservation": 1}]',
    ):
        assert tdmrep_rules(bad) is None, bad
    assert tdmrep_rules('[{"location": "/", "tdm-reservation": true}]') is None  # a boolean is not 1


def test_x_robots_tag() -> None:
    assert x_robots_state("noindex, noai") == "n"
    assert x_robots_state("otherbot: noimageai") == "n"
    assert x_robots_state("noindex, nofollow") == "-"


def _store(entries: Any, label: str = "cawg.training-mining", **extra: Any) -> dict[str, Any]:
    return {"manifests": {"urn:a": {"assertions": [{"label": label, "data": {"entries": entries}}]}}, **extra}


def test_cawg_training_and_data_mining_assertion() -> None:
    assert cawg_state(_store({"cawg.ai_generative_training": {"use": "allowed"}})) == "y"
    assert cawg_state(_store({"cawg.ai_training": {"use": "notAllowed"}})) == "n"
    assert cawg_state(_store({"cawg.data_mining": {"use": "constrained", "constraint_info": "ask"}})) == "n"
    assert cawg_state(_store({"cawg.ai_inference": {"use": "notAllowed"}})) == "-"  # not training
    assert cawg_state(_store({"c2pa.ai_training": {"use": "notAllowed"}}, "c2pa.training-mining")) == "n"  # 1.x
    assert cawg_state(_store({"cawg.ai_training": {"use": "maybe"}})) == "?"
    assert cawg_state(_store("notamap")) == "?"
    assert cawg_state(_store({"cawg.ai_training": {"use": "allowed"}}, validation_state="Invalid")) == "?"
    assert cawg_state({"manifests": {}}) == "-"
    assert cawg_state([1]) == "?"


def test_a_signed_asset_is_read_with_c2pa_python_and_a_tampered_one_is_unreadable(tmp_path: Path) -> None:
    sign = signer()
    reserved = signed_png(tmp_path / "r.png", {"cawg.ai_generative_training": {"use": "notAllowed"}}, sign)
    allowed = signed_png(tmp_path / "a.png", {"cawg.ai_training": {"use": "allowed"}}, sign)
    plain = tmp_path / "plain.png"
    plain.write_bytes(b"\x89PNG\r\n\x1a\n")
    tampered = tmp_path / "t.png"
    data = bytearray(reserved.read_bytes())
    data[-20] ^= 0xFF  # inside the image data the manifest's hash covers
    tampered.write_bytes(bytes(data))
    media = {
        reserved: "---n",
        allowed: "---y",
        tmp_path / "missing.png": "---?",
        tampered: "---?",
        tmp_path / "plain.txt": "---?",
    }
    (tmp_path / "plain.txt").write_text("not media")
    for path, want in media.items():
        assert verdict_of(json.dumps({"media": str(path)}), None) == want, path
    assert verdict_of(json.dumps({"media": reserved.as_uri()}), None) == "---n"


def test_the_most_restrictive_signal_wins_across_kinds_and_within_one() -> None:
    signals = {
        "headers": {"content-usage": ["train-ai=y", "train-ai=n"], "TDM-Reservation": "0"},
        "robots": "User-Agent: *\nContent-Usage: / train-ai=y\n",
    }
    r = reservation_of(signals, "https://a.example/x")
    assert r.verdict == "ny--"  # two Content-Usage lines are one field: the later train-ai=n applies


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "headers",
                        "tdmrep",
                        "robots",
                        "c2pa",
                        "media",
                        "Content-Usage",
                        "tdm-reservation",
                        "X-Robots-Tag",
                        "manifests",
                        "assertions",
                        "label",
                        "data",
                        "entries",
                        "location",
                        "use",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    ),
    st.one_of(st.none(), st.text(max_size=30)),
)
def test_any_captured_value_gives_a_verdict_and_never_raises(value: Any, url: str | None) -> None:
    verdict = verdict_of(json.dumps(value), url)
    assert verdict is not None and len(verdict) == 4 and set(verdict) <= set("-yn?")
    if not isinstance(value, dict):
        assert verdict == "????"


def test_the_arrow_form_is_the_row_form() -> None:
    texts = [json.dumps({"headers": {"Content-Usage": "train-ai=n"}}), None, "{", ""]
    got = verdicts(pa.array(texts, pa.string()), pa.array(["https://a/x", None, None, None], pa.string()))
    assert got.to_pylist() == ["n---", None, "????", None]


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "headers": st.dictionaries(
                st.sampled_from(["Content-Usage", "tdm-reservation", "X-Robots-Tag"]),
                st.sampled_from(["train-ai=n", "train-ai=y", "1", "0", "noai", "x==", "search=n"]),
            ),
            "tdmrep": st.sampled_from(
                ["[]", "{", [{"location": "/a*", "tdm-reservation": 1}], [{"location": "/", "tdm-reservation": 0}], 5]
            ),
            "robots": st.sampled_from(
                ["", "Content-Usage: /a train-ai=n\nContent-Usage: / train-ai=y", "Content-Usage: x", 1]
            ),
        },
    ),
    st.sampled_from([None, "https://s.example/a/1", "https://s.example/b", "/a?q", "nopath"]),
)
def test_the_compiled_verdict_is_the_parsed_one(signals: dict[str, Any], url: str | None) -> None:
    text = json.dumps(signals)
    assert verdict_of(text, url) == reservation_of(json.loads(text), url).verdict
