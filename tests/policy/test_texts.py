"""Member-facing texts in the policy: per-version notices, and labels, descriptions and notices per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry.errors import PolicyValidationError
from consentry.policy import Policy, load_policy_text

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
policy: test
languages: [en, de]
versions:
  - version: "v1"
    published_at: 2024-01-01T00:00:00Z
    effective_at: 2024-03-01T00:00:00Z
    notice_days: 30
    terms_url: https://example.org/t/v1
    notice: We will train models on public posts.
    purposes:
      genai_training:
        label: GenAI
        description: Training on public posts.
        legal_basis: consent
        mode: opt_in
        kinds: [post]
"""

GERMAN = """\
    translations:
      de:
        notice: Wir werden Modelle trainieren.
        purposes:
          genai_training: {label: GenAI-Training, description: Training mit öffentlichen Beiträgen.}
"""


def test_texts_in_every_declared_language_load_and_fall_back_to_the_plain_string() -> None:
    version = load_policy_text(HEAD + GERMAN).versions[0]
    assert version.label("genai_training", "de") == "GenAI-Training"
    assert version.description("genai_training", "de") == "Training mit öffentlichen Beiträgen."
    assert version.notice("de") == "Wir werden Modelle trainieren."
    assert version.label("genai_training", "fr") == "GenAI"  # not declared: the plain string
    assert version.notice(None) == "We will train models on public posts."


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ("", 4, "versions[0]", "no 'de' texts"),
        (GERMAN.replace("        notice: Wir werden Modelle trainieren.\n", ""), 18, "translations.de", "notice"),
        (GERMAN.replace("label: GenAI-Training, ", ""), 21, "purposes.genai_training", "no 'de' label"),
        (GERMAN.replace(", description: Training mit öffentlichen Beiträgen.", ""), 21, "genai_training", "descr"),
        (GERMAN.replace("de:", "fr:"), 18, "translations.fr", "not declared"),
    ],
)
def test_a_missing_translation_is_refused_naming_file_line_and_field(
    body: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(PolicyValidationError) as e:
        load_policy_text(HEAD + body, "p.yaml")
    issue = e.value.issues[0]
    assert (issue.file, issue.line) == ("p.yaml", line), str(e.value)
    assert field in issue.field and words in issue.message, str(e.value)


def test_texts_added_later_leave_older_versions_digest_unchanged(reference_policy: Policy) -> None:
    plain = HEAD.replace("languages: [en, de]\n", "").replace("    notice: We will train models on public posts.\n", "")
    assert '"notice"' not in load_policy_text(plain).versions[0].canonical_json
    assert '"translations"' not in load_policy_text(plain).versions[0].canonical_json
    german = load_policy_text(HEAD + GERMAN).versions[0]
    assert "GenAI-Training" in german.canonical_json  # texts are part of what the version says


def test_the_reference_policy_speaks_english_german_and_french(reference_policy: Policy) -> None:
    for version in reference_policy.versions:
        assert set(version.languages) == {"de", "fr"}
        for purpose in version.purposes:
            labels = {version.label(purpose, lang) for lang in ("en", "de", "fr")}
            assert len(labels) == 3, (version.version, purpose)
    assert reference_policy.version("2025-11-03").notice("de").startswith("Wir werden")
