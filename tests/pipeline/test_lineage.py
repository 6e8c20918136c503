"""OpenLineage: every build emits START, then COMPLETE or FAIL, valid against the spec and our facet's schema.

Transports tried for real: a file, and HTTP to a server started here (and to a port nobody listens on).
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from consentry.errors import BuildError, InputError
from consentry.pipeline import build, read_manifest
from consentry.pipeline.lineage_run import LineageConfig
from pipeline.lake import AS_OF, GENAI, KEY, Platform, lake_records, record, write_parquet
from pipeline.olschema import consent_facet, validate_event


def _lake(p: Platform) -> Path:
    rows = [*lake_records(), record("r-mail", "ok_us", text="write to jane.doe@example.com")]
    return write_parquet(p.root / "lake" / "records.parquet", rows)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_scrubbed_build_emits_start_and_complete_that_validate(platform: Platform) -> None:
    events_file = platform.root / "events" / "lineage.jsonl"
    events_file.parent.mkdir()
    config = LineageConfig.parse(f"file:{events_file}", namespace="acme")
    result = build(
        platform.store, GENAI, [_lake(platform)], platform.root / "out", as_of=AS_OF, key=KEY, lineage=config
    )

    start, complete = _lines(events_file)
    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    assert validate_event(start) >= 4 and validate_event(complete) >= 8
    run_id = start["run"]["runId"]
    assert complete["run"]["runId"] == run_id and uuid.UUID(run_id).version == 7
    assert complete["job"] == start["job"] and start["job"]["name"] == "build.genai_training"
    assert start["job"]["namespace"] == "acme"
    (source,) = complete["inputs"]
    assert (source["namespace"], source["name"]) == ("file", str(platform.root / "lake" / "records.parquet"))
    assert {f["name"] for f in source["facets"]["schema"]["fields"]} >= {"record_id", "member_id", "text", "language"}

    (output,) = complete["outputs"]
    assert (output["namespace"], output["name"]) == ("file", str(platform.root / "out"))
    lineage = output["facets"]["columnLineage"]["fields"]
    assert lineage["text"]["transformationType"] == "MASKED"
    assert lineage["text"]["inputFields"][0]["transformations"][0]["masking"] is True
    assert lineage["member_key"]["inputFields"][0]["field"] == "member_id"
    assert lineage["member_key"]["transformationType"] == "MASKED"
    assert lineage["record_id"]["transformationType"] == "IDENTITY"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == result.counts["included"]

    manifest = read_manifest(platform.root / "out")
    facet = consent_facet(complete)
    assert facet["counts"] == manifest["counts"] and facet["membersDigest"] == manifest["members_digest"]
    assert facet["ledger"]["headHash"] == manifest["ledger"]["head_hash"]
    assert (
        facet["policy"]["version"] == manifest["policy"]["version"]
        and facet["policy"]["legalBasis"] == manifest["policy"]["legal_basis"] == "legitimate_interest"
    )
    assert facet["scrubber"]["enabled"] is True and facet["scrubber"]["findings"].get("EMAIL") == 1
    assert facet["manifestSha256"] == result.manifest_sha256

    # the manifest names the run, and says how START went (COMPLETE follows the manifest: the result says)
    assert manifest["lineage"]["run_id"] == run_id and manifest["lineage"]["transport"] == "file"
    assert [e["event"] for e in manifest["lineage"]["events"]] == ["START"]
    assert result.lineage is not None and result.lineage["failed"] == 0
    assert [(e["event"], e["delivered"]) for e in result.lineage["events"]] == [("START", True), ("COMPLETE", True)]


def test_without_a_transport_nothing_is_sent_but_the_run_is_named(platform: Platform) -> None:
    result = build(platform.store, GENAI, [_lake(platform)], platform.root / "out", as_of=AS_OF, key=KEY, scrub=False)
    manifest = read_manifest(platform.root / "out")
    assert manifest["lineage"]["transport"] == "none" and manifest["lineage"]["events"] == []
    assert uuid.UUID(manifest["lineage"]["run_id"]).version == 7
    assert result.lineage is not None and result.lineage["events"] == []


class _Collector(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)})  # type: ignore[attr-defined]
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_http_transport_posts_every_event_and_a_failed_build_sends_fail(
    platform: Platform, collector: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = collector
    config = LineageConfig.parse(url, api_key="s3cret")
    src = _lake(platform)
    build(platform.store, GENAI, [src], platform.root / "out", as_of=AS_OF, key=KEY, scrub=False, lineage=config)
    assert [e["eventType"] for e in received] == ["START", "COMPLETE"]
    assert {e["path"] for e in received} == {"/api/v1/lineage"} and {e["auth"] for e in received} == {"Bearer s3cret"}
    for event in received:
        validate_event({k: v for k, v in event.items() if k not in ("path", "auth")})
    text = received[1]["outputs"][0]["facets"]["columnLineage"]["fields"]["text"]
    assert text["transformationType"] == "IDENTITY"  # not scrubbed: the text is the source's

    received.clear()
    with pytest.raises((BuildError, InputError)):
        build(platform.store, GENAI, [src], platform.root / "tiny", as_of=AS_OF, key=KEY, scrub=False,
              lineage=config, memory_limit="1MB")  # fmt: skip
    assert [e["eventType"] for e in received] == ["START", "FAIL"]
    fail = {k: v for k, v in received[1].items() if k not in ("path", "auth")}
    validate_event(fail)
    assert fail["run"]["facets"]["errorMessage"]["message"]
    assert not (platform.root / "tiny").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_is_retried_reported_and_never_fails_the_build(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    naps: list[float] = []
    monkeypatch.setattr("consentry.pipeline.lineage_run._pause", naps.append)  # count the waits, don't wait
    config = replace(LineageConfig.parse(f"http://127.0.0.1:{_closed_port()}/"), attempts=3, backoff=0.01)
    result = build(platform.store, GENAI, [_lake(platform)], platform.root / "out", as_of=AS_OF, key=KEY,
                   scrub=False, lineage=config)  # fmt: skip
    assert (platform.root / "out" / "manifest.json").is_file() and result.counts["included"] == 5
    assert result.lineage is not None and result.lineage["failed"] == 2 and result.lineage["attempts"] == 6
    assert naps == [0.01, 0.02, 0.01, 0.02]  # backoff doubles between the attempts of each event
    start = read_manifest(platform.root / "out")["lineage"]["events"][0]
    assert start["event"] == "START" and start["delivered"] is False and start["attempts"] == 3
    assert "Connection" in start["error"]


def test_a_bad_transport_is_one_error_naming_the_option() -> None:
    with pytest.raises(InputError, match="--lineage"):
        LineageConfig.parse("kafka://broker:9092")
    assert LineageConfig.parse("https://user:pw@ol.example:5000/x?token=1").describe()["target"] == (
        "https://ol.example:5000/x"
    )
