"""Scrubbing inside Spark: the same `Scrubber` as local builds, one Arrow batch at a time.

`ScrubInArrow` is the function handed to `DataFrame.mapInArrow`. Each Python
worker builds the scrubber once from (config JSON, key) and reuses it for every
batch of every task it runs. Rows whose text cannot be scrubbed are dropped
there — never written unscrubbed — and tallied in a Spark accumulator, with
the entity counts, so the driver can fill the scrub step's stats exactly as a
local build does. The accumulator is only updated in the stage that writes the
output (a result stage), where Spark applies each task's update once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.steps import StepStats
from consentry.vocab import ReasonCode

__all__ = [
    "COUNTRY_COLUMN",
    "FAILED",
    "LANGUAGE_KEY",
    "ScrubInArrow",
    "ScrubTally",
    "empty_tally",
    "entity_key",
    "fill_stats",
    "member_key_of",
]

#: accumulator keys: FAILED, "entity:<TYPE>", "member:<member_id>" (rows of that member that failed)
FAILED = "failed"
#: the column that carries each row's member's country into the scrub (dropped before the write)
COUNTRY_COLUMN = "_consentry_country"
_ENTITY = "entity:"
_MEMBER = "member:"
#: accumulator keys "language:<code>:records" and "language:<code>:detections"
LANGUAGE_KEY = "language:"

_SCRUBBERS: dict[tuple[str, bytes], Any] = {}


def entity_key(entity: object) -> str:
    """The accumulator key for an entity type (enum or string)."""
    return _ENTITY + str(getattr(entity, "value", entity))


def member_key_of(key: str) -> str | None:
    """The member id in a "member:<id>" accumulator key, else None."""
    return key[len(_MEMBER) :] if key.startswith(_MEMBER) else None


class ScrubTally:
    """An AccumulatorParam adding up string-keyed counts."""

    def zero(self, value: Counter[str]) -> Counter[str]:
        """An empty tally."""
        return Counter()

    def addInPlace(self, value1: Counter[str], value2: Counter[str]) -> Counter[str]:
        """Merge `value2` into `value1`."""
        value1.update(value2)
        return value1


def _scrubber(config_json: str, key: bytes) -> Any:
    found = _SCRUBBERS.get((config_json, key))
    if found is None:
        from consentry.scrub import Scrubber, ScrubConfig

        found = Scrubber(ScrubConfig.model_validate_json(config_json), key=key, names=[])
        _SCRUBBERS.clear()  # one configuration per worker at a time
        _SCRUBBERS[(config_json, key)] = found
    return found


class ScrubInArrow:
    """Scrub the `text` column of each batch (with `country_column` as the region hints), drop failures,
    drop `member_column` and `country_column`.

    Picklable (it carries only the scrubber's configuration, its key and the
    accumulator); the scrubber itself is built in the worker.
    """

    def __init__(self, config_json: str, key: bytes, tally: Any, member_column: str, country_column: str | None = None):
        self.config_json = config_json
        self.key = key
        self.tally = tally
        self.member_column = member_column
        self.country_column = country_column  # each row's member's country: the local rules' region hint

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The mapInArrow body."""
        scrubber = _scrubber(self.config_json, self.key)
        local: Counter[str] = Counter()
        for batch in batches:
            if batch.num_rows == 0:
                continue
            hints = None if self.country_column is None else batch.column(self.country_column).to_pylist()
            res = scrubber.scrub_batch(batch.column("text"), hints)
            for entity, n in res.counts.items():
                local[entity_key(entity)] += int(n)
            for lang, tally in res.languages.items():
                for what, n in tally.items():
                    local[f"{LANGUAGE_KEY}{lang}:{what}"] += int(n)
            failed = pc.fill_null(res.failed, True)  # unknown outcome: fail closed
            texts = res.texts.combine_chunks() if isinstance(res.texts, pa.ChunkedArray) else res.texts
            idx = batch.schema.get_field_index("text")
            out = batch.set_column(idx, batch.schema.field("text"), texts.cast(pa.string()))
            n_failed = int(pc.sum(failed).as_py() or 0)
            if n_failed:
                local[FAILED] += n_failed
                for member in pc.filter(batch.column(self.member_column), failed).to_pylist():
                    local[_MEMBER + str(member)] += 1
                out = out.filter(pc.invert(failed))
            yield out.drop_columns([c for c in (self.member_column, self.country_column) if c is not None])
        self.tally.add(local)


def empty_tally() -> Counter[str]:
    """The accumulator's zero."""
    return Counter()


def fill_stats(stats: StepStats, tally: Mapping[str, int], written: int) -> None:
    """Fill the scrub step's `stats` from the executors' tally, as the local scrub step fills them."""
    failed = int(tally.get(FAILED, 0))
    stats.rows_in += written + failed
    stats.forwarded += written
    if failed:
        stats.dropped[ReasonCode.SCRUB_FAILED] += failed
    for key, n in tally.items():
        member = member_key_of(key)
        if member is not None:
            stats.dropped_members[member] += int(n)
        elif key.startswith(_ENTITY):
            stats.entities[key[len(_ENTITY) :]] += int(n)
        elif key.startswith(LANGUAGE_KEY):  # "language:<code>:<records|detections>"
            lang, _, what = key[len(LANGUAGE_KEY) :].rpartition(":")
            stats.languages.setdefault(lang, Counter())[what] += int(n)
