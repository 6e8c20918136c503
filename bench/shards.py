"""Benchmark: cohort shards — the share of records to retrain, and a partial rebuild against a full one.

    .venv/bin/python bench/shards.py share                       # 1M member ids, K = 16 and 64
    .venv/bin/python bench/shards.py rebuild --records 1000000   # partial vs full rebuild, K = 16
    .venv/bin/python bench/shards.py rebuild --records 10000000  # the issue's size (heavy: ~3 GB of lake)

`share`: 1,000,000 member ids keyed with a random key (HMAC-SHA256, as a
build keys them) and assigned to K shards by `consentry.pipeline.shards.shard_of`;
each member holds 1 to 19 records (fixed seed). For n withdrawals (members
drawn at random, --trials times), the share of records in the shards that
hold them, against the expected 1 − (1 − 1/K)^n.

`rebuild`: the synthetic store and lake of bench/build.py (--members, fixed
seed), one sharded build (K = --shards, unscrubbed unless --scrub), one member
withdraws, then alternately `builds rebuild --only-affected-shards` and a full
`builds rebuild`, --repeat times each, in this process: wall and CPU seconds
(this process's, DuckDB's threads included, plus its scrub workers') and the
ratio partial / full.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def share(members: int, trials: int, seed: int) -> list[dict[str, Any]]:
    """Measured and expected share of records to retrain for n withdrawals at K = 16 and 64."""
    from consentry.pipeline.keys import keyed_members
    from consentry.pipeline.shards import shard_of

    rng = np.random.default_rng(seed)
    ids = pa.array([f"m{i:08d}" for i in range(members)])
    keyed = keyed_members(rng.bytes(32), pa.table({"member_id": ids, "count": pa.array([1] * members, pa.int64())}))
    records = rng.integers(1, 20, size=members)
    rows = []
    for k in (16, 64):
        shards = shard_of(keyed.column("member_key"), k)
        per_shard = np.bincount(shards, weights=records, minlength=k)
        for n in (1, 100, 10_000):
            shares = []
            for _ in range(trials):
                hit = np.unique(shards[rng.choice(members, size=n, replace=False)])
                shares.append(per_shard[hit].sum() / per_shard.sum())
            rows.append(
                {
                    "K": k,
                    "withdrawals": n,
                    "measured_share": round(statistics.fmean(shares), 4),
                    "min": round(min(shares), 4),
                    "max": round(max(shares), 4),
                    "expected": round(1 - (1 - 1 / k) ** n, 4),
                    "shard_records_min_max": [int(per_shard.min()), int(per_shard.max())],
                }
            )
    return rows


def _cpu() -> float:
    """CPU seconds of this process (DuckDB's threads included) and of its finished children (scrub workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - wall, _cpu() - cpu


def rebuild_ratio(records: int, members: int, k: int, repeat: int, scrub: bool) -> dict[str, Any]:
    """A sharded build, one withdrawal, then partial and full rebuilds side by side."""
    from build import AS_OF, OUT, make_lake, make_store

    from consentry.pipeline import build, rebuild
    from consentry.store import open_store
    from consentry.store.protocol import NewEvent
    from consentry.timeutil import parse_instant
    from consentry.vocab import Choice, Source

    work = OUT / f"shards-{records}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pristine = OUT / f"store-{members}.db"
    make_store(members, pristine)
    db = work / "store.db"
    shutil.copyfile(pristine, db)
    lake = make_lake(records, members, OUT / f"lake-{records}" / "records")
    store = open_store(f"sqlite:///{db}")
    key = b"bench-shards-key"

    def first_build() -> Any:
        return build(
            store, "genai_training", [lake], work / "v1", as_of=parse_instant(AS_OF), key=key, scrub=scrub, shards=k
        )

    first, wall, cpu = _timed(first_build)
    result: dict[str, Any] = {"records": records, "members": members, "K": k, "scrub": scrub}
    result["first_build"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "included": first.counts["included"]}
    withdrawn = store.builds.members(first.build_id).column("member_id")[0].as_py()
    store.record(NewEvent(withdrawn, "genai_training", Choice.DENY, datetime(2025, 3, 1, tzinfo=UTC), Source.SETTINGS))
    runs: dict[str, list[tuple[float, float]]] = {"partial": [], "full": []}
    for i in range(repeat):
        for kind in ("partial", "full"):
            out = work / f"{kind}-{i}"
            partial = kind == "partial"
            done, wall, cpu = _timed(
                lambda out=out, partial=partial: rebuild(
                    store, first.build_id, out, key=key, only_affected_shards=partial
                )
            )
            if kind == "partial":
                result["rebuilt_shards"] = list(done.rebuilt_shards)
            runs[kind].append((wall, cpu))
            shutil.rmtree(out)
    for kind, measured in runs.items():
        result[kind] = {
            "wall_s": [round(w, 2) for w, _ in measured],
            "cpu_s": [round(c, 2) for _, c in measured],
            "median_wall_s": round(statistics.median(w for w, _ in measured), 2),
            "median_cpu_s": round(statistics.median(c for _, c in measured), 2),
        }
    result["ratio_wall"] = round(result["partial"]["median_wall_s"] / result["full"]["median_wall_s"], 3)
    result["ratio_cpu"] = round(result["partial"]["median_cpu_s"] / result["full"]["median_cpu_s"], 3)
    store.close()  # type: ignore[attr-defined]
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    """Run the chosen benchmark and print its figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("share", help="share of records to retrain for 1, 100, 10,000 withdrawals")
    s.add_argument("--members", type=int, default=1_000_000)
    s.add_argument("--trials", type=int, default=20)
    s.add_argument("--seed", type=int, default=13)
    r = sub.add_parser("rebuild", help="partial rebuild of the affected shard against a full rebuild")
    r.add_argument("--records", type=int, default=1_000_000)
    r.add_argument("--members", type=int, default=1_000_000)
    r.add_argument("--shards", type=int, default=16)
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--scrub", action="store_true", help="scrub the texts (the default build does)")
    args = ap.parse_args()
    if args.what == "share":
        print(json.dumps(share(args.members, args.trials, args.seed), indent=2))
    else:
        print(json.dumps(rebuild_ratio(args.records, args.members, args.shards, args.repeat, args.scrub), indent=2))


if __name__ == "__main__":
    main()
