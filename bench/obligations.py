"""Forgetting obligations: the time to compute every obligation of every model.

    .venv/bin/python bench/obligations.py            # 1,000,000 members, 20 models over 40 builds, 100,000 withdrawals
    .venv/bin/python bench/obligations.py --quick    # 50,000 members, 4 models over 8 builds, 5,000 withdrawals

Target: <= 5 s on SQLite for the full size. The builds are registered with
their member sets directly (what a build registers; their Parquet output plays
no part in obligations): each holds about 70 % of the members, and the 40
builds are as of --scopes distinct moments (a monthly build of several
sources). Models: five names with four versions each, each version trained on
two builds. Withdrawals are denies recorded after every build.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.models import register_model
from consentry.pipeline.obligations import obligations
from consentry.policy import load_policy
from consentry.store import Member, NewEvent, SqlStore, open_store
from consentry.store.builds import BuildRecord
from consentry.vocab import Choice, Source

POLICY = Path(__file__).resolve().parent.parent / "examples" / "policies" / "social-network.yaml"
PURPOSE = "genai_training"
JOINED = datetime(2024, 1, 1, tzinfo=UTC)
FIRST_T = datetime(2025, 1, 1, tzinfo=UTC)


def _seed_members(store: SqlStore, n: int) -> pa.Array:
    store.publish(load_policy(POLICY))
    store.add_members(Member(f"m{i:08d}", "US", date(1980, 1, 1), JOINED) for i in range(n))
    return pa.array([f"m{i:08d}" for i in range(n)], pa.string())


def _register_builds(store: SqlStore, ids: pa.Array, builds: int, scopes: int, decided: datetime) -> list[str]:
    """`builds` complete builds, each ~70 % of the members, as of `scopes` distinct months."""
    n = len(ids)
    index = pa.array(range(n), pa.int64())
    records = pc.add(pc.bit_wise_and(index, 3), 1)
    out = []
    for b in range(builds):
        keep = pc.less(pc.bit_wise_and(pc.multiply(pc.add(index, 7919 * (b + 1)), 2654435761), 1023), 717)
        members = pa.table({"member_id": ids, "records": records}).filter(keep)
        build_id = f"b-bench-{b:03d}"
        record = BuildRecord(
            build_id=build_id,
            purpose=PURPOSE,
            as_of=FIRST_T + timedelta(days=30 * (b % scopes)),
            created_at=decided,
            out_dir=f"/nonexistent/{build_id}",
            engine="local",
            counts={"included": int(pc.sum(members.column("records")).as_py())},
            manifest_sha256="0" * 64,
            members=members.num_rows,
            predecessor=None,
            decided_at=decided,
        )
        store.builds.register_pending(record, members)
        store.builds.mark_complete(build_id)
        out.append(build_id)
    return out


def run(members: int, builds: int, models: int, withdrawals: int, scopes: int) -> None:
    """Seed a SQLite store, then time `obligations()` over it."""
    with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp:
        store = open_store(f"sqlite:///{tmp}/consentry.db")
        t0 = time.perf_counter()
        ids = _seed_members(store, members)
        decided = datetime.now(UTC) - timedelta(days=3)
        build_ids = _register_builds(store, ids, builds, scopes, decided)
        names, per_name = models // 4 or 1, 4 if models >= 4 else models
        for v in range(models):
            name, version = f"model-{v // per_name}", str(v % per_name + 1)
            pair = [build_ids[(2 * v) % builds], build_ids[(2 * v + 1) % builds]]
            register_model(store, name, version, pair, trained_at=decided + timedelta(hours=v % per_name))
        rng = random.Random(13)
        chosen = rng.sample(range(members), withdrawals)
        store.record_many(NewEvent(f"m{i:08d}", PURPOSE, Choice.DENY, None, Source.SETTINGS) for i in chosen)
        store.refresh_member_image()
        print(
            f"seeded {members:,} members, {builds} builds as of {scopes} moments, {models} models "
            f"({names} names), {withdrawals:,} withdrawals in {time.perf_counter() - t0:.1f} s"
        )
        for attempt in (1, 2):
            w0, c0 = time.perf_counter(), time.process_time()
            found = obligations(store)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            statuses = Counter(o.status for o in found)
            affected = sum(o.member_count for o in found)
            print(
                f"run {attempt}: {len(found)} obligations ({dict(statuses)}), {affected:,} member-model pairs, "
                f"{wall:.2f} s wall, {cpu:.2f} s CPU"
            )
        store.close()


def main() -> None:
    """Parse the options and run."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--builds", type=int, default=40)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--withdrawals", type=int, default=100_000)
    ap.add_argument("--scopes", type=int, default=4, help="distinct as-of moments among the builds")
    ap.add_argument("--quick", action="store_true", help="a small smoke run")
    a = ap.parse_args()
    if a.quick:
        a.members, a.builds, a.models, a.withdrawals = 50_000, 8, 4, 5_000
    run(a.members, a.builds, a.models, a.withdrawals, a.scopes)


if __name__ == "__main__":
    main()
