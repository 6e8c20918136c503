"""Pipeline steps: small objects that take a stream of Arrow batches and yield batches.

Each step keeps its own `StepStats` (rows in, rows forwarded, rows dropped per
reason code, findings per entity) so the manifest can account for every row.
Batches carry the output columns plus ``_member_id`` (dropped by `Project`),
which lets a step that drops rows say whose rows it dropped.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import BuildError, InputError
from consentry.vocab import ReasonCode
from consentry.workers import worker_initializer

__all__ = ["Project", "Rechunk", "ScrubStep", "Step", "StepStats", "scrub_step", "scrubber_available"]

MEMBER_COLUMN = "_member_id"


@dataclass
class StepStats:
    """What one step did: rows in, forwarded, dropped per reason, findings per entity."""

    rows_in: int = 0
    forwarded: int = 0
    dropped: Counter[ReasonCode] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)
    dropped_members: Counter[str] = field(default_factory=Counter)
    #: per language code of the scrubbed records: {"records": n, "detections": m}
    languages: dict[str, Counter[str]] = field(default_factory=dict)


class Step(Protocol):
    """One stage of the pipeline: batches in, batches out, stats kept."""

    name: str
    stats: StepStats

    def run(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]: ...


class Project:
    """Cast to the output schema and drop working columns (``_member_id``)."""

    name = "project"

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.stats = StepStats()

    def run(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Yield each batch with exactly the output schema's columns and types."""
        for batch in batches:
            self.stats.rows_in += batch.num_rows
            cols = [batch.column(name).cast(f.type) for name, f in zip(self.schema.names, self.schema, strict=True)]
            out = pa.RecordBatch.from_arrays(cols, schema=self.schema)
            self.stats.forwarded += out.num_rows
            yield out


class Rechunk:
    """Re-cut the stream into batches of exactly `rows` rows (the last may be shorter).

    Row groups then depend only on the data, never on how an engine happened to
    batch its output — one ingredient of byte-identical files.
    """

    name = "rechunk"

    def __init__(self, rows: int):
        if rows <= 0:
            raise ValueError("rows must be positive")
        self.rows = rows
        self.stats = StepStats()

    def run(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Yield batches of `rows` rows, buffering at most one batch's worth."""
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in batches:
            self.stats.rows_in += batch.num_rows
            pending.append(batch)
            count += batch.num_rows
            while count >= self.rows:
                table = pa.Table.from_batches(pending)
                head, rest = table.slice(0, self.rows), table.slice(self.rows)
                yield from _one_batch(head)
                self.stats.forwarded += self.rows
                pending = rest.to_batches()
                count = rest.num_rows
        if count:
            yield from _one_batch(pa.Table.from_batches(pending))
            self.stats.forwarded += count


def _one_batch(table: pa.Table) -> Iterator[pa.RecordBatch]:
    combined = table.combine_chunks()
    yield from combined.to_batches(max_chunksize=max(combined.num_rows, 1))


# ---------------------------------------------------------------------------- scrubbing


def scrubber_available() -> bool:
    """True when the PII scrubber (`consentry.scrub`) can be imported."""
    try:
        from consentry.scrub import Scrubber  # noqa: F401
    except ImportError:
        return False
    return True


_WORKER: Any = None


def _init_worker(config_json: str, key: bytes) -> None:
    global _WORKER
    from consentry.scrub import Scrubber, ScrubConfig

    _WORKER = Scrubber(ScrubConfig.model_validate_json(config_json), key=key, names=[])


_Scrubbed = tuple[pa.Array, pa.Array, dict[str, int], dict[str, dict[str, int]]]


def _scrub_in_worker(texts: pa.Array, countries: list[str | None] | None = None) -> _Scrubbed:
    res = _WORKER.scrub_batch(texts, countries)
    counts = {str(getattr(k, "value", k)): int(v) for k, v in res.counts.items()}
    return res.texts, res.failed, counts, res.languages


class ScrubStep:
    """Scrub the `text` column; rows whose text cannot be scrubbed are dropped as SCRUB_FAILED.

    Batches are scrubbed in a process pool over all cores (order preserved)
    when `workers` > 1, else in this process. Never yields unscrubbed text.
    """

    name = "scrub"

    def __init__(self, key: bytes, *, workers: int | None = None, config: Any = None, salt: str | None = None):
        try:
            from consentry.scrub import Scrubber, ScrubConfig
        except ImportError as e:
            raise BuildError(
                f"the PII scrubber cannot be loaded ({e}); build with --no-scrub only if the "
                "sources hold no personal data"
            ) from None
        self.config = config if config is not None else ScrubConfig.default()
        self.key = key
        self.salt = salt  # the build's surrogate salt (with per-build surrogates), recorded in the manifest
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.scrubber = Scrubber(self.config, key=key, names=[])
        self.stats = StepStats()
        self._countries: pa.Table | None = None  # member_id, country: the local rules' region hints

    def set_countries(self, members: pa.Table) -> None:
        """Each member's country (columns member_id, country), read as the region hint of its records."""
        known = members.select(["member_id", "country"]).filter(pc.is_valid(members.column("country")))
        self._countries = known if known.num_rows else None

    @property
    def countries(self) -> pa.Table | None:
        """member_id, country of the members whose country is known (set by `set_countries`), or None."""
        return self._countries

    def _hints(self, batch: pa.RecordBatch) -> list[str | None] | None:
        """The country of each row's member, when the build knows members' countries."""
        if self._countries is None or MEMBER_COLUMN not in batch.schema.names:
            return None
        at = pc.index_in(batch.column(MEMBER_COLUMN).cast(pa.string()), value_set=self._countries.column("member_id"))
        return self._countries.column("country").take(at).to_pylist()  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        """The scrubber's version, for the manifest."""
        return str(self.scrubber.version)

    def config_json(self) -> Any:
        """The scrubber configuration as JSON data, for the manifest."""
        return json_data(self.config)

    def run(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Yield batches with scrubbed text and the failed rows removed."""
        if self.workers <= 1:
            for batch in batches:
                res = self.scrubber.scrub_batch(batch.column("text"), self._hints(batch))
                counts = {str(getattr(k, "value", k)): int(v) for k, v in res.counts.items()}
                yield self._apply(batch, res.texts, res.failed, counts, res.languages)
            return
        yield from self._run_pool(batches)

    def _run_pool(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # never fork a process running engine threads
        cfg = self.config.model_dump_json()
        initializer, initargs = worker_initializer(_init_worker, cfg, self.key)  # workers die with the build
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=initializer, initargs=initargs) as pool:
            window: list[tuple[pa.RecordBatch, Future[_Scrubbed]]] = []
            for batch in batches:
                window.append((batch, pool.submit(_scrub_in_worker, batch.column("text"), self._hints(batch))))
                if len(window) > 2 * self.workers:
                    done, fut = window.pop(0)
                    yield self._apply(done, *fut.result())
            for done, fut in window:
                yield self._apply(done, *fut.result())

    def _apply(
        self,
        batch: pa.RecordBatch,
        texts: pa.Array,
        failed: pa.Array,
        counts: dict[str, int],
        languages: dict[str, dict[str, int]] | None = None,
    ) -> pa.RecordBatch:
        self.stats.rows_in += batch.num_rows
        self.stats.entities.update(counts)
        for lang, tally in (languages or {}).items():
            self.stats.languages.setdefault(lang, Counter()).update(tally)
        failed = pc.fill_null(failed, True)  # unknown outcome: fail closed
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        idx = batch.schema.get_field_index("text")
        scrubbed = batch.set_column(idx, "text", texts.cast(batch.schema.field("text").type))
        n_failed = int(pc.sum(failed).as_py() or 0)
        if n_failed:
            self.stats.dropped[ReasonCode.SCRUB_FAILED] += n_failed
            if MEMBER_COLUMN in batch.schema.names:
                lost = pc.filter(batch.column(MEMBER_COLUMN), failed).to_pylist()
                self.stats.dropped_members.update(str(m) for m in lost)
            scrubbed = scrubbed.filter(pc.invert(failed))
        self.stats.forwarded += scrubbed.num_rows
        return scrubbed


def json_data(obj: Any) -> Any:
    """Plain JSON data for a pydantic model, dataclass or mapping."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return obj
    return str(obj)


def chain(batches: Iterator[pa.RecordBatch], steps: Sequence[Step]) -> Iterator[pa.RecordBatch]:
    """Compose steps: the output of each feeds the next."""
    for step in steps:
        batches = step.run(batches)
    return batches


def scrub_step(pseudonym_key: bytes, surrogates: str, carried: Mapping[str, Any] | None = None) -> ScrubStep:
    """The build's scrub step. "store": today's default, surrogates of names under the pseudonym key.
    "build": consistent surrogates under HMAC(pseudonym key, label + a new random salt), the salt
    recorded in the manifest (a partial rebuild passes its original's manifest as `carried` and reuses
    that salt, so carried shards agree)."""
    from consentry.scrub.config import ScrubConfig, Surrogates
    from consentry.scrub.operators.pseudonym import scrub_key

    try:
        scope = Surrogates(surrogates)
    except ValueError:
        raise InputError(f"unknown surrogates {surrogates!r}; use store or build", field="--surrogates") from None
    if scope is Surrogates.STORE:
        return ScrubStep(pseudonym_key)
    salt = carried["scrubber"].get("surrogate_salt") if carried is not None else None
    salt = salt or secrets.token_hex(16)
    return ScrubStep(scrub_key(pseudonym_key, salt), config=ScrubConfig.for_surrogates(scope), salt=salt)
