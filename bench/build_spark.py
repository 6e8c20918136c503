"""Benchmark: `build(..., engine="spark")` (local[N]) against the local engine, side by side.

    .venv/bin/python bench/build_spark.py                          # 1M records; scrubbed on 200k
    .venv/bin/python bench/build_spark.py --records 10000000 --runs 2 --no-scrub
    .venv/bin/python bench/build_spark.py --quick                  # 200k records, 1 run

Uses the lakes and stores bench/build.py generates under bench/out/ (same
seed, same sizes: 1M members for 1M and 10M records, 100k for 200k). Every
build registers into a fresh copy of the build-free store. In one process, per
Spark configuration: the session is started (timed apart), then the local
engine and Spark build alternately; the first Spark build of a session (JIT
warm-up, as a one-off `consentry build --engine spark` pays it) is reported
apart from the median of the following ones. Per-stage times come from the
build's progress callback. Scrubbed builds are timed on Spark with 1 and 2
executor cores. Ratios are taken between runs of the same loop.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_build", ROOT / "build.py")
assert _spec is not None and _spec.loader is not None
bench_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_build)

OUT = bench_build.OUT
PURPOSE = "genai_training"
KEY = b"bench-pseudonym-key"
#: the local engine's DuckDB memory limit (build()'s default unless --local-memory)
LOCAL_MEMORY = ["1GB"]


def lake_for(records: int) -> tuple[Path, Path]:
    """(pristine store, records dir) as bench/build.py makes them for this size."""
    members = 100_000 if records <= 200_000 else 1_000_000
    pristine = OUT / f"store-{members}.db"
    bench_build.make_store(members, pristine)
    lake = bench_build.make_lake(records, members, OUT / f"lake-{records}" / "records")
    return pristine, lake


def _build(pristine: Path, lake: Path, work: Path, engine: str, scrub: bool) -> dict[str, float]:
    """One build into a fresh store copy; wall seconds in total and per stage (NaN if it failed)."""
    from consentry.errors import ConsentryError
    from consentry.pipeline import build
    from consentry.store import open_store
    from consentry.timeutil import parse_instant

    db, out = work / "store.db", work / f"out-{engine}"
    bench_build._fresh_copy(pristine, db)
    shutil.rmtree(out, ignore_errors=True)
    store = open_store(f"sqlite:///{db}")
    marks: list[tuple[str, float]] = []

    def progress(p: Any) -> None:
        if not marks or marks[-1][0] != p.stage.value:
            marks.append((p.stage.value, time.perf_counter()))

    start = time.perf_counter()
    try:
        build(store, PURPOSE, [str(lake)], out, as_of=parse_instant(bench_build.AS_OF), engine=engine,
              scrub=scrub, key=KEY, progress=progress, memory_limit=LOCAL_MEMORY[0])  # fmt: skip
    except ConsentryError as e:
        print(json.dumps({"engine": engine, "failed": str(e)[:300]}), file=sys.stderr, flush=True)
        return {"total": math.nan}
    finally:
        store.close()  # type: ignore[attr-defined]
    end = time.perf_counter()
    times = {"total": end - start}
    print(json.dumps({"engine": engine, "scrub": scrub, "s": round(end - start, 2)}), file=sys.stderr, flush=True)
    for (stage, t0), (_, t1) in zip(marks, [*marks[1:], ("end", end)], strict=True):
        times[stage] = t1 - t0
    shutil.rmtree(out, ignore_errors=True)
    return times


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = max(runs, key=len)
    return {k: round(statistics.median(r.get(k, math.nan) for r in runs), 2) for k in keys}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def side_by_side(records: int, cores: int, scrub: bool, runs: int, with_local: bool = True) -> dict[str, Any]:
    """One Spark session local[cores]: start-up, a first build, then `runs` alternating local/Spark builds."""
    from consentry.pipeline.engines.spark import SparkOptions, spark_session

    pristine, lake = lake_for(records)
    work = OUT / f"spark-bench-{records}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start, session = _timed(lambda: spark_session(SparkOptions(master=f"local[{cores}]", app_name="consentry-bench")))
    session.sparkContext.setLogLevel("ERROR")
    local: list[dict[str, float]] = []
    spark: list[dict[str, float]] = []
    try:
        first = _build(pristine, lake, work, "spark", scrub)
        for _ in range(runs):
            if with_local:
                local.append(_build(pristine, lake, work, "local", scrub))
            spark.append(_build(pristine, lake, work, "spark", scrub))
    finally:
        session.stop()
    shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {
        "records": records,
        "scrub": scrub,
        "spark_master": f"local[{cores}]",
        "runs": runs,
        "spark_start_s": round(start, 2),
        "spark_first_build_s": round(first["total"], 2),
        "spark_build_s": _median(spark),
        "spark_build_runs_s": [round(r["total"], 2) for r in spark],
    }
    if local:
        result["local_build_s"] = _median(local)
        result["local_build_runs_s"] = [round(r["total"], 2) for r in local]
        ratios = [s["total"] / loc["total"] for s, loc in zip(spark, local, strict=True)]
        result["spark_vs_local"] = round(statistics.median(ratios), 2)
        result["spark_first_vs_local"] = round(first["total"] / result["local_build_s"]["total"], 2)
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def main() -> None:
    """Parse arguments, run, print the figures as JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, action="append", help="unscrubbed lake sizes (default 1M)")
    ap.add_argument("--scrub-records", type=int, default=200_000, help="lake size for the scrubbed builds")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-scrub", action="store_true", help="skip the scrubbed builds")
    ap.add_argument("--scrub-only", action="store_true", help="only the scrubbed builds")
    ap.add_argument("--quick", action="store_true", help="200k records, 1 run")
    ap.add_argument("--scrub-cores", type=lambda v: [int(c) for c in v.split(",")], default=[2, 1],
                    help="Spark cores for scrubbed builds, in order (later sessions reuse a warm JVM)")  # fmt: skip
    ap.add_argument("--local-memory", default="1GB", help="the local engine's memory limit")
    args = ap.parse_args()
    LOCAL_MEMORY[0] = args.local_memory
    sizes = [200_000] if args.quick else args.records or [1_000_000]
    runs = 1 if args.quick else args.runs
    results = []
    if not args.scrub_only:
        results += [side_by_side(n, 2, False, runs) for n in sizes]
    if not args.no_scrub:
        n = 200_000 if args.quick else args.scrub_records
        scrubbed = {c: side_by_side(n, c, True, runs, with_local=c == 2) for c in args.scrub_cores}
        results += scrubbed.values()
        if 1 in scrubbed and 2 in scrubbed:
            two, one = scrubbed[2], scrubbed[1]
            ratio = round(one["spark_build_s"]["total"] / two["spark_build_s"]["total"], 2)
            print(json.dumps({"scrubbed_local1_vs_local2": ratio}))
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
