"""Memorisation on a larger build: a word-level n-gram model (nltk.lm) trained on a synthetic build
with canaries planted 1, 10 and 100 times, their exposure, the extraction probe, and the cost of scoring.

    .venv/bin/python bench/memorisation.py [--records N] [--candidates K] [--order N] [--quick]

The build is a Parquet directory as `consentry build` writes it (a `text` column): filler sentences
of ordinary English words (the scrubber's lexicon of common words, Zipf-distributed, with numbers
mixed in), 20 canaries of the canary format at each repeat count, and member records carrying a name,
an e-mail and a phone number, each member's record repeated 10 times. Records of as many non-members,
never trained on, are the extraction baseline; 20 canaries never planted are the exposure baseline.

"Time per 1,000 canaries scored" counts every canary and candidate text the scorer scores.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.audit.canaries import FORMAT, measure
from consentry.audit.extraction import probe_extraction
from consentry.audit.ngram import train_from_build
from consentry.audit.scorers import load_scorer, score_texts
from consentry.scrub.detectors.lexicon import load_lexicon
from consentry.scrub.entities import EntityType
from consentry.scrub.operators import SurrogateOperator

REPEATS = (0, 1, 10, 100)
PER_GROUP = 20


def _filler(rng: random.Random, n: int) -> list[str]:
    words = sorted(w for w in load_lexicon().common if w.isalpha())[:5000]
    rng.shuffle(words)
    weights = [1 / (i + 1) for i in range(len(words))]  # Zipf: a few words common, most rare
    out = []
    for _ in range(n):
        sent = rng.choices(words, weights, k=rng.randint(6, 24))
        if rng.random() < 0.3:
            sent.insert(rng.randrange(len(sent)), " ".join(str(rng.randrange(10)) for _ in range(rng.randint(1, 4))))
        out.append(" ".join(sent))
    return out


def _people(n: int, rng: random.Random) -> list[str]:
    fake = SurrogateOperator(rng.randbytes(32))
    out = []
    for i in range(n):
        name = fake.apply(f"Member Number{i}", EntityType.PERSON)
        first, last = name.split()[0], name.split()[-1]
        email = f"{first}.{last}@mail.example.net".lower()
        phone = f"07700 {rng.randrange(100000, 999999)}"
        out.append(f"Note from {name}: write to {first} {last} <{email}> or call {last} on {phone} after nine.")
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> None:
    """Build, train, measure; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="filler records (default 100,000)")
    ap.add_argument("--candidates", type=int, default=2_000, help="random candidates per canary (default 2,000)")
    ap.add_argument("--members", type=int, default=200, help="members with PII records, and as many non-members")
    ap.add_argument("--order", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="10,000 records, 500 candidates, 50 members")
    ap.add_argument("--hf", action="store_true", help="also time a GPT-2 (4 layers, 256 wide) through hf:DIR")
    args = ap.parse_args(argv)
    if args.quick:
        args.records, args.candidates, args.members = 10_000, 500, 50
    rng = random.Random(2019)

    canaries = {r: [FORMAT.render(v) for v in FORMAT.sample_candidates(rng, PER_GROUP)] for r in REPEATS}
    people = _people(2 * args.members, rng)
    members, others = people[: args.members], people[args.members :]
    texts = _filler(rng, args.records) + [p for p in members for _ in range(10)]
    texts += [c for r, group in canaries.items() for c in group for _ in range(r)]
    rng.shuffle(texts)

    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        build.mkdir()
        pq.write_table(pa.table({"text": texts}), build / "part-00000.parquet")
        t0, w0 = _cpu(), time.perf_counter()
        train_from_build(build, Path(tmp) / "model.json.gz", order=args.order)
        train_cpu, train_wall = _cpu() - t0, time.perf_counter() - w0
        size = (Path(tmp) / "model.json.gz").stat().st_size
        t0 = _cpu()
        scorer = load_scorer(f"ngram:{Path(tmp) / 'model.json.gz'}")
        load_cpu = _cpu() - t0

        print(f"build: {len(texts):,} records ({args.records:,} filler, {len(members) * 10:,} member PII records)")
        print(f"train (order {args.order}): {train_cpu:.1f} s CPU, {train_wall:.1f} s wall; file {size / 1e6:.1f} MB;")
        print(
            f"load: {load_cpu:.1f} s CPU; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )

        scored = 0
        t0, w0 = _cpu(), time.perf_counter()
        print(
            f"\nexposure against {args.candidates:,} candidates (bits; log2 |R| = {math.log2(FORMAT.space_size):.1f}):"
        )
        print("repeats  median exposure  median fitted  min..max fitted  median p-value")
        for r, group in canaries.items():
            results = []
            for canary in group:
                cands = [
                    FORMAT.render(v)
                    for v in FORMAT.sample_candidates(rng, args.candidates, [FORMAT.parse(canary) or 0])
                ]
                own, *others_scores = score_texts(scorer, [canary, *cands], batch_size=512)
                scored += 1 + len(cands)
                results.append(measure(own, others_scores))
            fits = [e.exposure_fit for e in results]
            print(
                f"{r:>7}  {statistics.median(e.exposure for e in results):15.1f}  {statistics.median(fits):13.1f}"
                f"  {min(fits):6.1f}..{max(fits):<6.1f}  {statistics.median(e.p_value for e in results):14.4f}"
            )
        cpu, wall = _cpu() - t0, time.perf_counter() - w0
        print(
            f"scored {scored:,} canary texts: {1000 * cpu / scored:.3f} s CPU"
            f" and {1000 * wall / scored:.3f} s wall per 1,000"
        )

        t0 = _cpu()
        result = probe_extraction(scorer, members, others, candidates_per_entity=20, rng=rng)
        print(f"\nextraction probe (20 candidates, chance {1 / 21:.3f}), {_cpu() - t0:.1f} s CPU:")
        print("entity   probes  member rate  top-5   baseline rate  top-5")
        for entity, m in result.members.items():
            b = result.baseline[entity]
            print(
                f"{entity:<8} {m.probes:>6}  {m.rate or 0:11.3f}  {m.top_k_rate or 0:5.3f}"
                f"  {b.rate or 0:13.3f}  {b.top_k_rate or 0:5.3f}"
            )
        if args.hf:
            _time_hf(Path(tmp) / "gpt2", texts[:5000], [FORMAT.render(v) for v in FORMAT.sample_candidates(rng, 1000)])


def _time_hf(directory: Path, corpus: list[str], canaries: list[str]) -> None:
    """Scoring cost through hf:DIR of a GPT-2 built from a config (untrained: the cost, not the memorisation)."""
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(vocab_size=4000, special_tokens=["<|endoftext|>", "<unk>"], initial_alphabet=alphabet),
    )
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    fast.save_pretrained(directory)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        vocab_size=len(fast), n_positions=128, n_embd=256, n_layer=4, n_head=4, bos_token_id=0, eos_token_id=0
    )
    model = transformers.GPT2LMHeadModel(cfg)
    model.save_pretrained(directory)
    params = sum(p.numel() for p in model.parameters())
    torch.set_num_threads(1)
    scorer = load_scorer(f"hf:{directory}")
    for batch in (16, 64):
        t0, w0 = _cpu(), time.perf_counter()
        score_texts(scorer, canaries, batch_size=batch)
        cpu, wall = _cpu() - t0, time.perf_counter() - w0
        print(
            f"\nGPT-2 {params / 1e6:.1f}M parameters, 1 thread, batch {batch}:"
            f" {cpu:.2f} s CPU, {wall:.2f} s wall per 1,000 canaries"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
