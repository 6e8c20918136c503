"""Evaluation per language: the seeded multilingual corpus (bench/corpora/multilingual.py) and `scrub eval`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import phonenumbers
import pytest
from stdnum import get_cc_module
from typer.testing import CliRunner

from consentry.cli import app
from consentry.scrub import EntityType, Finding
from consentry.scrub.evaluation import GoldText, evaluate, evaluate_by_language, read_gold_corpus

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.corpora.multilingual import LANGUAGES, LangSample, MultilingualCorpus  # noqa: E402

#: How each language's national identifiers are checked (python-stdnum modules).
_ID_CHECKS = {
    "de": ["de.idnr"],
    "fr": ["fr.nir"],
    "es": ["es.nif", "es.nie"],
    "pt-BR": ["br.cpf"],
    "it": ["it.codicefiscale"],
    "nl": ["nl.bsn"],
    "en-IN": ["in.aadhaar", "in.pan"],
    "en": ["us.ssn"],
}


@pytest.fixture(scope="module")
def corpus() -> list[LangSample]:
    return list(MultilingualCorpus(seed=7).generate(12))


def _valid_id(lang: str, value: str) -> bool:
    for name in _ID_CHECKS[lang]:
        cc, mod = name.split(".")
        if get_cc_module(cc, mod).is_valid(value):
            return True
    return False


def test_corpus_is_seeded_and_its_identifiers_pass_their_checks(corpus: list[LangSample]) -> None:
    again = MultilingualCorpus(seed=7).generate(12)
    assert [s.to_json() for s in again] == [s.to_json() for s in corpus]
    seen: set[tuple[str, str]] = set()
    for s in again:
        assert s.lang in LANGUAGES and s.country == LANGUAGES[s.lang][1]  # the member's country, as in a build
        for start, end, label in s.spans:
            value = s.text[start:end]
            assert value and value == value.strip()
            seen.add((s.lang, label))
            if label in ("NATIONAL_ID", "US_SSN"):
                assert _valid_id(s.lang, value), (s.lang, value)
            if label == "PHONE":
                assert phonenumbers.is_valid_number(phonenumbers.parse(value, LANGUAGES[s.lang][1]))
        if s.kind == "negative":
            assert all(label == "URL" for _, _, label in s.spans)
    assert {lang for lang, _ in seen} == set(LANGUAGES)
    assert {label for _, label in seen} >= {"PERSON", "PHONE", "EMAIL", "STREET_ADDRESS", "DATE_OF_BIRTH"}


def test_per_language_and_per_entity_figures_by_hand() -> None:
    gold = [
        GoldText("Anna Weber ruft an", ((0, 10, "PERSON"),), "de"),
        GoldText("Season two starts", (), "en"),
        GoldText("Call 555-0100 now", ((5, 13, "PHONE"),), "en"),
    ]
    preds = [
        [Finding(0, 4, EntityType.PERSON, 0.9, "t", "t")],
        [Finding(0, 6, EntityType.PERSON, 0.9, "t", "t")],
        [Finding(5, 13, EntityType.PHONE, 0.9, "t", "t")],
    ]
    whole, per_lang = evaluate_by_language(gold, preds)
    assert whole.to_dict() == evaluate(gold, preds).to_dict()
    de, en = per_lang["de"], per_lang["en"]
    assert de.per_entity["PERSON"].leak_rate == pytest.approx(6 / 10)
    assert de.per_entity["PERSON"].char_precision == 1.0
    assert (en.negatives, en.negatives_flagged) == (1, 1)
    assert en.per_entity["PERSON"].char_precision == 0.0 and en.per_entity["PHONE"].leak_rate == 0.0
    assert en.char_precision == pytest.approx(8 / 14) and en.leak_rate == 0.0


def test_scrub_eval_reports_every_language(tmp_path: Path, corpus: list[LangSample]) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(s.to_json()) + "\n" for s in corpus), encoding="utf-8")
    read = read_gold_corpus(path)
    assert {g.lang for g in read} == set(LANGUAGES) and {g.country for g in read if g.lang == "en-IN"} == {"IN"}
    res = CliRunner().invoke(app, ["scrub", "eval", "--corpus", str(path)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert set(report["languages"]) == set(LANGUAGES)
    assert report["texts"] == sum(r["texts"] for r in report["languages"].values())
    en = report["languages"]["en"]
    assert {"leak_rate", "char_precision", "recall"} <= en["entities"]["PERSON"].keys()
    assert en["char_precision"] >= 0.9  # English is where the scrubber started
    emails = [r["entities"]["EMAIL"] for r in report["languages"].values() if "EMAIL" in r["entities"]]
    assert emails and all(e["leak_rate"] == 0.0 for e in emails)  # an e-mail address is one in every language


def test_a_non_string_language_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"text": "a", "spans": [], "lang": 3}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["scrub", "eval", "--corpus", str(path)])
    assert res.exit_code == 1 and "gold.jsonl:1: lang:" in res.output


def test_a_country_that_is_not_an_iso_code_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"text": "a", "spans": [], "lang": "de", "country": "Germany"}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["scrub", "eval", "--corpus", str(path)])
    assert res.exit_code == 1 and "gold.jsonl:1: country:" in res.output


def test_scrub_eval_passes_each_texts_country_as_the_region_hint(tmp_path: Path) -> None:
    # English by a member in India: the Indian address rules (PIN code, "Nagar") apply with the hint
    text = "Our office has shifted to 44, Gera Nagar, Alwar-507569. Do drop by!"
    line = {"text": text, "spans": [{"start": 26, "end": 54, "label": "STREET_ADDRESS"}]}
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({**line, "lang": "en-IN", "country": "IN"}) + "\n", encoding="utf-8")
    hinted = json.loads(CliRunner().invoke(app, ["scrub", "eval", "--corpus", str(path)]).stdout)
    path.write_text(json.dumps({**line, "lang": "en-IN"}) + "\n", encoding="utf-8")
    bare = json.loads(CliRunner().invoke(app, ["scrub", "eval", "--corpus", str(path)]).stdout)
    assert hinted["leak_rate"] < bare["leak_rate"]
