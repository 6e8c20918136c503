"""The scrubber's in-process speed on short posts and on the build lake's texts, in CPU seconds.

    .venv/bin/python bench/scrub_speed.py [--runs R] [--n N] [--lake-texts L] [--out-dir DIR]

`Scrubber.scrub_batch` (default configuration, batches of 4,000) on the texts bench/scrub.py
generates (seed 42, N each: our social corpus, the same with names held out of the lexicon,
presidio-evaluator's) and on the first L texts of bench/build.py's 200k-record lake (~300-byte
word salad with md5 words and no personal data; made on first use under --out-dir). Token and
validator caches are cleared before each run; prints texts per CPU second of the process
(`time.process_time`), median of R runs, and the load average. To compare two versions, run
this once per version, alternately, on the same machine (PYTHONPATH chooses the sources).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq

from bench.build import make_lake
from bench.corpora import presidio_eval
from bench.corpora.social import SocialCorpus
from bench.scrub import HELD_OUT
from consentry.scrub import Scrubber, ScrubConfig
from consentry.scrub.detectors import validators
from consentry.scrub.detectors.lexicon import load_lexicon, name_bucket
from consentry.scrub.detectors.names import LexiconPersonDetector


def scrubber(held_out: bool) -> Scrubber:
    """The default scrubber; with `held_out`, its lexicon without the held-out name buckets."""
    s = Scrubber(ScrubConfig(), key=b"bench")
    if held_out:
        lex = load_lexicon().without_buckets(HELD_OUT)
        s.detectors = [
            LexiconPersonDetector(s.cfg.min_score, lexicon=lex) if isinstance(d, LexiconPersonDetector) else d
            for d in s.detectors
        ]
    return s


def cpu_seconds(s: Scrubber, texts: list[str]) -> float:
    """CPU seconds to scrub `texts` in batches of 4,000 with cold caches."""
    for d in s.detectors:
        if isinstance(d, LexiconPersonDetector):
            d.clear_cache()
    for cached in (validators.validate_phone, validators.validate_phone_shape, validators.validate_national_id):
        cached.cache_clear()
    t0 = time.process_time()
    for i in range(0, len(texts), 4000):
        s.scrub_batch(texts[i : i + 4000])
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000, help="texts per short-post corpus")
    ap.add_argument("--lake-texts", type=int, default=20000)
    ap.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    lake = make_lake(200_000, 1_000_000, args.out_dir / "lake-200000" / "records")
    files = sorted(Path(lake).rglob("*.parquet"))
    corpora = {
        "social": [x.text for x in SocialCorpus(seed=42).generate(args.n)],
        "held out": [
            x.text for x in SocialCorpus(seed=42, name_filter=lambda t: name_bucket(t) in HELD_OUT).generate(args.n)
        ],
        "presidio-evaluator": [x.text for x in presidio_eval.generate(args.n, seed=42)],
        "lake": pq.read_table(files[0], columns=["text"]).column("text").slice(0, args.lake_texts).to_pylist(),
    }
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for label, texts in corpora.items():
        s = scrubber(label == "held out")
        s.scrub_batch(texts[:200])  # warm: lingua's models, the compiled database
        runs = [cpu_seconds(s, texts) for _ in range(args.runs)]
        print(f"{label:<20} {len(texts) / statistics.median(runs):>9,.0f} texts/CPU-s ({len(texts):,} texts)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
