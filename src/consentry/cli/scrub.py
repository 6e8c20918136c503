"""`consentry scrub`: scrub a JSONL file's `text`, or report the findings; `scrub eval` measures."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from consentry.cli._common import fail, handle_errors, print_json
from consentry.errors import InputError
from consentry.jsonl import read_jsonl
from consentry.scrub import NerBackend, Scrubber, ScrubConfig
from consentry.scrub.evaluation import evaluate, read_gold_corpus

app = typer.Typer(help="Find and rewrite personal data in text (JSONL lines carrying `text`).")

_BATCH = 2000


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Numbered JSON objects carrying a string `text`; errors name file:line."""
    for where, obj in read_jsonl(path):
        if not isinstance(obj.get("text"), str):
            raise InputError("each line must be an object with a string 'text'", where=where, field="text")
        yield where, obj


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for _, obj in _lines(path):
        batch.append(obj)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _dumps(obj: dict[str, Any]) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)
    except UnicodeEncodeError:  # lone surrogates survive only as escapes
        return json.dumps(obj)


def scrub_file(src: Path, dst: Path, scrubber: Scrubber, detect_only: bool) -> dict[str, Any]:
    """Scrub (or detect in) every line of `src` into `dst`, written aside and renamed when complete."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    counts: dict[str, int] = {}
    lines = failed = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for batch in _batches(src):
                texts = [o["text"] for o in batch]
                res = scrubber.scrub_batch(texts)
                for ent, n in res.counts.items():
                    counts[ent.value] = counts.get(ent.value, 0) + n
                bad = res.failed.to_pylist()
                found = (
                    scrubber.detect_batch([t if not b else "" for t, b in zip(texts, bad, strict=True)])
                    if detect_only
                    else [[] for _ in texts]
                )
                for obj, scrubbed, is_bad, spans in zip(batch, res.texts.to_pylist(), bad, found, strict=True):
                    lines += 1
                    failed += is_bad
                    if detect_only:
                        row = {k: v for k, v in obj.items() if k != "text"}
                        row["spans"] = None if is_bad else [f.to_dict() for f in spans]
                    else:
                        row = {**obj, "text": scrubbed}
                    if is_bad:
                        row["scrub_failed"] = True
                    out.write(_dumps(row) + "\n")
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"lines": lines, "failed": failed, "counts": dict(sorted(counts.items())), "out": str(dst)}


@app.callback(invoke_without_command=True)
@handle_errors
def scrub(
    ctx: typer.Context,
    src: Path | None = typer.Option(None, "--in", help="JSONL input; each line carries `text`."),
    dst: Path | None = typer.Option(None, "--out", help="JSONL output (written aside, renamed when complete)."),
    detect_only: bool = typer.Option(False, "--detect-only", help="Write `spans` instead of scrubbed `text`."),
    ner: NerBackend = typer.Option(NerBackend.NONE, "--ner", help="Optional NER backend for PERSON."),
    names: Path | None = typer.Option(None, "--names", help="Member directory: one name per line."),
) -> None:
    """Scrub personal data from the `text` of every line (or list what would be scrubbed)."""
    if ctx.invoked_subcommand is not None:
        return
    if src is None or dst is None:
        raise fail("both --in FILE.jsonl and --out FILE.jsonl are required (or use `consentry scrub eval`)")
    if not src.is_file():
        raise fail(f"{src}: no such file")
    scrubber = Scrubber(ScrubConfig(ner=ner), names=_read_names(names))
    summary = scrub_file(src, dst, scrubber, detect_only)
    print_json({**summary, "scrubber": scrubber.version})


def _read_names(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the names file ({e.__class__.__name__})", where=str(path)) from None


@app.command("eval")
@handle_errors
def eval_command(
    corpus: Path = typer.Option(..., "--corpus", help="JSONL lines with `text` and gold `spans` [{start,end,label}]."),
    ner: NerBackend = typer.Option(NerBackend.NONE, "--ner", help="Optional NER backend for PERSON."),
) -> None:
    """Per-entity precision, recall and F2, and the leak rate, against a labelled corpus."""
    if not corpus.is_file():
        raise fail(f"{corpus}: no such file")
    gold = read_gold_corpus(corpus)
    scrubber = Scrubber(ScrubConfig(ner=ner))
    report = evaluate(gold, scrubber.detect_batch([g.text for g in gold]))
    print_json({**report.to_dict(), "scrubber": scrubber.version})
