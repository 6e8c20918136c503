"""Row-wise `decide()` throughput in-process, beside the vectorised form on the same members.

.venv/bin/python bench/decide.py [--members N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from consentry.decide import ConsentFacts, RecordFacts, decide, decide_members
from consentry.demo.synth import SyntheticPlatform
from consentry.policy import load_policy
from consentry.store.protocol import SNAPSHOT_SCHEMA

POLICY = Path(__file__).resolve().parents[1] / "examples" / "policies" / "social-network.yaml"
AT = datetime(2025, 12, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    policy = load_policy(POLICY)
    members = SyntheticPlatform(members_count=args.members).members
    record = RecordFacts(kind="post", visibility="public", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    none = ConsentFacts()

    row_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for m in members:
            decide(policy, "genai_training", m, none, at=AT, record=record)
        row_times.append(time.perf_counter() - t0)

    snapshot = pa.Table.from_pylist(
        [
            {"member_id": m.member_id, "country": m.country, "birth_date": m.birth_date,
             "created_at": m.created_at, "closed_at": m.closed_at}
            for m in members
        ],
        schema=SNAPSHOT_SCHEMA,
    )  # fmt: skip
    vec_times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        decide_members(policy, "genai_training", snapshot, at=AT, now=AT)
        vec_times.append(time.perf_counter() - t0)

    row, vec = statistics.median(row_times), statistics.median(vec_times)
    print(f"members: {args.members:,}  (median of {args.runs})")
    print(f"row-wise decide():     {args.members / row:>12,.0f} decisions/s")
    print(f"vectorised (members):  {args.members / vec:>12,.0f} decisions/s  ({row / vec:.0f}x row-wise)")


if __name__ == "__main__":
    main()
