"""What a build says about its dataset in the formats catalogues and training tools read.

Two files are written beside the manifest, both from the manifest's data alone:

- ``croissant.json``: Croissant 1.1 metadata with its Responsible-AI extension — the
  Parquet files with their SHA-256 (from the manifest's file list, whatever the shard
  layout), one record set with the output's fields, the licence from the policy, and
  the RAI fields: how the records were collected and consent decided, the personal data
  they may hold, the scrubbing with its figures, and the purpose they may be used for.
- ``README.md``: a Hugging Face dataset card (YAML header, then the same facts as text).

The manifest lists both under `metadata_files` with their SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from consentry.pipeline.manifest import output_columns

__all__ = ["CARD_NAME", "CROISSANT_NAME", "croissant", "dataset_card", "write_metadata"]

CROISSANT_NAME = "croissant.json"
CARD_NAME = "README.md"
FILE_SET = "parquet-files"
RECORD_SET = "records"

_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_DESCRIPTIONS = {
    "record_id": "The record's id at the source.",
    "member_key": "Keyed pseudonym of the member (HMAC-SHA256 of the member id); the member id itself is not included.",
    "kind": "The record's kind (post, comment, …).",
    "created_at": "When the record was created.",
    "text": "The record's text, PII-scrubbed unless the build says otherwise.",
}

#: licences the Hugging Face Hub knows by these ids (others go in as `other` with their name)
_HF_LICENSES = frozenset(
    {
        "apache-2.0",
        "mit",
        "cc0-1.0",
        "cc-by-4.0",
        "cc-by-sa-4.0",
        "cc-by-nc-4.0",
        "cc-by-nc-sa-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-4.0",
        "odc-by",
        "odbl",
        "pddl",
        "cdla-permissive-2.0",
        "cdla-sharing-1.0",
        "gpl-3.0",
        "bsd-3-clause",
        "unlicense",
    }
)


def _data_type(arrow_type: str) -> str:
    if arrow_type.startswith("timestamp"):
        return "sc:DateTime"
    if arrow_type in ("bool",):
        return "sc:Boolean"
    if arrow_type.startswith(("int", "uint")):
        return "sc:Integer"
    if arrow_type in ("float", "double", "halffloat"):
        return "sc:Float"
    return "sc:Text"


def _licence(manifest: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(licence as the policy gives it, creator), or Nones when the policy declares none."""
    datasets = manifest["policy"].get("datasets") or {}
    return datasets.get("license"), datasets.get("creator")


def _scrub_text(manifest: Mapping[str, Any]) -> str:
    scrubber = manifest.get("scrubber") or {}
    if not scrubber.get("enabled"):
        return (
            "The text was NOT scrubbed of personal data: the build ran without its PII scrubber "
            "(for sources known to hold no personal data)."
        )
    pii = manifest.get("pii") or {}
    found = ", ".join(f"{k}: {v}" for k, v in pii.items() if v) or "none"
    failed = manifest["counts"]["excluded"].get("SCRUB_FAILED", 0)
    return (
        f"Personal data in the text was replaced by Consentry's PII scrubber (release {scrubber.get('version')}): "
        f"{sum(pii.values())} findings ({found}); {failed} records that could not be scrubbed were dropped."
    )


def _rai(manifest: Mapping[str, Any]) -> dict[str, Any]:
    policy, counts, ledger = manifest["policy"], manifest["counts"], manifest["ledger"]
    excluded = ", ".join(f"{k}: {v}" for k, v in counts["excluded"].items() if v) or "none"
    kinds = ", ".join(policy.get("kinds") or []) or "any"
    visibility = ", ".join(policy.get("visibility") or []) or "any"
    consent = (
        f"Each record was kept only if its member's recorded choices allowed purpose {manifest['purpose']} "
        f"as of {manifest['as_of']} under policy {policy['name']} version {policy.get('version')} "
        f"(SHA-256 {policy.get('sha256')}, legal basis: {policy.get('legal_basis')}), decided at "
        f"{manifest['decided_at']} on the consent ledger of {ledger['events']} events with head hash "
        f"{ledger['head_hash']}: withdrawals, objections, closures and deletions recorded by then exclude."
    )
    return {
        "rai:dataCollection": (
            f"Records (kinds: {kinds}; visibility: {visibility}) that members wrote on the platform, read from "
            f"the build's sources. {consent}"
        ),
        "rai:dataCollectionType": "Platform records filtered by recorded consent",
        "rai:dataCollectionTimeframe": [manifest["as_of"]],
        "rai:personalSensitiveInformation": (
            "Texts written by people may name or describe them or others. "
            f"{_scrub_text(manifest)} Members appear only as keyed pseudonyms (member_key)."
        ),
        "rai:dataPreprocessingProtocol": [
            f"Consent filtering: {counts['input']} records read, {counts['included']} included; "
            f"excluded per reason: {excluded}.",
            _scrub_text(manifest),
            "Member ids replaced by HMAC-SHA256 pseudonyms with a key that never leaves the build.",
        ],
        "rai:dataUseCases": (
            f"Only the purpose the members were told of: {policy.get('purpose_label') or manifest['purpose']} "
            f"({manifest['purpose']}), as described in {policy.get('terms_url')}."
        ),
        "rai:dataLimitations": (
            "Members who withdraw later are not removed from this copy: "
            "`consentry builds stale` lists the builds to rebuild."
        ),
    }


def croissant(manifest: Mapping[str, Any], columns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Croissant 1.1 (with RAI) JSON-LD for a build, from its manifest and output columns."""
    licence, creator = _licence(manifest)
    files = manifest["files"]
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": f["path"],
            "name": f["path"],
            "contentUrl": f["path"],
            "contentSize": f"{f['bytes']} B",
            "encodingFormat": "application/x-parquet",
            "sha256": f["sha256"],
        }
        for f in files
    ]
    distribution.append(
        {
            "@type": "cr:FileSet",
            "@id": FILE_SET,
            "name": FILE_SET,
            "description": "The build's Parquet shards, as its manifest lists them.",
            "encodingFormat": "application/x-parquet",
            "includes": [f["path"] for f in files],
        }
    )
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/{name}",
            "name": name,
            "description": _DESCRIPTIONS.get(name, "A pass-through column of the records, kept by the policy."),
            "dataType": _data_type(arrow_type),
            "source": {"fileSet": {"@id": FILE_SET}, "extract": {"column": name}},
        }
        for name, arrow_type in columns
    ]
    meta: dict[str, Any] = {
        "@context": _CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "name": f"{manifest['purpose']}-{manifest['build_id']}",
        "description": _summary(manifest),
        "version": "1.0.0",
        "datePublished": manifest["created_at"],
        "url": manifest["policy"].get("terms_url") or "",
        "citeAs": f"Consentry build {manifest['build_id']} (manifest of {manifest['created_at']})",
        "isLiveDataset": False,
        **({"license": licence} if licence else {}),
        **({"creator": {"@type": "sc:Organization", "name": creator}} if creator else {}),
        **_rai(manifest),
        "distribution": distribution,
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": RECORD_SET,
                "name": RECORD_SET,
                "description": "One row per included record.",
                "key": {"@id": f"{RECORD_SET}/record_id"},
                "field": fields,
            }
        ],
    }
    return meta


def _summary(manifest: Mapping[str, Any]) -> str:
    counts = manifest["counts"]
    return (
        f"Training data for purpose {manifest['purpose']} as of {manifest['as_of']}: {counts['included']} of "
        f"{counts['input']} records, from {manifest['members']} members whose recorded consent allowed it "
        f"(Consentry build {manifest['build_id']})."
    )


def _size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    bounds += [(10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    return next((label for bound, label in bounds if rows < bound), "n>1B")


def _card_header(manifest: Mapping[str, Any], columns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    licence, _ = _licence(manifest)
    files = manifest["files"]
    header: dict[str, Any] = {"pretty_name": f"{manifest['purpose']} {manifest['build_id']}"}
    if licence and licence.lower() in _HF_LICENSES:
        header["license"] = licence.lower()
    else:
        header["license"] = "other"
        header["license_name"] = licence or "not declared by the policy"
        if licence and licence.startswith(("http://", "https://")):
            header["license_link"] = licence
    header["tags"] = ["consentry", "consent-filtered", "pii-scrubbed" if _scrubbed(manifest) else "not-scrubbed"]
    header["size_categories"] = [_size_category(sum(int(f["rows"]) for f in files))]
    header["configs"] = [
        {"config_name": "default", "data_files": [{"split": "train", "path": [f["path"] for f in files]}]}
    ]
    header["dataset_info"] = {
        "features": [{"name": n, "dtype": t} for n, t in columns],
        "splits": [
            {
                "name": "train",
                "num_examples": sum(int(f["rows"]) for f in files),
                "num_bytes": sum(int(f["bytes"]) for f in files),
            }
        ],
    }
    return header


def _scrubbed(manifest: Mapping[str, Any]) -> bool:
    return bool((manifest.get("scrubber") or {}).get("enabled"))


def dataset_card(manifest: Mapping[str, Any], columns: Sequence[tuple[str, str]]) -> str:
    """A Hugging Face dataset card (README.md) for a build: YAML header, then the facts as Markdown."""
    header = yaml.safe_dump(_card_header(manifest, columns), sort_keys=False, allow_unicode=True)
    rai = _rai(manifest)
    counts = manifest["counts"]
    rows = "\n".join(f"| {reason} | {n} |" for reason, n in counts["excluded"].items() if n) or "| — | 0 |"
    files = "\n".join(f"| `{f['path']}` | {f['rows']} | `{f['sha256']}` |" for f in manifest["files"])
    licence, _ = _licence(manifest)
    return f"""---
{header}---

# {manifest["purpose"]} — build {manifest["build_id"]}

{_summary(manifest)}

## Intended uses

{rai["rai:dataUseCases"]}

## Consent

{rai["rai:dataCollection"]}

| excluded because | records |
|---|---|
{rows}

## Personal data

{rai["rai:personalSensitiveInformation"]}

## Licence

{licence or "The policy declares no licence for its datasets."}

## Files

| file | rows | SHA-256 |
|---|---|---|
{files}

`manifest.json` beside this card is the build's proof (members digest `{manifest["members_digest"]}`);
`croissant.json` describes the same files as Croissant 1.1 metadata. Read the rows with
`datasets.load_dataset("parquet", data_files=[...])` or any Parquet reader.
"""


def _write(path: Path, data: bytes) -> dict[str, Any]:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return {"path": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_metadata(directory: Path, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Write croissant.json and README.md into `directory` (the build's shards are there); their entries."""
    columns = output_columns(directory, manifest)
    meta = json.dumps(croissant(manifest, columns), indent=2, ensure_ascii=False) + "\n"
    return [
        _write(directory / CROISSANT_NAME, meta.encode()),
        _write(directory / CARD_NAME, dataset_card(manifest, columns).encode()),
    ]
