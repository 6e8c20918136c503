"""What reading each record's language and applying the local rules cost the scrubber.

    .venv/bin/python bench/scrub_language_cost.py [--n N] [--runs R]

On the seeded short-post corpora of bench/scrub.py (ours and presidio-evaluator's), one
core, CPU seconds (median of R runs): the scrubber as it was before languages ("off": no
language identification, no local rules), with identification only ("identify"), and as
shipped ("on"), with the accuracy figures of each so a change in them shows; then the
language identifier alone, and how it decided (function words, lingua, fallback).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench.scrub as B
from bench.corpora import presidio_eval
from bench.corpora.social import SocialCorpus
from consentry.scrub import Scrubber, ScrubConfig
from consentry.scrub.detectors.localized import LocalizedDetector
from consentry.scrub.evaluation import GoldText, evaluate
from consentry.scrub.languages import _WORD, MIN_LETTERS, LanguageIdentifier, _by_function_words


def scrubber(mode: str) -> Scrubber:
    s = Scrubber(ScrubConfig(), key=b"bench")
    if mode in ("off", "identify"):
        s.detectors = [d for d in s.detectors if not isinstance(d, LocalizedDetector)]
    if mode == "off":
        s._languages.identify_batch = lambda texts, countries=None: ["en"] * len(texts)  # type: ignore[method-assign]
    return s


def cpu_rate(fn: object, texts: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        for c in (B.validators.validate_phone, B.validators.validate_phone_shape, B.validators.validate_national_id):
            c.cache_clear()
        t0 = time.process_time()
        fn(texts)  # type: ignore[operator]
        times.append(time.process_time() - t0)
    return len(texts) / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    corpora = {
        "social": SocialCorpus(seed=42).generate(args.n),
        "presidio-evaluator": presidio_eval.generate(args.n, seed=42),
    }
    for label, samples in corpora.items():
        texts = [x.text for x in samples]
        gold = [GoldText(x.text, tuple(x.spans)) for x in samples]
        print(f"\n== {label}: {len(texts)} texts, mean {sum(map(len, texts)) / len(texts):.0f} chars ==")
        for mode in ("off", "identify", "on"):
            s = scrubber(mode)
            found = s.detect_batch(texts)
            rep = evaluate(gold, [[B.Span(f.start, f.end, f.entity.value) for f in fs] for fs in found])
            print(B.row(mode, rep, cpu_rate(s.scrub_batch, texts, args.runs), 0.0), flush=True)
        ident = LanguageIdentifier()
        ident.identify_batch(texts[:50])
        rate = cpu_rate(ident.identify_batch, texts, args.runs)
        words = sum(_by_function_words(set(_WORD.findall(t[:400].lower()))) is not None for t in texts)
        short = sum(len([c for c in t[:400] if c.isalpha()]) < MIN_LETTERS for t in texts)
        langs = Counter(ident.identify_batch(texts))
        print(
            f"identifier alone: {rate:,.0f} texts/s; by function words {words}, too short {short}, "
            f"the rest to lingua; codes {dict(langs.most_common())}"
        )


if __name__ == "__main__":
    main()
