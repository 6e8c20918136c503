"""Benchmark: a scrubbed build against the same build `--no-scrub`, back to back (local engine).

    .venv/bin/python bench/scrub_build.py [--records N] [--members M] [--out-dir DIR]

Uses bench/build.py's synthetic store and lake (made on first use under --out-dir,
default bench/out/): ~300-byte word-salad texts with no personal data. Runs
`consentry build --no-scrub`, then the same build scrubbed (the default), each in
a fresh copy of the store and a fresh process; prints wall and CPU seconds (the
build's process and its scrub workers), peak RSS, the scrubbed/unscrubbed ratios
and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.build import _BUILD, AS_OF, _children_cpu, _fresh_copy, make_lake, make_store


def run(lake: Path, pristine: Path, work: Path, scrub: bool) -> dict[str, float]:
    """One build in a fresh store copy: wall s, CPU s (children), peak RSS MB and rows included."""
    run_db = work / "store-run.db"
    _fresh_copy(pristine, run_db)
    out = work / ("scrubbed" if scrub else "unscrubbed")
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "CONSENTRY_DB": f"sqlite:///{run_db}", "CONSENTRY_PSEUDONYM_KEY": "bench-pseudonym-key"}
    cmd = [sys.executable, "-c", _BUILD, "build", "--purpose", "genai_training", "--source", str(lake),
           "--out", str(out), "--as-of", AS_OF, *([] if scrub else ["--no-scrub"])]  # fmt: skip
    os.sync()
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall, used = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    summary = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("{\n") :])[0]
    shutil.rmtree(out, ignore_errors=True)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(used, 2),
        "peak_rss_mb": round(json.loads(proc.stderr.strip().splitlines()[-1])["maxrss_mb"]),
        "included": summary["counts"]["included"],
    }


def main() -> None:
    """Parse options, run both builds, print one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    pristine = args.out_dir / f"store-{args.members}.db"
    make_store(args.members, pristine)
    lake = make_lake(args.records, args.members, args.out_dir / f"lake-{args.records}" / "records")
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"consentry-scrub-build-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        load_before = os.getloadavg()
        plain = run(lake, pristine, work, scrub=False)
        scrubbed = run(lake, pristine, work, scrub=True)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "records": args.records,
                "no_scrub": plain,
                "scrubbed": scrubbed,
                "wall_ratio": round(scrubbed["wall_s"] / plain["wall_s"], 2),
                "cpu_ratio": round(scrubbed["cpu_s"] / plain["cpu_s"], 2),
                "load_before": [round(x, 1) for x in load_before],
                "load_after": [round(x, 1) for x in load_after],
            }
        )
    )


if __name__ == "__main__":
    main()
