"""Measuring a scrubber against gold spans: per-entity precision/recall/F2, leak rate, char precision.

Training-data scrubbing is judged first on leaks: the share of gold personal-data
characters left unredacted, whatever type the redaction gave them. Per entity, the
leak counts that entity's gold characters left unredacted and the character precision
the share of characters redacted as that entity that were gold personal data of any
type. A text with no gold personal data is a negative: any redaction in it is a false
positive, counted in `negatives_flagged`. Corpora that tag each text with a `lang` are
also reported per language (`evaluate_by_language`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from consentry.errors import InputError
from consentry.jsonl import read_jsonl
from consentry.scrub.entities import EntityType, scored_as

__all__ = [
    "GOLD_LABELS",
    "EntityScore",
    "EvalReport",
    "GoldText",
    "SpanLike",
    "evaluate",
    "evaluate_by_language",
    "read_gold_corpus",
]

#: Gold labels (ours and presidio-evaluator's) that identify a person, mapped to our types.
#: Other gold labels (organisations, places, titles, generic dates, ages) are not personal identifiers.
GOLD_LABELS: dict[str, EntityType] = {
    **{e.value: e for e in EntityType},
    "PHONE_NUMBER": EntityType.PHONE,
    "EMAIL_ADDRESS": EntityType.EMAIL,
    "IBAN_CODE": EntityType.IBAN,
    "US_DRIVER_LICENSE": EntityType.DRIVER_LICENSE,
    "ADDRESS": EntityType.STREET_ADDRESS,
}


class SpanLike(Protocol):
    """A predicted span: a Finding, or another tool's span mapped to an entity name."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def entity(self) -> str: ...


@dataclass(frozen=True)
class GoldText:
    """A text and its gold spans as (start, end, label), and its language and member's country
    (the scrubber's region hint) when the corpus says."""

    text: str
    spans: tuple[tuple[int, int, str], ...]
    lang: str = ""
    country: str | None = None


@dataclass
class EntityScore:
    """Span-level counts for one entity type (a span matches when it overlaps one of its type)."""

    gold: int = 0
    found: int = 0  # gold spans overlapped by a prediction of the same type
    predicted: int = 0
    correct: int = 0  # predictions overlapping a gold span of the same type
    gold_chars: int = 0
    leaked_chars: int = 0  # gold characters of this type no prediction covers
    predicted_chars: int = 0  # characters predicted as this type
    correct_chars: int = 0  # of those, characters that are gold personal data (any type)

    @property
    def leak_rate(self) -> float:
        """Share of this entity's gold characters left unredacted."""
        return self.leaked_chars / self.gold_chars if self.gold_chars else 0.0

    @property
    def char_precision(self) -> float:
        """Share of characters redacted as this entity that were gold personal data."""
        return self.correct_chars / self.predicted_chars if self.predicted_chars else 1.0

    @property
    def recall(self) -> float:
        """Share of gold spans found."""
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        """Share of predictions that are right."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def f2(self) -> float:
        """F-beta with beta=2: recall weighs four times precision."""
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


@dataclass
class EvalReport:
    """The figures of one evaluation run."""

    texts: int = 0
    per_entity: dict[str, EntityScore] = field(default_factory=dict)
    gold_chars: int = 0
    leaked_chars: int = 0
    predicted_chars: int = 0
    correct_chars: int = 0
    negatives: int = 0  # texts without gold personal data
    negatives_flagged: int = 0  # of those, texts where something was redacted

    @property
    def leak_rate(self) -> float:
        """Share of gold PII characters left unredacted."""
        return self.leaked_chars / self.gold_chars if self.gold_chars else 0.0

    @property
    def char_precision(self) -> float:
        """Share of redacted characters that were gold PII (over-redaction spoils training text)."""
        return self.correct_chars / self.predicted_chars if self.predicted_chars else 1.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready figures."""
        return {
            "texts": self.texts,
            "leak_rate": round(self.leak_rate, 4),
            "char_precision": round(self.char_precision, 4),
            "negatives": self.negatives,
            "negatives_flagged": self.negatives_flagged,
            "entities": {
                k: {
                    "gold": v.gold,
                    "predicted": v.predicted,
                    "precision": round(v.precision, 4),
                    "recall": round(v.recall, 4),
                    "f2": round(v.f2, 4),
                    "leak_rate": round(v.leak_rate, 4),
                    "char_precision": round(v.char_precision, 4),
                }
                for k, v in sorted(self.per_entity.items())
            },
        }


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(gold: Sequence[GoldText], predictions: Iterable[Sequence[SpanLike]]) -> EvalReport:
    """Compare predicted findings with gold spans, text by text."""
    report = EvalReport()
    scores: dict[str, EntityScore] = defaultdict(EntityScore)
    for g, preds in zip(gold, predictions, strict=True):
        _score_text(report, scores, g, preds)
    report.per_entity = dict(scores)
    return report


def evaluate_by_language(
    gold: Sequence[GoldText], predictions: Iterable[Sequence[SpanLike]]
) -> tuple[EvalReport, dict[str, EvalReport]]:
    """The whole corpus's figures, and the same per `lang` (texts without one under "")."""
    preds = list(predictions)
    if len(preds) != len(gold):
        raise ValueError("one prediction list per gold text is required")
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_lang[g.lang].append(i)
    per_lang = {
        lang: evaluate([gold[i] for i in idx], [preds[i] for i in idx]) for lang, idx in sorted(by_lang.items())
    }
    return evaluate(gold, preds), per_lang


def _score_text(report: EvalReport, scores: dict[str, EntityScore], g: GoldText, preds: Sequence[SpanLike]) -> None:
    report.texts += 1
    pii = [(s, e, GOLD_LABELS[lab]) for s, e, lab in g.spans if lab in GOLD_LABELS and e > s]
    gold_mask = bytearray(len(g.text))
    for s, e, _ in pii:
        gold_mask[s:e] = b"\x01" * (e - s)
    pred_mask = bytearray(len(g.text))
    for f in preds:
        pred_mask[f.start : f.end] = b"\x01" * (f.end - f.start)
    for s, e, ent in pii:
        sc = scores[ent.value]
        sc.gold += 1
        sc.found += any(scored_as(f.entity) == ent and _overlaps((s, e), (f.start, f.end)) for f in preds)
        sc.gold_chars += e - s
        sc.leaked_chars += (e - s) - sum(pred_mask[s:e])
    for f in preds:
        sc = scores[scored_as(f.entity)]
        sc.predicted += 1
        sc.correct += any(ent == scored_as(f.entity) and _overlaps((s, e), (f.start, f.end)) for s, e, ent in pii)
        sc.predicted_chars += f.end - f.start
        sc.correct_chars += sum(gold_mask[f.start : f.end])
    if not pii:
        report.negatives += 1
        report.negatives_flagged += any(pred_mask)
    report.gold_chars += sum(gold_mask)
    report.predicted_chars += sum(pred_mask)
    both = sum(1 for a, b in zip(gold_mask, pred_mask, strict=True) if a and b)
    report.correct_chars += both
    report.leaked_chars += sum(gold_mask) - both


def read_gold_corpus(path: Path) -> list[GoldText]:
    """A JSONL corpus of ``{"text": ..., "spans": [{"start", "end", "label"}]}``, each line maybe with
    its ``lang`` and member's ``country`` (errors name file:line)."""
    out: list[GoldText] = []
    for where, obj in read_jsonl(path):
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError("missing or non-string 'text'", where=where, field="text")
        spans = obj.get("spans", [])
        try:
            parsed = tuple((int(s["start"]), int(s["end"]), str(s["label"])) for s in spans)
        except (TypeError, KeyError, ValueError):
            raise InputError("each span needs integer start, end and a label", where=where, field="spans") from None
        if any(not 0 <= s <= e <= len(text) for s, e, _ in parsed):
            raise InputError("span offsets fall outside the text", where=where, field="spans")
        lang = obj.get("lang", "")
        if not isinstance(lang, str):
            raise InputError('\'lang\' must be a language code such as "de" or "pt-BR"', where=where, field="lang")
        country = obj.get("country") or None
        if country is not None and not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
            raise InputError("'country' must be an ISO 3166 alpha-2 code such as \"DE\"", where=where, field="country")
        out.append(GoldText(text, parsed, lang, country))
    return out
