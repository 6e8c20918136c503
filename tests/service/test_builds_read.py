"""GET /v1/admin/builds reads the registry: it opens no output file and changes no build row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pipeline.watch import watch

from consentry.pipeline import build, get_build
from consentry.service import StaffRole
from consentry.store import SqlStore

from .conftest import CLOCK


def test_listing_builds_opens_no_output_and_writes_no_build_row(
    app: FastAPI, svc_store: SqlStore, staff_key: Callable[[StaffRole], dict[str, str]], tmp_path: Path
) -> None:
    lake = tmp_path / "lake.jsonl"
    row = {"record_id": "r1", "member_id": "us-bob", "kind": "post", "visibility": "public"}
    lake.write_text(json.dumps({**row, "created_at": "2024-12-01T00:00:00Z", "text": "hello"}) + "\n")
    out = tmp_path / "out"
    result = build(svc_store, "genai_training", [lake], out, as_of=CLOCK, scrub=False)
    # what a build killed between its rename and its completion leaves: a pending row matching OUT
    digest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    killed = replace(get_build(svc_store, result.build_id), build_id="b-killed", manifest_sha256=digest)
    svc_store.builds.register_pending(killed, svc_store.builds.members(result.build_id))
    before = (svc_store.builds.pending(), svc_store.builds.complete())
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        with watch(out) as seen:
            for _ in range(3):
                listed = c.get("/v1/admin/builds", headers=h).json()["builds"]
    assert [b["build_id"] for b in listed] == [result.build_id]
    assert seen.opened == []
    assert [s for s in seen.writes if "build" in s.lower()] == []
    assert (svc_store.builds.pending(), svc_store.builds.complete()) == before


def test_the_console_links_each_build_to_its_metadata(
    app: FastAPI, svc_store: SqlStore, staff_key: Callable[[StaffRole], dict[str, str]], tmp_path: Path
) -> None:
    lake = tmp_path / "lake.jsonl"
    row = {"record_id": "r1", "member_id": "us-bob", "kind": "post", "visibility": "public"}
    lake.write_text(json.dumps({**row, "created_at": "2024-12-01T00:00:00Z", "text": "hello"}) + "\n")
    result = build(svc_store, "genai_training", [lake], tmp_path / "out", as_of=CLOCK, scrub=False)
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        listing = c.get("/admin/builds", headers=h).text
        forms = {}
        for form in ("croissant", "openlineage", "card"):
            link = f"/admin/builds/{result.build_id}/metadata/{form}"
            assert f'href="{link}"' in listing
            forms[form] = c.get(link, headers=h)
            assert forms[form].status_code == 200
        assert c.get(f"/admin/builds/{result.build_id}/metadata/rdf", headers=h).status_code == 404
    assert forms["croissant"].json()["@type"] == "sc:Dataset"
    assert [e["eventType"] for e in forms["openlineage"].json()] == ["START", "COMPLETE"]
    assert forms["card"].text == (tmp_path / "out" / "README.md").read_text()
