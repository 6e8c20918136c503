"""Scorers: anything that gives the log-likelihood of a text under a trained model.

Every score is a **total natural-log likelihood** (nats, ``ln P(text)``, a sum over the
text's tokens, ≤ 0): higher means the model finds the text more likely. Scorers differ
in how they tokenise, so scores are compared only between texts scored by one scorer.

A scorer has ``score(texts) -> list[float]`` and may have
``score_continuations(prefixes, continuations) -> list[float]``, the log-likelihood of
each continuation given its prefix (the extraction probe needs it; without it,
``ln P(prefix + continuation) − ln P(prefix)`` stands in).

`load_scorer` reads a spec:

- ``module:function`` — a Python callable taking a list of texts and returning one float
  per text (or an object with a ``score`` method, and optionally ``score_continuations``);
- ``hf:DIR`` — a Hugging Face ``transformers`` causal LM and its tokenizer in a local
  directory, loaded with ``local_files_only=True`` (never downloaded);
- ``http://…`` / ``https://…`` — an endpoint returning token log-probs (`HttpScorer`);
- ``ngram:FILE`` — a smoothed n-gram model trained with `consentry.audit.ngram`.

`score_texts` and `score_continuations` run any scorer in batches, with a progress bar,
a timeout per batch, and checks on what comes back: a scorer that raises, hangs, or
returns NaN, infinities, non-numbers or the wrong number of scores raises `ScorerError`,
and nothing is scored at all.
"""

from __future__ import annotations

import importlib
import math
import numbers
import os
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from consentry.errors import ScorerError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_TIMEOUT",
    "ContinuationScorer",
    "HttpScorer",
    "Scorer",
    "load_scorer",
    "score_continuations",
    "score_texts",
    "scorer_name",
]

DEFAULT_BATCH_SIZE = 64
#: Seconds one batch may take before the scorer is declared hung.
DEFAULT_TIMEOUT = 300.0


@runtime_checkable
class Scorer(Protocol):
    """Gives the total natural-log likelihood of each text under the model."""

    def score(self, texts: Sequence[str]) -> Sequence[float]:
        """``ln P(text)`` for each text, in order."""
        ...


@runtime_checkable
class ContinuationScorer(Scorer, Protocol):
    """A scorer that also scores a continuation given a prefix."""

    def score_continuations(self, prefixes: Sequence[str], continuations: Sequence[str]) -> Sequence[float]:
        """``ln P(continuation | prefix)`` for each pair, in order."""
        ...


class _CallableScorer:
    """A plain function ``f(texts) -> scores`` as a `Scorer`."""

    def __init__(self, fn: Callable[[list[str]], Sequence[float]], name: str):
        self._fn = fn
        self.name = name

    def score(self, texts: Sequence[str]) -> Sequence[float]:
        return self._fn(list(texts))


def scorer_name(scorer: object) -> str:
    """How errors and reports name `scorer`: its ``name`` attribute, else its class."""
    name = getattr(scorer, "name", None)
    return name if isinstance(name, str) and name else type(scorer).__name__


def load_scorer(spec: str, *, timeout: float = DEFAULT_TIMEOUT, environ: Mapping[str, str] | None = None) -> Scorer:
    """The scorer `spec` names (see the module docstring); `ScorerError` for anything unusable."""
    spec = spec.strip()
    if spec.startswith("hf:"):
        from consentry.audit.hf import HfScorer

        return HfScorer(_existing_dir(spec[3:], "hf"))
    if spec.startswith("ngram:"):
        from consentry.audit.ngram import NgramModel

        return NgramModel.load(Path(spec[6:]))
    if spec.startswith(("http://", "https://")):
        env = os.environ if environ is None else environ
        return HttpScorer(spec, timeout=timeout, token=env.get("CONSENTRY_SCORER_TOKEN"))
    module, sep, attr = spec.partition(":")
    if sep and module and attr and all(p.isidentifier() for p in [*module.split("."), *attr.split(".")]):
        return _from_python(module, attr)
    raise ScorerError(
        f"unknown scorer {spec!r}: use module:function, hf:DIR, ngram:FILE or http(s)://URL (see docs/audit.md)"
    )


def _existing_dir(path: str, kind: str) -> Path:
    p = Path(path).expanduser()
    if not path or not p.is_dir():
        raise ScorerError(f"{kind}: {path or '(empty)'} is not a directory: give the model's local directory")
    return p


def _from_python(module: str, attr: str) -> Scorer:
    spec = f"{module}:{attr}"
    try:
        obj: Any = importlib.import_module(module)
    except Exception as e:  # an import runs arbitrary code: any failure is the scorer's
        raise ScorerError(f"scorer {spec}: cannot import {module} ({type(e).__name__}): is it on PYTHONPATH?") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ScorerError(f"scorer {spec}: {module} has no attribute {attr}")
        obj = getattr(obj, part)
    if callable(getattr(obj, "score", None)):
        if not isinstance(getattr(obj, "name", None), str):
            with suppress(AttributeError, TypeError):
                obj.name = spec
        return obj  # type: ignore[no-any-return]
    if callable(obj):
        return _CallableScorer(obj, spec)
    raise ScorerError(f"scorer {spec}: {attr} is neither a function nor an object with a score method")


class HttpScorer:
    """A model served elsewhere, reached over HTTP (the JSON contract is in docs/audit.md).

    ``POST URL {"texts": [...]}`` answers ``{"logprobs": [[lp, ...], ...]}``: one list per
    text, the natural-log probability of each of its tokens; a text's score is their sum.
    ``POST URL {"texts": [...], "prefixes": [...]}`` gives the log-probs of each text's
    tokens *given its prefix* (the continuation). ``CONSENTRY_SCORER_TOKEN`` is sent as a
    bearer token when set.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, token: str | None = None):
        parts = urlsplit(url)
        self.url = url
        #: scheme, host and path only: never the query or credentials, which may hold secrets
        self.name = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def score(self, texts: Sequence[str]) -> list[float]:
        """Sum of the token log-probs the endpoint returns for each text."""
        return self._post({"texts": list(texts)}, len(texts))

    def score_continuations(self, prefixes: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """Sum of the continuation's token log-probs given its prefix."""
        return self._post({"texts": list(continuations), "prefixes": list(prefixes)}, len(continuations))

    def _post(self, body: dict[str, list[str]], n: int) -> list[float]:
        import httpx

        try:
            r = httpx.post(self.url, json=body, headers=self._headers, timeout=self._timeout)
        except httpx.TimeoutException as e:
            raise ScorerError(f"scorer {self.name} timed out after {self._timeout:g} s") from e
        except httpx.HTTPError as e:
            raise ScorerError(f"scorer {self.name} cannot be reached ({type(e).__name__})") from e
        if r.status_code != 200:
            raise ScorerError(f"scorer {self.name} answered HTTP {r.status_code}: expected 200 with JSON logprobs")
        try:
            rows = r.json()["logprobs"]
        except (ValueError, KeyError, TypeError) as e:
            raise ScorerError(f'scorer {self.name} did not answer a JSON object with "logprobs"') from e
        if not isinstance(rows, list) or len(rows) != n:
            got = len(rows) if isinstance(rows, list) else type(rows).__name__
            raise ScorerError(f"scorer {self.name} returned {got} logprob lists for {n} texts")
        out: list[float] = []
        for i, row in enumerate(rows):
            if not isinstance(row, list) or not all(_is_number(x) for x in row):
                raise ScorerError(f"scorer {self.name}: logprobs[{i}] is not a list of numbers")
            out.append(math.fsum(row))
        return out


def _is_number(x: object) -> bool:
    """A real number (numpy's included), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def score_texts(
    scorer: Scorer,
    texts: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: bool = False,
    label: str = "scoring",
) -> list[float]:
    """``ln P(text)`` for every text, in batches; `ScorerError` unless every score is a finite number."""
    if batch_size < 1:
        raise ScorerError(f"batch size must be at least 1, not {batch_size}")
    out: list[float] = []
    with _bar(label, len(texts), progress) as advance:
        for i in range(0, len(texts), batch_size):
            batch = list(texts[i : i + batch_size])
            out.extend(_checked(scorer, partial(scorer.score, batch), len(batch), timeout))
            advance(len(batch))
    return out


def score_continuations(
    scorer: Scorer,
    prefixes: Sequence[str],
    continuations: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: bool = False,
    label: str = "scoring",
) -> list[float]:
    """``ln P(continuation | prefix)`` for every pair, in batches, checked as in `score_texts`.

    A scorer without ``score_continuations`` is asked for ``ln P(prefix + continuation)`` and
    ``ln P(prefix)`` and the difference is taken.
    """
    if len(prefixes) != len(continuations):
        raise ScorerError(f"{len(prefixes)} prefixes for {len(continuations)} continuations")
    if batch_size < 1:
        raise ScorerError(f"batch size must be at least 1, not {batch_size}")
    out: list[float] = []
    with _bar(label, len(prefixes), progress) as advance:
        for i in range(0, len(prefixes), batch_size):
            ps, cs = list(prefixes[i : i + batch_size]), list(continuations[i : i + batch_size])
            if isinstance(scorer, ContinuationScorer):
                out.extend(_checked(scorer, partial(scorer.score_continuations, ps, cs), len(ps), timeout))
            else:
                joined = [p + c for p, c in zip(ps, cs, strict=True)]
                whole = _checked(scorer, partial(scorer.score, joined), len(ps), timeout)
                head = _checked(scorer, partial(scorer.score, ps), len(ps), timeout)
                out.extend(w - h for w, h in zip(whole, head, strict=True))
            advance(len(ps))
    return out


def _checked(scorer: object, call: Callable[[], Sequence[float]], n: int, timeout: float | None) -> list[float]:
    """Run one batch (in a daemon thread when there is a timeout) and check what it returned."""
    name = scorer_name(scorer)
    result = _run(call, timeout, name)
    try:
        values = list(result)
    except TypeError as e:
        raise ScorerError(f"scorer {name} returned {type(result).__name__}, not a list of {n} numbers") from e
    if len(values) != n:
        raise ScorerError(f"scorer {name} returned {len(values)} scores for {n} texts")
    out: list[float] = []
    for v in values:
        if not _is_number(v):
            raise ScorerError(f"scorer {name} returned a {type(v).__name__} where a number was expected")
        f = float(v)
        if not math.isfinite(f):
            raise ScorerError(f"scorer {name} returned {f} (scores must be finite log-likelihoods)")
        if f > 1e-6:
            raise ScorerError(f"scorer {name} returned {f:g} > 0: a log-likelihood is never positive")
        out.append(f)
    return out


def _run(call: Callable[[], Sequence[float]], timeout: float | None, name: str) -> Sequence[float]:
    if timeout is None:
        try:
            return call()
        except ScorerError:
            raise
        except Exception as e:  # a user's scorer may raise anything
            raise ScorerError(f"scorer {name} failed: {_where(e)}") from e
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as e:  # carried back to the caller's thread
            box["error"] = e

    # a daemon thread, not an executor: a hung scorer must not keep the process from exiting
    thread = threading.Thread(target=target, name="consentry-scorer", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ScorerError(f"scorer {name} timed out after {timeout:g} s on one batch: lower the batch size or check it")
    if "error" in box:
        err = box["error"]
        if isinstance(err, ScorerError):
            raise err
        raise ScorerError(f"scorer {name} failed: {_where(err)}") from err
    return box["value"]  # type: ignore[no-any-return]


def _where(e: BaseException) -> str:
    """The exception's type and the line that raised it; never its message, which may quote the texts."""
    frames = traceback.extract_tb(e.__traceback__)
    return f"{type(e).__name__} at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else type(e).__name__


@contextmanager
def _bar(label: str, total: int, show: bool) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr (nothing when `show` is false)."""
    if not show:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
