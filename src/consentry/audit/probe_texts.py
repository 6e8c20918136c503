"""The source texts the extraction probe prompts with: members in a model's builds, and members not in them.

The probe needs the personal data as it stood before scrubbing, so it reads the
builds' registered sources (never the outputs, which may be scrubbed). A record
goes to the members' side when its member is in the member set of one of the
model's builds, to the baseline otherwise; malformed records and records
without text are left out. Sources that can no longer be read stop the audit:
the probe cannot be decided without them.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from consentry.errors import ConsentryError, ModelError
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store

__all__ = ["MAX_TEXTS", "probe_texts"]

#: Texts per side the probe reads at most (a uniform sample beyond that)
MAX_TEXTS = 2_000


def _members(store: Store, model: ModelRecord) -> set[str]:
    out: set[str] = set()
    for build_id in model.builds:
        out.update(str(m) for m in store.builds.members(build_id).column("member_id").to_pylist())
    return out


def _sources(store: Store, model: ModelRecord) -> list[str]:
    out: list[str] = []
    for build_id in model.builds:
        record = store.builds.get(build_id)
        if record is not None:
            out += [s for s in record.sources if s not in out]
    return out


def _rows(sources: list[str]) -> list[tuple[str, str]]:
    import duckdb

    from consentry.pipeline.engines.local_sql import records_sql, register_signals
    from consentry.pipeline.sources import resolve_sources, stage_text_sources

    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="consentry-probe-") as tmp:
            staged = stage_text_sources(resolve_sources(sources), (), Path(tmp))
            con.execute("SET enable_progress_bar = false")
            register_signals(con, staged)
            con.execute(f"CREATE TEMP VIEW r AS {records_sql(staged, ())}")
            rows = con.execute(
                "SELECT member_id, text FROM r WHERE NOT _malformed AND text IS NOT NULL ORDER BY record_id"
            ).fetchall()
    finally:
        con.close()
    return [(str(m), str(t)) for m, t in rows]


def probe_texts(store: Store, model: ModelRecord, *, rng: random.Random) -> tuple[list[str], list[str]]:
    """(texts of members in the model's builds, texts of members not in them), at most MAX_TEXTS each."""
    sources = _sources(store, model)
    try:
        rows = _rows(sources)
    except (ConsentryError, OSError) as e:
        raise ModelError(
            f"the sources of model {model.name}@{model.version}'s builds cannot be read ({e}); "
            "the extraction probe prompts with them: restore them and audit again"
        ) from None
    members = _members(store, model)
    inside = [t for m, t in rows if m in members]
    outside = [t for m, t in rows if m not in members]
    return (
        rng.sample(inside, MAX_TEXTS) if len(inside) > MAX_TEXTS else inside,
        rng.sample(outside, MAX_TEXTS) if len(outside) > MAX_TEXTS else outside,
    )
