"""Benchmark: `consentry build --engine spark` (local[N]) against the local engine, side by side.

    .venv/bin/python bench/build_spark.py --records 1000000 [--members 1000000] [--runs 3] [--quick]

A synthetic lake (fixed seed; ~300-byte texts; a mix of kinds, visibilities,
countries, ages and opt-outs) is generated under bench/out/ once per size. For
each run the same store and sources are built by the local engine and by
Spark; Spark session start-up is timed separately from the build. With the
scrubber available, scrubbed builds are timed too, on Spark with 1 and 2
executor cores. Medians over --runs are printed, with ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
POLICY = ROOT / "examples" / "policies" / "social-network.yaml"
PURPOSE = "genai_training"
AS_OF = datetime(2025, 1, 15, tzinfo=UTC)
KEY = b"bench-pseudonym-key"
WORDS = [
    "the",
    "a",
    "model",
    "data",
    "team",
    "launch",
    "product",
    "growth",
    "hiring",
    "remote",
    "engineer",
    "market",
    "sales",
    "design",
    "review",
    "quarter",
    "customer",
    "feedback",
    "roadmap",
    "meeting",
    "platform",
    "network",
    "learning",
    "python",
    "spark",
    "cloud",
    "security",
    "privacy",
]


def _texts(rng: np.random.Generator, n: int) -> pa.Array:
    """~300-byte texts made of common words (a little PII in every 50th)."""
    vocab = np.array(WORDS)
    base = [" ".join(rng.choice(vocab, 48)) for _ in range(997)]
    idx = rng.integers(0, len(base), n)
    texts = np.array(base, dtype=object)[idx]
    pii = np.arange(n) % 50 == 0
    texts[pii] = [f"{t} mail me at user{i}@example.com" for i, t in zip(np.nonzero(pii)[0], texts[pii], strict=True)]
    return pa.array(texts, pa.string())


def make_lake(records: int, members: int, seed: int = 7) -> tuple[Path, Path]:
    """(members.parquet, records dir) for this size, generated once."""
    home = OUT / f"spark-lake-{records}-{members}"
    members_file, records_dir = home / "members.parquet", home / "records"
    if (home / ".done").exists():
        return members_file, records_dir
    shutil.rmtree(home, ignore_errors=True)
    records_dir.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    ids = np.array([f"m{i:08d}" for i in range(members)], dtype=object)
    countries = rng.choice(
        np.array(["US", "BR", "IN", "FR", "DE", "GB", "CA", "JP"]),
        members,
        p=[0.4, 0.1, 0.2, 0.06, 0.06, 0.06, 0.07, 0.05],
    )
    births = [date(1950, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 365 * 62, members)]
    pq.write_table(
        pa.table(
            {
                "member_id": pa.array(ids, pa.string()),
                "country": pa.array(countries, pa.string()),
                "birth_date": pa.array(births, pa.date32()),
                "created_at": pa.array([datetime(2020, 1, 1, tzinfo=UTC)] * members, pa.timestamp("us", tz="UTC")),
            }
        ),
        members_file,
    )
    kinds = np.array(["post", "comment", "article", "private_message", "profile"])
    vis = np.array(["public", "connections", "private"])
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    span = int(400 * 86400 * 1e6)
    per_file = 1_000_000
    for f, lo in enumerate(range(0, records, per_file)):
        n = min(per_file, records - lo)
        deleted = rng.random(n) < 0.02
        created = start + rng.integers(0, span, n)
        table = pa.table(
            {
                "record_id": pa.array([f"r{lo + i:010d}" for i in range(n)], pa.string()),
                "member_id": pa.array(ids[rng.integers(0, members, n)], pa.string()),
                "kind": pa.array(kinds[rng.choice(5, n, p=[0.5, 0.3, 0.1, 0.05, 0.05])], pa.string()),
                "visibility": pa.array(vis[rng.choice(3, n, p=[0.8, 0.15, 0.05])], pa.string()),
                "created_at": pa.array(created, pa.timestamp("us", tz="UTC")),
                "deleted_at": pa.array(created + 86_400_000_000, pa.timestamp("us", tz="UTC"), mask=~deleted),
                "text": _texts(rng, n),
                "language": pa.array(["en"] * n, pa.string()),
            }
        )
        pq.write_table(table, records_dir / f"part-{f:03d}.parquet", compression="zstd")
    (home / ".done").touch()
    return members_file, records_dir


def make_store(members_file: Path, workdir: Path) -> Any:
    """A fresh SQLite store with the reference policy, the members and 5 % opt-outs."""
    from consentry.ledger import open_store
    from consentry.ledger.protocol import NewEvent
    from consentry.policy import load_policy
    from consentry.vocab import Choice, Source

    store = open_store(f"sqlite:///{workdir / 'consentry.db'}")
    store.publish(load_policy(POLICY))
    store.import_members(members_file)
    ids = pq.read_table(members_file, columns=["member_id"]).column(0).to_pylist()
    store.record_many(
        NewEvent(m, PURPOSE, Choice.DENY, datetime(2024, 12, 1, tzinfo=UTC), Source.SETTINGS) for m in ids[::20]
    )
    return store


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _build(store: Any, source: Path, out: Path, engine: str, scrub: bool) -> float:
    from consentry.pipeline import build

    shutil.rmtree(out, ignore_errors=True)
    seconds, _ = _timed(
        lambda: build(store, PURPOSE, [str(source)], out, as_of=AS_OF, engine=engine, scrub=scrub, key=KEY)
    )
    return seconds


def _spark_runs(store: Any, source: Path, work: Path, cores: int, scrub: bool, runs: int) -> dict[str, list[float]]:
    from consentry.pipeline.engines.spark import SparkOptions, spark_session

    times: dict[str, list[float]] = {"start": [], "build": []}
    start, session = _timed(lambda: spark_session(SparkOptions(master=f"local[{cores}]", app_name="consentry-bench")))
    session.sparkContext.setLogLevel("ERROR")
    times["start"].append(start)
    try:
        for _ in range(runs):
            times["build"].append(_build(store, source, work / f"out-spark{cores}", "spark", scrub))
    finally:
        session.stop()
    return times


def run(records: int, members: int, runs: int, scrub_modes: list[bool]) -> dict[str, Any]:
    """Time the local engine and Spark on one lake; return the figures."""
    from consentry.pipeline.steps import scrubber_available

    members_file, source = make_lake(records, members)
    work = OUT / f"spark-work-{records}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = make_store(members_file, work)
    results: dict[str, Any] = {"records": records, "members": members, "runs": runs}
    for scrub in scrub_modes:
        if scrub and not scrubber_available():
            results["scrub"] = "scrubber not available"
            continue
        label = "scrub" if scrub else "no_scrub"
        local = [_build(store, source, work / "out-local", "local", scrub) for _ in range(runs)]
        entry: dict[str, Any] = {"local_s": statistics.median(local)}
        for cores in [1, 2] if scrub else [2]:
            t = _spark_runs(store, source, work, cores, scrub, runs)
            entry[f"spark{cores}_start_s"] = statistics.median(t["start"])
            entry[f"spark{cores}_build_s"] = statistics.median(t["build"])
            entry[f"spark{cores}_vs_local"] = round(statistics.median(t["build"]) / entry["local_s"], 2)
        results[label] = entry
        print(json.dumps({label: entry}), file=sys.stderr, flush=True)
    store.close()
    return results


def main() -> None:
    """Parse arguments, run, print the figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--members", type=int, default=None, help="default: min(records, 1M)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-scrub-only", action="store_true", help="skip the scrubbed builds")
    ap.add_argument("--quick", action="store_true", help="100k records, 1 run")
    args = ap.parse_args()
    records = 100_000 if args.quick else args.records
    runs = 1 if args.quick else args.runs
    members = args.members or min(records, 1_000_000)
    modes = [False] if args.no_scrub_only else [False, True]
    print(json.dumps(run(records, members, runs, modes), indent=2))


if __name__ == "__main__":
    main()
