"""MLflow, the model registry people already run: tie training runs to Consentry builds, and register them here.

In a training script, one line inside the run:

    import mlflow, consentry.mlflow
    with mlflow.start_run():
        consentry.mlflow.log_build("out/genai-2025-12")   # the build directory (or its manifest.json)
        ...train...

logs the build as a dataset input of the active run: name `consentry:<build id>`,
the build directory as its source, and as digest the manifest's SHA-256 — its
first 36 hex digits, the longest digest MLflow keeps, with the whole SHA-256 as
the input's tag `consentry.manifest_sha256`. Then `consentry models sync
--mlflow-tracking-uri URI` (`sync_models`) registers every run and registered
model version whose inputs carry a build digest.

`mlflow` (the `mlflow` extra: MLflow's client distribution) is imported only
here, and only when one of these functions runs: it takes seconds to import.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentry.errors import ConfigError, ConsentryError, InputError, ModelError, NotFoundError
from consentry.store.protocol import Store

__all__ = ["DIGEST_TAG", "MLFLOW_DIGEST_CHARS", "log_build", "sync_models"]

#: The input tag holding a build manifest's whole SHA-256
DIGEST_TAG = "consentry.manifest_sha256"
#: MLflow keeps dataset digests of at most 36 characters
MLFLOW_DIGEST_CHARS = 36


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise ConfigError("MLflow is not installed; install Consentry with the `mlflow` extra") from None
    return mlflow


def log_build(path: str | os.PathLike[str], *, context: str = "training") -> str:
    """Log the build at `path` (its directory or manifest.json) as a dataset input of the active MLflow run.

    Returns the manifest's SHA-256. InputError when `path` holds no readable
    manifest; ConfigError when no MLflow run is active.
    """
    mlflow = _mlflow()
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    manifest = Path(path)
    if manifest.is_dir():
        manifest = manifest / "manifest.json"
    try:
        raw = manifest.read_bytes()
        build_id = str(json.loads(raw)["build_id"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{manifest}: not a Consentry build manifest; give the build's output directory") from None
    if mlflow.active_run() is None:
        raise ConfigError("no active MLflow run: call log_build inside `with mlflow.start_run():`")
    sha = hashlib.sha256(raw).hexdigest()
    with warnings.catch_warnings():  # a local path "can be interpreted in multiple ways": all of them local
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(str(manifest.parent.resolve()))
    dataset = MetaDataset(source, name=f"consentry:{build_id}", digest=sha[:MLFLOW_DIGEST_CHARS])  # type: ignore[abstract]
    mlflow.log_input(dataset, context=context, tags={DIGEST_TAG: sha, "consentry.build_id": build_id})
    return sha


@dataclass(frozen=True)
class _Found:
    """A run or model version to register: its name, version, builds, training time, URI and run."""

    name: str
    version: str
    builds: tuple[str, ...]
    trained_at: datetime
    uri: str
    run_id: str


def _digests(run: Any) -> list[tuple[str, str | None]]:
    """(digest, whole SHA-256 or None) of every Consentry input of an MLflow run."""
    out = []
    for inp in run.inputs.dataset_inputs if run.inputs else ():
        tags = {t.key: t.value for t in inp.tags}
        if DIGEST_TAG in tags or str(inp.dataset.name).startswith("consentry:"):
            out.append((str(inp.dataset.digest), tags.get(DIGEST_TAG)))
    return out


def _match(run: Any, experiment: str, by_sha: dict[str, str]) -> tuple[str, ...]:
    """The build ids behind a run's inputs; ModelError naming the run when a digest matches no build."""
    found = []
    for digest, sha in _digests(run):
        if sha is not None:
            hits = [by_sha[sha]] if sha in by_sha else []
        else:
            hits = [b for s, b in by_sha.items() if s.startswith(digest)]
        if len(hits) != 1:
            raise ModelError(
                f"MLflow run {run.info.run_id} (experiment {experiment}): input digest {sha or digest} matches "
                f"{'no' if not hits else 'more than one'} complete Consentry build in this store; "
                "log builds of this store with consentry.mlflow.log_build, or check CONSENTRY_DB"
            )
        found.append(hits[0])
    return tuple(sorted(set(found)))


def _client(tracking_uri: str) -> Any:
    # One attempt, a short timeout: an unreachable server is one clear error, not minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    _mlflow()
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def _ms(ms: int | None) -> datetime:
    return datetime.fromtimestamp((ms or 0) / 1000, UTC)


def _collect(client: Any, by_sha: dict[str, str]) -> list[_Found]:
    """Every registered model version and every other run whose inputs carry a build digest."""
    from mlflow.entities import ViewType

    found: dict[str, _Found] = {}
    versions: dict[str, list[Any]] = {}
    for mv in client.search_model_versions():
        if mv.run_id:
            versions.setdefault(mv.run_id, []).append(mv)
    for exp in client.search_experiments(view_type=ViewType.ALL):
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], max_results=1000, page_token=token)
            for run in page:
                builds = _match(run, exp.name, by_sha)
                if not builds:
                    continue
                trained = _ms(run.info.end_time or run.info.start_time)
                for mv in versions.get(run.info.run_id, []):
                    key = f"mv:{mv.name}:{mv.version}"
                    uri = f"models:/{mv.name}/{mv.version}"
                    found[key] = _Found(mv.name, str(mv.version), builds, trained, uri, run.info.run_id)
                if run.info.run_id not in versions:
                    uri = f"runs:/{run.info.run_id}"
                    found[run.info.run_id] = _Found(exp.name, run.info.run_id, builds, trained, uri, run.info.run_id)
            token = page.token
            if not token:
                break
    return sorted(found.values(), key=lambda f: (f.trained_at, f.name, f.version))


def sync_models(store: Store, tracking_uri: str, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Register every MLflow registered model version, and every other run, whose inputs carry a build digest.

    A registered model version is registered under its name and version; a run
    that backs none under its experiment's name and its run id. The training
    time is the run's end (or start). Everything is checked before anything is
    written: an unreachable tracking server, a digest matching no complete
    build, or a version already registered with other builds is one error
    naming the run, and nothing is written. Returns what was registered (or
    found already registered, `new` false).
    """
    from consentry.pipeline.models import register_model
    from consentry.store.models import model_id_for

    by_sha = {b.manifest_sha256: b.build_id for b in store.builds.complete() if b.manifest_sha256}
    client = _client(tracking_uri)
    try:
        found = _collect(client, by_sha)
    except ConsentryError:
        raise
    except Exception as e:  # MlflowException, connection errors: the server's words, on one line
        detail = " ".join(str(e).split())[:300]
        raise ConfigError(f"MLflow at {tracking_uri} cannot be read: {detail}") from None
    for f in found:
        existing = store.models.get(model_id_for(f.name, f.version))
        if existing is not None and existing.builds != f.builds:
            raise ModelError(
                f"MLflow run {f.run_id}: model {f.name} version {f.version} is already registered with builds "
                f"{', '.join(existing.builds)}, not {', '.join(f.builds)}"
            )
        for build_id in f.builds:
            build = store.builds.get(build_id)
            if build is None:
                raise NotFoundError(f"MLflow run {f.run_id}: build {build_id} is no longer complete in this store")
            if existing is None and f.trained_at < build.created_at:
                raise InputError(
                    f"MLflow run {f.run_id} ended before build {build_id} was created; it cannot have trained on it"
                )
    out = []
    for f in found:
        record, new = register_model(
            store, f.name, f.version, list(f.builds), trained_at=f.trained_at, uri=f.uri, source="mlflow", now=now
        )
        out.append({**record.to_dict(), "run_id": f.run_id, "new": new})
    return out
