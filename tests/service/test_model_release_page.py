"""The staff console's models list says whether each model version is releasable (docs/audit.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from audit.policies import policy_with_audit
from fastapi.testclient import TestClient

from consentry.pipeline import build
from consentry.pipeline.models import register_model
from consentry.service import StaffRole, create_app
from consentry.store import SqlStore
from consentry.store.audits import AuditRecord
from consentry.timeutil import utcnow

from .conftest import CLOCK, CSRF, make_config


def test_the_console_marks_a_model_without_a_passed_required_audit_not_releasable(
    svc_store: SqlStore, tmp_path: Path, staff_key: Callable[[StaffRole], dict[str, str]]
) -> None:
    lake = tmp_path / "lake.jsonl"
    row = {"record_id": "r-1", "member_id": "us-alice", "kind": "post", "visibility": "public",
           "created_at": "2024-12-01T00:00:00Z", "text": "hello"}  # fmt: skip
    lake.write_text(json.dumps(row) + "\n")
    first = build(svc_store, "genai_training", [lake], tmp_path / "v1", as_of=CLOCK, scrub=False)
    model, _ = register_model(svc_store, "ranker", "1", [first.build_id])
    svc_store.publish(policy_with_audit(tmp_path, {"required": True}))
    app = create_app(svc_store, make_config(clock_start=None))
    key = staff_key(StaffRole.VIEWER)["Authorization"].removeprefix("Bearer ")
    with TestClient(app) as c:
        token = CSRF.search(c.get("/admin/sign-in").text)
        assert token
        c.post("/admin/sign-in", data={"api_key": key, "csrf_token": token.group(1)})
        page = c.get("/admin/obligations").text
        assert f'data-model="{model.model_id}" data-releasable="false"' in page and "none has run" in page
        summary = {"max_exposure": 2.0, "max_extraction_rate": 0.0}
        svc_store.model_audits.add(AuditRecord("au-1", model.model_id, "memorisation", utcnow(), "2026-01-01", {},
                                               True, {"summary": summary}))  # fmt: skip
        page = c.get("/admin/obligations").text
        assert f'data-model="{model.model_id}" data-releasable="true"' in page
