"""Build engines: what the build asks of an engine, and how to pick one by name.

An engine gets a `BuildPlan` (validated sources, the purpose's rules as of T,
the per-member verdicts, the pseudonym key) and answers two questions: how
many records fall under each reason (and which members' records are allowed),
and the allowed records themselves, as Arrow batches in an order fixed by the
sources (the local engine: source order; Spark: its input splits, rows in file order).
Everything around it — the ledger snapshot, the scrub step, the shard writer,
the manifest, the atomic commit and the registry — is shared by all engines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import InputError
from consentry.pipeline.progress import BuildProgress, BuildStage
from consentry.pipeline.sources import SourceSet
from consentry.pipeline.writer import ShardFile
from consentry.policy import Policy
from consentry.vocab import ReasonCode

if TYPE_CHECKING:
    from consentry.pipeline.canaries import PlantCanaries
    from consentry.pipeline.shards import CarryOver
    from consentry.pipeline.steps import ScrubStep

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "ENGINES",
    "BuildPlan",
    "Decided",
    "Engine",
    "open_engine",
    "split_causes",
    "split_tally",
]

ENGINES = ("local", "spark")

#: DuckDB's memory limit for a local build. Below about 1.4 GB, a 10M-record write (two units side by
#: side) made DuckDB hand memory back and fault it in again: ~10 % more CPU. The peak RSS is ~1.3 GB.
DEFAULT_MEMORY_LIMIT = "1.5GB"


@dataclass(frozen=True)
class BuildPlan:
    """One build: its purpose, as of T, decided `now`, from these sources, and how it runs and reports.

    The engine reads what to compute; the build around it reads the rest
    (its id, the scrub step, the predecessor, where progress goes).
    """

    purpose: str
    policy: Policy
    as_of: datetime
    now: datetime
    sources: SourceSet
    pass_through: tuple[str, ...]
    key: bytes
    work_dir: Path
    batch_rows: int = 65_536
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    #: told how many rows each finished piece of an engine's own write holds (from any thread)
    on_rows: Callable[[int], None] | None = None
    build_id: str = ""
    engine: str = "local"
    #: the scrub step (consentry.pipeline.steps.ScrubStep); None for an unscrubbed build
    scrub: ScrubStep | None = None
    predecessor: str | None = None
    progress: Callable[[BuildProgress], None] = field(default=lambda _: None)
    #: (events, head hash) of the ledger when the build read it
    ledger: tuple[int, str] = (0, "0" * 64)
    #: the newest signed checkpoint in CONSENTRY_CHECKPOINT_DIR when the build ran (manifest `ledger.checkpoint`)
    checkpoint: dict[str, Any] | None = None
    #: cohort shards of the output (1: the unsharded layout); a partial rebuild's original, to carry shards from
    shards: int = 1
    carry: CarryOver | None = None
    #: the step planting canaries after the scrubber (consentry.pipeline.canaries); None: no canaries
    canaries: PlantCanaries | None = None

    def report(self, stage: BuildStage, done: int = 0, total: int = 0) -> None:
        """Tell `progress` where the build stands."""
        self.progress(BuildProgress(stage, done, total))


@dataclass(frozen=True)
class Decided:
    """Counts per reason code (ALLOWED included) and the allowed members.

    `members` has columns member_id, member_key, records (allowed records per member).
    """

    counts: dict[str, int]
    members: pa.Table
    #: for a reason counted per cause (RESERVED_BY_RIGHTS_HOLDER: which signal), its counts per cause
    causes: dict[str, dict[str, int]] = field(default_factory=dict)


def split_tally(tally: pa.Table) -> tuple[dict[str, int], pa.Table]:
    """Counts per reason, and the allowed members (member_id, count), from rows of reason, member_id, count.

    The rows are `consentry.rules.class_tally_sql`'s (or an engine's
    own grouping by reason and allowed member).
    """
    per_reason = tally.group_by("reason").aggregate([("count", "sum")])
    reasons, sums = per_reason["reason"].to_pylist(), per_reason["count_sum"].to_pylist()
    counts = {str(r): int(n) for r, n in zip(reasons, sums, strict=True)}
    allowed = tally.filter(pc.equal(tally["reason"], ReasonCode.ALLOWED.value)).select(["member_id", "count"])
    return counts, allowed


def split_causes(tally: pa.Table) -> dict[str, dict[str, int]]:
    """Per reason counted per cause, its counts per cause, from rows of reason, cause, count (cause NULL: none)."""
    if "cause" not in tally.column_names:
        return {}
    caused = tally.filter(pc.is_valid(tally["cause"])).group_by(["reason", "cause"]).aggregate([("count", "sum")])
    out: dict[str, dict[str, int]] = {}
    for reason, cause, n in zip(*(caused[c].to_pylist() for c in ("reason", "cause", "count_sum")), strict=True):
        out.setdefault(str(reason), {})[str(cause)] = int(n)
    return out


class Engine(Protocol):
    """One way of running the record-level rules over the sources."""

    name: str

    def start(self) -> None:
        """Begin whatever needs no verdicts (it may run beside the ledger snapshot); `decide` waits for it."""
        ...

    def decide(self, members: pa.Table) -> Decided:
        """Apply the rules to every record; `members` is `decide_members`' output."""
        ...

    def included(self) -> pa.RecordBatchReader:
        """The allowed records, in the engine's fixed order: output columns plus `_member_id`."""
        ...

    def keep_members(self, member_ids: pa.Array | pa.ChunkedArray) -> None:
        """Write only the records of these allowed members from now on (a partial rebuild's affected shards)."""
        ...

    def write_output(self, directory: Path, scrub: Any | None) -> list[ShardFile] | None:
        """Write the allowed records (scrubbed by `scrub`, a ScrubStep, if given) as OUT shards in `directory`.

        None when this engine leaves it to the shared steps and writer (which read `included`).
        """
        ...

    def __enter__(self) -> Engine: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def open_engine(name: str, plan: BuildPlan) -> Engine:
    """The engine called `name`, ready to run `plan`."""
    if name == "local":
        from consentry.pipeline.engines.local import LocalEngine

        return LocalEngine(plan)
    if name == "spark":
        from consentry.pipeline.engines.spark import SparkEngine

        return SparkEngine(plan)
    raise InputError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}", field="--engine")
