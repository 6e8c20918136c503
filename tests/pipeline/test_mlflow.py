"""MLflow: log_build ties a run to a build; models sync registers runs and model versions (one tracking store).

MLflow takes seconds to import and to create a tracking store, so this module
shares one SQLite tracking store (tmp) between its tests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

import consentry.mlflow as cmlflow
from consentry.errors import ConfigError, InputError, ModelError
from consentry.pipeline.models import list_models
from pipeline.lake import KEY, Platform, lake_records, write_parquet
from pipeline.test_build import _build


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def _run(experiment: str, out: Path | None, *, register: str | None = None) -> str:
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        if out is not None:
            cmlflow.log_build(out)
        mlflow.log_param("lr", 0.1)
    if register:
        client = MlflowClient()
        if not client.search_registered_models(filter_string=f"name = '{register}'"):
            client.create_registered_model(register)
        client.create_model_version(register, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    return str(run.info.run_id)


def test_log_build_and_sync(platform: Platform, tracking: str) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = platform.root / "v1"
    build_id = _build(platform, [src], out="v1").build_id  # type: ignore[attr-defined]
    sha = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()

    with pytest.raises(ConfigError, match="no active MLflow run"):
        cmlflow.log_build(out)
    with pytest.raises(InputError, match="not a Consentry build manifest"):
        cmlflow.log_build(platform.root)
    plain = _run("ranker-dev", out)
    registered = _run("ranker-dev", out, register="ranker")
    _run("unrelated", None)
    (inp,) = mlflow.get_run(plain).inputs.dataset_inputs
    assert inp.dataset.digest == sha[:36] and {t.key: t.value for t in inp.tags}[cmlflow.DIGEST_TAG] == sha

    synced = cmlflow.sync_models(platform.store, tracking)
    assert {(s["name"], s["version"], s["run_id"]) for s in synced} == {
        ("ranker-dev", plain, plain),
        ("ranker", "1", registered),
    }
    assert all(s["builds"] == [build_id] and s["new"] for s in synced)
    assert {m.uri for m in list_models(platform.store)} == {f"runs:/{plain}", "models:/ranker/1"}
    again = cmlflow.sync_models(platform.store, tracking)  # identical: nothing new
    assert not any(s["new"] for s in again) and len(list_models(platform.store)) == 2


def test_sync_refuses_an_unknown_digest_or_server_and_writes_nothing(platform: Platform, tracking: str) -> None:
    # The runs of the test above name builds of another store: their digests match nothing here.
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src], out="mine")
    with pytest.raises(ModelError, match=r"MLflow run \w+ \(experiment ranker-dev\): input digest .* matches no"):
        cmlflow.sync_models(platform.store, tracking)
    assert list_models(platform.store) == []
    env = {**os.environ, "CONSENTRY_DB": platform.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}
    cmd = [sys.executable, "-m", "consentry.cli", "models", "sync", "--mlflow-tracking-uri", "http://127.0.0.1:9"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "MLflow at http://127.0.0.1:9 cannot be read" in done.stderr
    assert list_models(platform.store) == []
