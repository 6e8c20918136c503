"""One registered build in each form it can be read in: registry entry, Croissant, OpenLineage, dataset card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentry.errors import InputError
from consentry.pipeline.lineage_run import DEFAULT_NAMESPACE, LineageRun, run_info
from consentry.pipeline.manifest import MANIFEST_NAME, output_columns, read_manifest
from consentry.pipeline.metadata import CARD_NAME, CROISSANT_NAME
from consentry.pipeline.registry import get_build
from consentry.pipeline.writer import file_sha256
from consentry.store.protocol import Store

__all__ = ["FORMATS", "show_build"]

FORMATS = ("json", "croissant", "openlineage", "card")
_FIXED = ("record_id", "member_key", "kind", "created_at", "text")


def show_build(store: Store, build_id: str, form: str = "json") -> str:
    """The build `build_id` as text in `form` (one of FORMATS); errors name the missing file and what to do."""
    if form not in FORMATS:
        raise InputError(f"unknown format {form!r}; choose one of: {', '.join(FORMATS)}", field="--format")
    record = get_build(store, build_id)
    if form == "json":
        return json.dumps(record.to_dict(), indent=2, ensure_ascii=False)
    out = Path(record.out_dir)
    name = {"croissant": CROISSANT_NAME, "card": CARD_NAME, "openlineage": MANIFEST_NAME}[form]
    if not (out / name).is_file():
        raise InputError(
            f"{out / name} is missing (the output was moved or removed, or was built before it was written); "
            f"`consentry builds rebuild {build_id} --out DIR` writes a new build with it"
        )
    if form != "openlineage":
        return (out / name).read_text()
    return json.dumps(_events(out, record.sources), indent=2, ensure_ascii=False)


def _events(out: Path, sources: tuple[str, ...]) -> list[dict[str, Any]]:
    """START and COMPLETE of the build's run, from its manifest, stamped with the build's time."""
    from consentry.pipeline.lineage_events import complete_event, event_json, start_event

    manifest = read_manifest(out)
    lineage = manifest.get("lineage") or {}
    columns = output_columns(out, manifest)
    info = run_info(
        run_id=lineage.get("run_id") or LineageRun.new_run_id(),
        namespace=lineage.get("namespace") or DEFAULT_NAMESPACE,
        purpose=manifest["purpose"],
        sources=sources,
        out=str(out),
        pass_through=[n for n, _ in columns if n not in _FIXED],
        engine=manifest["engine"],
        scrubbed=bool((manifest.get("scrubber") or {}).get("enabled")),
        as_of=manifest["as_of"],
    )
    at = manifest["created_at"]
    digest = file_sha256(out / MANIFEST_NAME)
    return [event_json(start_event(info, at)), event_json(complete_event(info, at, manifest, columns, digest))]
