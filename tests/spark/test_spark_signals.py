"""Web content with rights holders' signals on Spark: the same exclusions, causes and rows as the local engine.

Records excluded by each kind of signal (aipref, TDMRep header and file,
robots.txt and X-Robots-Tag, CAWG in a captured manifest and in a signed
asset), and by unreadable ones, from Parquet (an Arrow UDF in Spark) and
JSONL (parsed while staging); the persisted path (remote-style, one read of
the lake) counts the causes too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline.lake import GENAI, KEY, Platform, platform, write_jsonl
from pipeline.test_signals_build import write_web_parquet
from signals.assets import signed_png, signer
from signals.captured import AS_OF, expected, web_records

from consentry.pipeline import build, read_manifest

pytestmark = pytest.mark.spark
__all__ = ["platform"]


def _rows(out: Path) -> list[dict[str, Any]]:
    table = pa.concat_tables(pq.read_table(f) for f in sorted(out.glob("part-*.parquet")))
    return sorted(table.to_pylist(), key=lambda r: r["record_id"])


def test_spark_excludes_what_each_signal_reserves_as_the_local_engine_does(
    spark: Any, platform: Platform, tmp_path: Path
) -> None:
    image = signed_png(tmp_path / "media" / "photo.png", {"cawg.ai_training": {"use": "constrained"}}, signer())
    rows = web_records({"media": ({"media": str(image)}, "https://photos.example/17.png", "cawg")})
    want, causes = expected({"cawg": 1})
    sources = [
        write_web_parquet(tmp_path / "lake" / "web.parquet", rows[: len(rows) // 2]),
        write_jsonl(tmp_path / "lake" / "web.jsonl", rows[len(rows) // 2 :]),
    ]
    outs = {}
    for engine in ("local", "spark"):
        out = platform.root / f"out-{engine}"
        build(platform.store, GENAI, sources, out, as_of=AS_OF, scrub=False, key=KEY, engine=engine)
        counts = read_manifest(out)["counts"]
        assert counts["included"] == want["ALLOWED"], engine
        assert counts["excluded"]["RESERVED_BY_RIGHTS_HOLDER"] == want["RESERVED_BY_RIGHTS_HOLDER"], engine
        assert counts["reserved_by_signal"] == causes, engine
        outs[engine] = _rows(out)
    assert outs["spark"] == outs["local"]


def test_the_persisted_spark_path_counts_the_causes_too(spark: Any, platform: Platform, tmp_path: Path) -> None:
    """A source given as a URI is read by Spark alone; the decided relation is persisted and tallied with causes."""
    rows = web_records()
    want, causes = expected()
    lake = write_web_parquet(tmp_path / "lake" / "web.parquet", rows)
    out = platform.root / "out"
    build(platform.store, GENAI, [lake.absolute().as_uri()], out, as_of=AS_OF, scrub=False, key=KEY, engine="spark")
    counts = read_manifest(out)["counts"]
    assert counts["included"] == want["ALLOWED"]
    assert counts["reserved_by_signal"] == causes
