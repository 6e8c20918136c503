"""The evaluation figures: per-entity precision/recall/F2, leak rate, character precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry.errors import InputError
from consentry.scrub import EntityType, Finding
from consentry.scrub.evaluation import GoldText, evaluate, read_gold_corpus


def _f(start: int, end: int, entity: EntityType) -> Finding:
    return Finding(start, end, entity, 0.9, "test", "test")


def test_figures_on_a_hand_checked_case() -> None:
    text = "Ada Lovelace mailed ada@x.org from ACME"
    gold = [GoldText(text, ((0, 12, "PERSON"), (20, 29, "EMAIL_ADDRESS"), (35, 39, "ORGANIZATION")))]
    preds = [[_f(0, 3, EntityType.PERSON), _f(35, 39, EntityType.PERSON)]]
    r = evaluate(gold, preds)
    person, email = r.per_entity["PERSON"], r.per_entity["EMAIL"]
    assert (person.gold, person.found, person.predicted, person.correct) == (1, 1, 2, 1)
    assert person.precision == 0.5 and person.recall == 1.0
    assert person.f2 == pytest.approx(5 * 0.5 * 1 / (4 * 0.5 + 1))
    assert email.recall == 0.0
    assert r.gold_chars == 21 and r.leaked_chars == 18  # ORGANIZATION is not personal data
    assert r.leak_rate == pytest.approx(18 / 21)
    assert r.char_precision == pytest.approx(3 / 7)


def test_corpus_errors_name_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "gold.jsonl"
    p.write_text('{"text": "a", "spans": []}\n{"text": "abc", "spans": [{"start": 0, "end": 9, "label": "X"}]}\n')
    with pytest.raises(InputError, match=r"gold.jsonl:2: spans: span offsets"):
        read_gold_corpus(p)
