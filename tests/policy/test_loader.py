"""The policy loader: every validation rule, with file:line:field, and a Hypothesis fuzz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.errors import InputError, PolicyValidationError
from consentry.policy import check_policy, load_policy, load_policy_text
from consentry.vocab import Mode

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "policies" / "social-network.yaml"

MINIMAL = """\
policy: test
country_groups:
  NORDIC: [NO, SE, DK]
versions:
  - version: "v1"
    published_at: 2024-01-01T00:00:00Z
    effective_at: 2024-03-01T00:00:00Z
    notice_days: 30
    terms_url: https://example.org/t/v1
    purposes:
      genai_training:
        label: GenAI
        legal_basis: consent
        control: setting
        mode: opt_in
        regions:
          - {countries: [NORDIC], mode: excluded}
        kinds: [post]
"""


def _issues(text: str) -> list[str]:
    with pytest.raises(PolicyValidationError) as err:
        load_policy_text(text, "p.yaml")
    return [str(i) for i in err.value.issues]


def test_reference_policy_loads_with_its_notice_warning() -> None:
    policy, issues = check_policy(REFERENCE)
    assert policy is not None and policy.name == "social-network"
    warnings = [i for i in issues if i.severity == "warning"]
    assert len(warnings) == 1 and warnings[0].field == "versions[2].effective_at"
    assert "NOTICE_PERIOD" in warnings[0].message
    assert warnings[0].line is not None


def test_norway_stays_a_country_code() -> None:
    policy = load_policy_text(MINIMAL)
    v = policy.versions[0]
    assert v.mode_for("genai_training", "NO") is Mode.EXCLUDED
    assert v.mode_for("genai_training", "US") is Mode.OPT_IN
    assert policy.groups["NORDIC"] == frozenset({"NO", "SE", "DK"})


@pytest.mark.parametrize(
    ("edit", "field", "line", "words"),
    [
        (("[NO, SE, DK]", "[NO, SE, QQ]"), "country_groups.NORDIC[2]", 3, "QQ"),
        (("[NORDIC]", "[NORDICS]"), "versions[0].purposes.genai_training.regions[0].countries[0]", 17, "NORDICS"),
        (("  NORDIC: [NO, SE, DK]", "  A: [B]\n  B: [A]"), "country_groups.A", 3, "cycle"),
        (
            ("legal_basis: consent", "legal_basis: legitimate_interest"),
            "versions[0].purposes.genai_training.legal_basis",
            13,
            "assessment",
        ),
        (
            ("effective_at: 2024-03-01T00:00:00Z", "effective_at: 2023-12-01T00:00:00Z"),
            "versions[0].effective_at",
            7,
            "before published_at",
        ),
        (
            ("mode: opt_in", "mode: opt_in\n        colour: blue"),
            "versions[0].purposes.genai_training.colour",
            16,
            "unknown field",
        ),
        (
            ("published_at: 2024-01-01T00:00:00Z", "published_at: 2024-01-01T00:00:00"),
            "versions[0].published_at",
            6,
            "time zone",
        ),
        (
            ("kinds: [post]", "kinds: [post]\n        pass_through: [member_id]"),
            "versions[0].purposes.genai_training.pass_through",
            19,
            "contract column",
        ),
    ],
    ids=[
        "unknown-country",
        "unknown-group",
        "group-cycle",
        "li-without-assessment",
        "effective-before-published",
        "unknown-field",
        "naive-time",
        "reserved-pass-through",
    ],
)
def test_each_rule_names_file_line_and_field(edit: tuple[str, str], field: str, line: int, words: str) -> None:
    issues = _issues(MINIMAL.replace(*edit))
    match = [i for i in issues if f": {field}: " in i]
    assert match, issues
    assert match[0].startswith(f"p.yaml:{line}: ")
    assert words in match[0]


def test_overlapping_regions_with_two_modes() -> None:
    text = MINIMAL.replace(
        "          - {countries: [NORDIC], mode: excluded}",
        "          - {countries: [NORDIC], mode: excluded}\n          - {countries: [SE, FR], mode: opt_out}",
    )
    (issue,) = _issues(text)
    assert "regions[1].countries" in issue and "SE is already excluded" in issue
    # The same country twice with the same mode is not a conflict.
    same = text.replace("mode: opt_out}", "mode: excluded}")
    assert load_policy_text(same).versions[0].mode_for("genai_training", "FR") is Mode.EXCLUDED


def test_duplicate_version_ids_and_effective_times() -> None:
    second = MINIMAL.split("versions:\n")[1]
    issues = _issues(MINIMAL + second)
    assert any("duplicate version id 'v1'" in i for i in issues)
    assert any("same moment" in i for i in issues)


def test_notice_warning_is_not_an_error() -> None:
    text = MINIMAL.replace("effective_at: 2024-03-01T00:00:00Z", "effective_at: 2024-01-15T00:00:00Z")
    policy = load_policy_text(text)
    assert [w.severity for w in policy.warnings] == ["warning"]
    assert "notice_days" in policy.warnings[0].message


def test_missing_assessment_file_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "p.yaml"
    shutil.copy(REFERENCE, copy)
    with pytest.raises(PolicyValidationError) as err:
        load_policy(copy)
    assert any("assessment" in i.field and i.line for i in err.value.issues)
    shutil.copytree(REFERENCE.parent / "lia", tmp_path / "lia")
    assert load_policy(copy).name == "social-network"


def test_unreadable_inputs() -> None:
    with pytest.raises(InputError, match="no such file"):
        load_policy("/nonexistent/policy.yaml")
    assert "(yaml)" in _issues("policy: [unclosed\n")[0]
    assert "(root)" in _issues("- just\n- a list\n")[0]


# --- fuzz: arbitrary edits never crash the loader; they load or report located issues -------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 4000),
    st.text(max_size=12),
    st.sampled_from(["NO", "EU", "opt_out", "2024-01-01"]),
)


def _mutate(doc: object, path: list[int], value: object) -> object:
    if isinstance(doc, dict) and doc:
        keys = sorted(doc, key=str)
        k = keys[path[0] % len(keys)]
        if len(path) == 1:
            return {**doc, k: value}
        return {**doc, k: _mutate(doc[k], path[1:], value)}
    if isinstance(doc, list) and doc:
        i = path[0] % len(doc)
        out = list(doc)
        out[i] = value if len(path) == 1 else _mutate(doc[i], path[1:], value)
        return out
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=6), value=_scalars)
def test_fuzzed_policies_load_or_report_located_issues(path: list[int], value: object) -> None:
    doc = yaml.safe_load(MINIMAL.replace("[NO, SE, DK]", "['NO', SE, DK]"))
    text = yaml.safe_dump(_mutate(doc, path, value), sort_keys=False)
    try:
        policy = load_policy_text(text, "f.yaml")
    except PolicyValidationError as e:
        assert e.issues
        for issue in e.issues:
            assert issue.file == "f.yaml" and issue.field and issue.message
        return
    assert policy.versions


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        load_policy_text(text, "x.yaml")
    except PolicyValidationError as e:
        assert all(i.file == "x.yaml" for i in e.issues)


def test_datasets_block_is_optional_and_leaves_older_versions_digests_alone() -> None:
    plain = load_policy_text(MINIMAL).versions[0]
    assert plain.spec.datasets is None and '"datasets"' not in plain.canonical_json
    licensed_text = MINIMAL.replace(
        "    terms_url: https://example.org/t/v1\n",
        "    terms_url: https://example.org/t/v1\n    datasets: {license: CC-BY-NC-4.0, creator: Example Social}\n",
    )
    licensed = load_policy_text(licensed_text).versions[0]
    assert licensed.spec.datasets is not None and licensed.spec.datasets.license == "CC-BY-NC-4.0"
    assert licensed.sha256 != plain.sha256
    rebuilt = type(load_policy_text(MINIMAL)).from_canonical("test", [licensed.canonical_json]).versions[0]
    assert rebuilt.spec.datasets == licensed.spec.datasets and rebuilt.sha256 == licensed.sha256
    assert any("license" in i for i in _issues(licensed_text.replace("license: CC-BY-NC-4.0, ", "")))


def test_web_content_block_is_optional_and_an_unknown_signal_kind_is_refused_at_its_line() -> None:
    plain = load_policy_text(MINIMAL).versions[0]
    rule = plain.purpose("genai_training")
    assert rule is not None and not rule.web_eligible and len(rule.honoured_signals) == 4
    assert '"web_content"' not in plain.canonical_json  # versions written before the block keep their SHA-256
    block = "        web_content:\n          eligible: true\n          honour_signals: [tdmrep, aipref]\n"
    chosen = load_policy_text(MINIMAL + block).versions[0]
    rule = chosen.purpose("genai_training")
    assert rule is not None and rule.web_eligible and [k.value for k in rule.honoured_signals] == ["aipref", "tdmrep"]
    assert chosen.sha256 != plain.sha256
    issues = _issues(MINIMAL + block.replace("[tdmrep, aipref]", "[tdmrep, noai]"))
    assert len(issues) == 1
    assert issues[0].startswith("p.yaml:21: versions[0].purposes.genai_training.web_content.honour_signals[1]:")
    assert "'aipref', 'tdmrep', 'robots' or 'cawg'" in issues[0]
