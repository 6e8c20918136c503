"""Spark options and paths, checked without starting Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry.errors import InputError
from consentry.pipeline.engines.spark import parse_spark_conf, spark_scope
from consentry.pipeline.engines.spark_io import has_scheme
from consentry.pipeline.sources import resolve_sources


def test_spark_conf_pairs_are_parsed() -> None:
    conf = parse_spark_conf(["spark.executor.memory=4g", " spark.sql.shuffle.partitions = 64", "a.b=x=y"])
    assert conf == {"spark.executor.memory": "4g", "spark.sql.shuffle.partitions": "64", "a.b": "x=y"}


@pytest.mark.parametrize("bad", ["spark.executor.memory", "=4g", ""])
def test_a_spark_conf_without_key_and_value_names_the_option(bad: str) -> None:
    with pytest.raises(InputError) as e:
        parse_spark_conf([bad])
    assert "--spark-conf" in str(e.value)


def test_spark_options_need_the_spark_engine() -> None:
    with pytest.raises(InputError, match="--engine spark"), spark_scope("local", "local[2]"):
        pass
    with pytest.raises(InputError, match="--engine spark"), spark_scope("local", None, ["a=b"]):
        pass
    with spark_scope("local"):  # no Spark options, no session
        pass


@pytest.mark.parametrize(
    ("spec", "remote"),
    [
        ("s3a://bucket/lake/", True),
        ("hdfs:///lake", True),
        ("/data/lake", False),
        ("lake/*.parquet", False),
        ("C://odd", False),
    ],
)
def test_uris_with_a_scheme_are_told_from_local_paths(spec: str, remote: bool) -> None:
    assert has_scheme(spec) is remote


@pytest.mark.parametrize(
    "uri", ["s3a://bucket/lake/", "hdfs:///lake", "file:///data/lake", "gs://b/x", "abfss://c@a/x"]
)
def test_the_local_engine_refuses_uris_and_points_to_spark(uri: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        resolve_sources([uri])
    assert uri in str(e.value) and "--engine spark" in str(e.value)
    kept = resolve_sources([uri], remote=True)  # the Spark engine's driver does not look for them on its disk
    assert kept.remote == (uri,) and kept.files == ()
    assert kept.registered() == (uri,)
