"""`consentry scrub`: scrub a JSONL file's `text`, or report the findings; `scrub eval` measures."""

from __future__ import annotations

from pathlib import Path

import typer

from consentry.cli._common import fail, handle_errors, print_json
from consentry.scrub import NerBackend

app = typer.Typer(help="Find and rewrite personal data in text (JSONL lines carrying `text`).")


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
    from consentry.scrub import Scrubber, ScrubConfig
    from consentry.scrub.files import read_names, scrub_file

    scrubber = Scrubber(ScrubConfig(ner=ner), names=read_names(names))
    summary = scrub_file(src, dst, scrubber, detect_only)
    print_json({**summary, "scrubber": scrubber.version})


@app.command("eval")
@handle_errors
def eval_command(
    corpus: Path = typer.Option(..., "--corpus", help="JSONL lines with `text` and gold `spans` [{start,end,label}]."),
    ner: NerBackend = typer.Option(NerBackend.NONE, "--ner", help="Optional NER backend for PERSON."),
) -> None:
    """Leak rate, character precision and per-entity figures against a labelled corpus (per `lang` too)."""
    if not corpus.is_file():
        raise fail(f"{corpus}: no such file")
    from consentry.scrub import Scrubber, ScrubConfig
    from consentry.scrub.evaluation import evaluate_by_language, read_gold_corpus

    gold = read_gold_corpus(corpus)
    scrubber = Scrubber(ScrubConfig(ner=ner))
    countries = [g.country for g in gold] if any(g.country for g in gold) else None
    report, per_lang = evaluate_by_language(gold, scrubber.detect_batch([g.text for g in gold], countries))
    languages = {lang: r.to_dict() for lang, r in per_lang.items() if lang}
    print_json({**report.to_dict(), **({"languages": languages} if languages else {}), "scrubber": scrubber.version})
