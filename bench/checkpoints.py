"""What signed checkpoints cost: `ledger verify` with and without them, taking one, proving one event.

    .venv/bin/python bench/checkpoints.py            # 1,000,000 events, 10 checkpoints
    .venv/bin/python bench/checkpoints.py --quick    # 100,000 events, a smoke run

The ledger is filled in ten equal steps with a checkpoint after each, so the
anchored verify checks ten prefixes. Target: verify against the checkpoints
within 1.5x of the plain verify, measured side by side (median of --repeat).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger import POLICY, START, _events, _members

from consentry.policy import load_policy
from consentry.store import SqlStore, anchors, open_store
from consentry.store import checkpoints as cps


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main() -> None:
    """Fill a SQLite store with checkpoints along the way, then time verify with and without them."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory() as d:
        key_file = Path(d) / "key.pem"
        cps.generate_key(key_file)
        key = cps.load_private_key({cps.KEY_FILE_ENV: str(key_file)})
        store: SqlStore = open_store(f"sqlite:///{d}/bench.db")
        store.publish(load_policy(POLICY))
        store.add_members(_members(n))
        events = _events(n, n)
        step = n // 10
        take: list[float] = []
        for i in range(10):
            store.record_many(events[i * step : (i + 1) * step])
            t0 = time.perf_counter()
            signed = anchors.take_checkpoint(store, key, START)
            take.append(time.perf_counter() - t0)
            cps.write_checkpoint(signed, Path(d) / "cp", key.public_key())
        found = cps.anchors_from_checkpoints(cps.read_checkpoints(Path(d) / "cp"), key.public_key())
        plain, plain_runs = _median(store.verify, args.repeat)
        anchored, anchored_runs = _median(lambda: anchors.verify_against(store, found), args.repeat)
        last = cps.read_checkpoints(Path(d) / "cp")[-1]
        prove, _ = _median(lambda: anchors.prove_event(store, n // 2, last), args.repeat)
        assert anchors.verify_against(store, found).ok
        store.close()
    print(f"events: {n:,}; checkpoints: 10")
    print(f"verify, plain:              median {plain:.2f} s (runs {', '.join(f'{x:.2f}' for x in plain_runs)})")
    print(f"verify, 10 checkpoints:     median {anchored:.2f} s (runs {', '.join(f'{x:.2f}' for x in anchored_runs)})")
    print(f"ratio anchored / plain:     {anchored / plain:.2f}x (target <= 1.5x)")
    print(f"take a checkpoint at {n:,}: {take[-1]:.2f} s")
    print(f"prove one event:            median {prove:.2f} s")


if __name__ == "__main__":
    main()
