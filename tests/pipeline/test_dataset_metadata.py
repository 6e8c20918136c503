"""croissant.json and README.md beside every manifest, read by the tools people run: mlcroissant, huggingface_hub,
datasets; and `consentry builds show --format …`. One scrubbed build (module scope) serves every test."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from consentry.cli import app
from consentry.pipeline import build, read_manifest
from consentry.policy import load_policy_text
from consentry.store import open_store
from pipeline.lake import AS_OF, GENAI, KEY, Platform, _seed, lake_records, record, write_parquet
from pipeline.olschema import consent_facet, validate_event

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "policies" / "social-network.yaml"


@dataclass
class Built:
    out: Path
    db_url: str
    build_id: str
    manifest: dict[str, Any]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The reference policy with a licence on every version, and one scrubbed build of the test lake."""
    root = tmp_path_factory.mktemp("metadata")
    lines = []
    for line in REFERENCE.read_text().splitlines():
        lines.append(line)
        if line.lstrip().startswith("terms_url:"):
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}datasets: {{license: CC-BY-NC-4.0, creator: Example Social}}")
    policy = load_policy_text("\n".join(lines) + "\n", "licensed.yaml")
    url = f"sqlite:///{root / 'db' / 'consentry.db'}"
    store = open_store(url)
    _seed(store, policy)
    rows = [*lake_records(), record("r-mail", "ok_us", text="mail jane.doe@example.com today")]
    src = write_parquet(root / "lake" / "records.parquet", rows)
    result = build(store, GENAI, [src], root / "out", as_of=AS_OF, key=KEY)
    store.close()
    yield Built(root / "out", url, result.build_id, read_manifest(root / "out"))


def test_the_manifest_lists_the_metadata_files_with_their_digests(built: Built) -> None:
    listed = {e["path"]: e for e in built.manifest["metadata_files"]}
    assert set(listed) == {"croissant.json", "README.md"}
    for name, entry in listed.items():
        data = (built.out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert [f["path"] for f in built.manifest["files"]] == ["part-00000.parquet"]  # the data files stay data only


def test_croissant_validates_and_loads_the_records_in_mlcroissant(built: Built) -> None:
    import mlcroissant as mlc

    meta = json.loads((built.out / "croissant.json").read_text())
    files = {d["contentUrl"]: d for d in meta["distribution"] if d["@type"] == "cr:FileObject"}
    assert {p: d["sha256"] for p, d in files.items()} == {f["path"]: f["sha256"] for f in built.manifest["files"]}
    assert meta["license"] == "CC-BY-NC-4.0" and meta["conformsTo"] == "http://mlcommons.org/croissant/1.1"

    dataset = mlc.Dataset(built.out / "croissant.json")  # validates; errors raise
    m = dataset.metadata
    assert not m.ctx.issues.errors
    version = built.manifest["policy"]["version"]
    assert version in (m.data_collection or "") and "legitimate_interest" in (m.data_collection or "")
    assert any("EMAIL: 1" in p for p in m.data_preprocessing_protocol or [])
    assert any("pseudonym" in p for p in m.personal_sensitive_information or [])
    assert any(GENAI in u for u in m.data_use_cases or [])

    records = list(dataset.records("records"))
    table = pq.read_table(built.out / "part-00000.parquet")
    assert sorted(r["records/record_id"].decode() for r in records) == sorted(table["record_id"].to_pylist())
    texts = {r["records/record_id"].decode(): r["records/text"].decode() for r in records}
    assert "jane.doe@example.com" not in texts["r-mail"]


def test_the_dataset_card_loads_and_datasets_reads_the_build_offline(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(built.out / "README.md")
    assert card.data.license == "cc-by-nc-4.0"
    assert card.data.configs[0]["data_files"][0]["path"] == ["part-00000.parquet"]
    assert built.manifest["members_digest"] in card.text and built.manifest["policy"]["version"] in card.text

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    files = [str(built.out / f["path"]) for f in built.manifest["files"]]
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == built.manifest["counts"]["included"]
    assert {f["name"] for f in card.data.dataset_info["features"]} == set(ds.column_names)


def test_builds_show_prints_each_form(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_DB", built.db_url)
    runner = CliRunner()
    shown = {}
    for form in ("json", "croissant", "openlineage", "card"):
        r = runner.invoke(app, ["builds", "show", built.build_id, "--format", form])
        assert r.exit_code == 0, r.output
        shown[form] = r.stdout
    assert json.loads(shown["json"])["build_id"] == built.build_id
    assert shown["croissant"] == (built.out / "croissant.json").read_text()
    assert shown["card"] == (built.out / "README.md").read_text()
    start, complete = json.loads(shown["openlineage"])
    validate_event(start)
    validate_event(complete)
    assert complete["run"]["runId"] == built.manifest["lineage"]["run_id"]
    assert consent_facet(complete)["membersDigest"] == built.manifest["members_digest"]

    bad = runner.invoke(app, ["builds", "show", built.build_id, "--format", "rdf"])
    assert bad.exit_code == 1 and "--format" in bad.output and "Traceback" not in bad.output


def test_a_sharded_build_describes_every_shard_file_and_mlcroissant_reads_them(platform: Platform) -> None:
    import mlcroissant as mlc

    src = write_parquet(platform.root / "lake" / "records.parquet", lake_records())
    result = build(platform.store, GENAI, [src], platform.root / "sharded", as_of=AS_OF, key=KEY, scrub=False, shards=2)
    manifest = read_manifest(platform.root / "sharded")
    paths = [f["path"] for f in manifest["files"]]
    assert all(p.startswith("shard=") for p in paths)
    meta = json.loads((platform.root / "sharded" / "croissant.json").read_text())
    assert [d["contentUrl"] for d in meta["distribution"] if d["@type"] == "cr:FileObject"] == paths
    assert "license" not in meta  # the reference policy declares none
    records = list(mlc.Dataset(platform.root / "sharded" / "croissant.json").records("records"))
    assert len(records) == result.counts["included"] == sum(f["rows"] for f in manifest["files"])
