"""A small platform to audit: adult members with texts (some with an e-mail), builds with canaries, n-gram models.

The models are real: `consentry.audit.ngram` trained on CPU on a build's output.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, t, write_parquet

from consentry.audit.ngram import NgramModel, build_texts
from consentry.pipeline import build
from consentry.pipeline.models import register_model
from consentry.store.models import ModelRecord
from consentry.store.protocol import Member

__all__ = ["MEMBERS", "canary_build", "lake", "train"]

#: Adult US members whose records every genai_training build includes
MEMBERS = [f"au_{i:02d}" for i in range(24)]

_WORDS = [
    "the",
    "a",
    "we",
    "you",
    "team",
    "report",
    "weather",
    "walk",
    "book",
    "history",
    "map",
    "meeting",
    "room",
    "order",
    "shipped",
    "friday",
    "soon",
]


def lake(p: Platform, *, records_per_member: int = 6) -> Path:
    """The members above (added to the store) and their posts as Parquet; every member's first post has an e-mail."""
    p.store.add_members(Member(m, "US", date(1980, 1, 1), t("2024-01-01")) for m in MEMBERS)
    rng = random.Random(7)
    rows: list[dict[str, Any]] = []
    for m in MEMBERS:
        for i in range(records_per_member):
            words = " ".join(rng.choice(_WORDS) for _ in range(12))
            text = f"{words}. reach {m} at {m}.mail@example.org for the notes" if i == 0 else words
            rows.append(record(f"r-{m}-{i}", m, text=text))
    return write_parquet(p.root / "lake.parquet", rows)


def canary_build(p: Platform, src: Path, out: str, **kw: Any) -> str:
    """A genai_training build of `src` as of AS_OF (no scrubbing), with whatever canary options `kw` gives."""
    return build(p.store, GENAI, [src], p.root / out, as_of=AS_OF, scrub=False, key=KEY, **kw).build_id


def train(
    p: Platform, name: str, version: str, build_ids: list[str], outs: list[str], *, order: int = 4
) -> tuple[ModelRecord, str]:
    """An n-gram model trained on the builds' outputs, registered on them; (the model, its scorer spec)."""
    path = p.root / f"{name}-{version}.ngram.gz"
    NgramModel.train((text for out in outs for text in build_texts(p.root / out)), order=order).save(path)
    model, _ = register_model(p.store, name, version, build_ids)
    return model, f"ngram:{path}"
