"""A small real language model: a word-level n-gram model trained on CPU with ``nltk.lm``.

It is the model the audit tests train on a build, and a stand-in for a real model when
trying the audit out: ``consentry.audit.ngram.train_from_build(BUILD, MODEL)`` then
``--scorer ngram:MODEL``. Tokens are words, digits runs and single punctuation marks, so
a canary's space-separated digits are separate tokens the model can memorise.

Smoothing is interpolated Witten-Bell (``nltk.lm.WittenBellInterpolated``) with an
add-one unigram floor, so an unseen word never gets probability zero. Scores are total
natural-log likelihoods, as every `Scorer` gives (see `consentry.audit.scorers`).

The model file is gzip-compressed JSON of the n-gram counts (never a pickle: loading a
model file runs no code). ``nltk.lm`` needs no downloaded data; nothing here calls
``nltk.download``.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from consentry.errors import InputError, ScorerError

__all__ = ["DEFAULT_ORDER", "NgramModel", "build_texts", "tokenize", "train_from_build"]

DEFAULT_ORDER = 4
_FORMAT = "consentry-ngram/1"
_LN2 = math.log(2.0)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_BOS, _EOS = "<s>", "</s>"
_MEMO_MAX = 2_000_000


def tokenize(text: str) -> list[str]:
    """Words, digit runs and single punctuation marks, case kept."""
    return _TOKEN.findall(text)


def _nltk_lm() -> Any:
    try:
        import nltk.lm
        import nltk.lm.smoothing
    except ImportError as e:
        raise ScorerError("the n-gram scorer needs nltk: pip install 'consentry[audit]'") from e
    return nltk.lm


def _model_class() -> Any:
    """``WittenBellInterpolated`` whose unigram level is add-one smoothed, with cached backoff weights."""
    lm = _nltk_lm()
    smoothing: Any = lm.smoothing.WittenBell
    interpolated: Any = lm.models.InterpolatedLanguageModel

    class _WittenBellFloor(smoothing):  # type: ignore[misc]
        def __init__(self, vocabulary: Any, counter: Any, **kwargs: Any):
            super().__init__(vocabulary, counter, **kwargs)
            self._gammas: dict[tuple[str, ...], float] = {}

        def _gamma(self, context: tuple[str, ...]) -> float:
            g = self._gammas.get(context)
            if g is None:
                dist = self.counts[context]
                n_plus = len(dist)  # FreqDist holds only positive counts
                g = self._gammas[context] = n_plus / (n_plus + dist.N())
            return g

        def unigram_score(self, word: str) -> float:
            unigrams = self.counts.unigrams
            return float((unigrams[word] + 1) / (unigrams.N() + len(self.vocab)))

    class _Model(interpolated):  # type: ignore[misc]
        def __init__(self, order: int, **kwargs: Any):
            super().__init__(_WittenBellFloor, order, **kwargs)

    return _Model


class NgramModel:
    """A trained word-level n-gram model; a `ContinuationScorer`."""

    def __init__(self, order: int, counter: Any, name: str = "ngram"):
        """Wrap an ``nltk.lm.NgramCounter`` of orders 1…`order`; use `train` or `load` to make one."""
        lm = _nltk_lm()
        vocab = lm.Vocabulary(dict(counter.unigrams), unk_cutoff=1)
        self.order = order
        self.name = name
        self._lm = _model_class()(order, vocabulary=vocab, counter=counter)
        self._memo: dict[tuple[str, tuple[str, ...]], float] = {}

    @classmethod
    def train(cls, texts: Iterable[str], *, order: int = DEFAULT_ORDER) -> NgramModel:
        """Count the n-grams (orders 1…`order`) of every text, each padded with ``<s>``/``</s>``."""
        if not 1 <= order <= 8:
            raise InputError(f"n-gram order must be between 1 and 8, not {order}", field="order")
        grams: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
        for text in texts:
            toks = [_BOS] * (order - 1) + tokenize(text) + [_EOS]
            for n in range(1, order + 1):  # the padding is context only, never predicted
                grams[n - 1].update(zip(*(toks[order - n + j :] for j in range(n)), strict=False))
        counter = _nltk_lm().NgramCounter()
        for (word,), c in grams[0].items():
            counter.unigrams[word] = c
        for n in range(2, order + 1):
            table = counter[n]
            for gram, c in grams[n - 1].items():
                table[gram[:-1]][gram[-1]] = c
        return cls(order, counter)

    def score(self, texts: Sequence[str]) -> list[float]:
        """``ln P(text)``: every token and the end of text, given the start padding."""
        return [self._sum([_BOS] * (self.order - 1), [*tokenize(t), _EOS]) for t in texts]

    def score_continuations(self, prefixes: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """``ln P(continuation | prefix)``: the continuation's tokens only (no end of text)."""
        pad = [_BOS] * (self.order - 1)
        return [self._sum([*pad, *tokenize(p)], tokenize(c)) for p, c in zip(prefixes, continuations, strict=True)]

    def _sum(self, history: list[str], tokens: list[str]) -> float:
        """Sum of ln P(token | the order−1 tokens before it), memoised per (token, context)."""
        k = self.order - 1
        seq = [*(history[len(history) - k :] if k else []), *tokens]
        total = 0.0
        for i in range(k, len(seq)):
            key = (seq[i], tuple(seq[i - k : i]))
            lp = self._memo.get(key)
            if lp is None:
                if len(self._memo) >= _MEMO_MAX:
                    self._memo.clear()
                lp = self._memo[key] = math.log(self._lm.score(key[0], key[1] or None))
            total += lp
        return total

    def save(self, path: Path) -> None:
        """Write the counts as gzip-compressed JSON (``consentry-ngram/1``)."""
        counter = self._lm.counts
        tables = {"1": [[w, c] for w, c in counter.unigrams.items()]}
        for n in range(2, self.order + 1):
            tables[str(n)] = [[*ctx, w, c] for ctx, dist in counter[n].items() for w, c in dist.items() if c]
        doc = {"format": _FORMAT, "order": self.order, "counts": tables}
        tmp = path.with_name(path.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        """Read a model `save` wrote; `ScorerError` for a missing or foreign file."""
        if not path.is_file():
            raise ScorerError(f"ngram: {path} is not a file: train one with consentry.audit.ngram.train_from_build")
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") != _FORMAT:
                raise ValueError("format")
            order = int(doc["order"])
            counter = _nltk_lm().NgramCounter()
            for key, rows in doc["counts"].items():
                n = int(key)
                if not 1 <= n <= order:
                    raise ValueError("order")
                for *context, word, c in rows:
                    dist = counter.unigrams if n == 1 else counter[n][tuple(map(str, context))]
                    dist[str(word)] += int(c)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
            raise ScorerError(f"ngram: {path} is not a Consentry n-gram model ({_FORMAT})") from e
        return cls(order, counter, name=f"ngram:{path.name}")


def build_texts(build_dir: Path, *, column: str = "text", batch_rows: int = 8192) -> Iterator[str]:
    """The non-null texts of a build directory's Parquet files (``part-*`` and ``shard=*/part-*``), in order."""
    import pyarrow.parquet as pq

    if not build_dir.is_dir():
        raise InputError("is not a build directory", where=str(build_dir))
    files = sorted(build_dir.glob("part-*.parquet")) + sorted(build_dir.glob("shard=*/part-*.parquet"))
    if not files:
        raise InputError("holds no part-*.parquet files: give a build's output directory", where=str(build_dir))
    for file in files:
        pf = pq.ParquetFile(file)
        if column not in pf.schema_arrow.names:
            raise InputError(f"has no {column!r} column", where=str(file))
        for batch in pf.iter_batches(batch_size=batch_rows, columns=[column]):
            yield from (t for t in batch.column(0).to_pylist() if t is not None)


def train_from_build(build_dir: Path, out: Path, *, order: int = DEFAULT_ORDER) -> NgramModel:
    """Train an n-gram model on a build's texts and save it to `out` (use it as ``ngram:OUT``)."""
    model = NgramModel.train(build_texts(build_dir), order=order)
    model.save(out)
    model.name = f"ngram:{out.name}"
    return model
