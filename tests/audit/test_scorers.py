"""The scorer contract: specs, batching, and every kind of bad answer as one clear ScorerError."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from service.serving import serving

from consentry.audit.ngram import NgramModel, build_texts, train_from_build
from consentry.audit.scorers import HttpScorer, load_scorer, score_continuations, score_texts
from consentry.errors import InputError, ScorerError


def _length_scorer(texts: Sequence[str]) -> list[float]:
    return [-float(len(t)) for t in texts]


class _Recorder:
    """Counts its calls and batch sizes; scores a text by minus its length."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def score(self, texts: Sequence[str]) -> list[float]:
        self.batches.append(len(texts))
        return _length_scorer(texts)


def test_scores_come_in_batches_in_order() -> None:
    rec = _Recorder()
    texts = [f"text {'x' * i}" for i in range(10)]
    assert score_texts(rec, texts, batch_size=4, progress=True) == _length_scorer(texts)
    assert rec.batches == [4, 4, 2]


def test_continuations_fall_back_to_the_difference_of_two_scores() -> None:
    got = score_continuations(_Recorder(), ["ab", "abc"], ["cd", "d"], batch_size=1)
    assert got == [-2.0, -1.0]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda n: [math.nan] * n, "nan"),
        (lambda n: [-math.inf] * n, "-inf"),
        (lambda n: [-1.0] * (n + 1), "scores for"),
        (lambda n: [[-1.0, -2.0]] * n, "list where a number"),
        (lambda n: ["-1"] * n, "str where a number"),
        (lambda n: [True] * n, "bool where a number"),
        (lambda n: None, "not a list"),
        (lambda n: [2.5] * n, "never positive"),
    ],
)
def test_a_bad_answer_is_one_scorer_error(answer: Any, message: str) -> None:
    class Bad:
        name = "bad"

        def score(self, texts: Sequence[str]) -> Any:
            return answer(len(texts))

    with pytest.raises(ScorerError, match=message) as e:
        score_texts(Bad(), ["a", "b", "c"], batch_size=2)
    assert "\n" not in str(e.value)


def test_a_scorer_that_raises_is_named_without_its_message() -> None:
    class Raises:
        name = "raises"

        def score(self, texts: Sequence[str]) -> list[float]:
            raise RuntimeError(f"cannot score {texts[0]}")

    with pytest.raises(ScorerError, match=r"scorer raises failed: RuntimeError at test_scorers.py:\d+") as e:
        score_texts(Raises(), ["Ada Lovelace's secret"])
    assert "Ada" not in str(e.value)


def test_a_hung_scorer_times_out() -> None:
    release = threading.Event()

    class Hangs:
        name = "hangs"

        def score(self, texts: Sequence[str]) -> list[float]:
            release.wait()
            return [-1.0] * len(texts)

    with pytest.raises(ScorerError, match=r"timed out after 0\.2 s"):
        score_texts(Hangs(), ["a"], timeout=0.2)
    release.set()


def test_numpy_scores_are_numbers() -> None:
    import numpy as np

    class Numpy:
        def score(self, texts: Sequence[str]) -> Any:
            return np.array([-1.5] * len(texts), dtype=np.float32)

    assert score_texts(Numpy(), ["a", "b"]) == [-1.5, -1.5]


def test_python_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_scorers_mod.py").write_text(
        "def by_length(texts):\n    return [-float(len(t)) for t in texts]\n"
        "class Model:\n"
        "    def score(self, texts):\n        return [-1.0 for t in texts]\n"
        "    def score_continuations(self, prefixes, conts):\n        return [-2.0 for c in conts]\n"
        "model = Model()\nnot_callable = 3\n"
        "def broken(texts):\n    return [float('nan')]\n"
    )
    (tmp_path / "my_broken_mod.py").write_text("raise ImportError('no')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert score_texts(load_scorer("my_scorers_mod:by_length"), ["abc"]) == [-3.0]
    model = load_scorer("my_scorers_mod:model")
    assert score_continuations(model, ["a"], ["b"]) == [-2.0]
    with pytest.raises(ScorerError, match="scorer my_scorers_mod:broken returned nan"):
        score_texts(load_scorer("my_scorers_mod:broken"), ["x"])
    for spec, message in [
        ("my_scorers_mod:missing", "has no attribute missing"),
        ("my_scorers_mod:not_callable", "neither a function"),
        ("my_broken_mod:f", "cannot import my_broken_mod"),
        ("no_such_module_xyz:f", "cannot import no_such_module_xyz"),
        ("gpt2", "unknown scorer 'gpt2'"),
        ("ftp://host/x", "unknown scorer"),
        (f"hf:{tmp_path / 'absent'}", "is not a directory"),
        (f"ngram:{tmp_path / 'absent.json.gz'}", "is not a file"),
    ]:
        with pytest.raises(ScorerError, match=message):
            load_scorer(spec)


def test_an_hf_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScorerError, match="holds no loadable causal LM"):
        load_scorer(f"hf:{tmp_path}")
    (tmp_path / "config.json").write_text('{"model_type": "gpt2", "n_layer": ')
    with pytest.raises(ScorerError, match="holds no loadable causal LM"):
        load_scorer(f"hf:{tmp_path}")


def _endpoint() -> FastAPI:
    """Token log-probs: one token per character, ln(1/2) each; a prefix makes each token surer."""
    app = FastAPI()

    @app.post("/score")
    async def score(request: Request) -> JSONResponse:
        body = await request.json()
        if request.headers.get("authorization") not in (None, "Bearer s3cret"):
            return JSONResponse({"error": "no"}, status_code=401)
        lp = math.log(0.9) if "prefixes" in body else math.log(0.5)
        return JSONResponse({"logprobs": [[lp] * len(t) for t in body["texts"]]})

    @app.post("/{mode}")
    async def broken(mode: str, request: Request) -> Any:
        body = await request.json()
        n = len(body["texts"])
        return {
            "fail": JSONResponse({"detail": "boom"}, status_code=500),
            "short": JSONResponse({"logprobs": [[-1.0]] * (n - 1)}),
            "nolist": JSONResponse({"logprobs": [["x"]] * n}),
            "nokey": JSONResponse({"scores": []}),
            "html": JSONResponse(content=None),
        }[mode]

    return app


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with serving(_endpoint()) as base:
        yield base


def test_http_scorer_sums_token_logprobs(endpoint: str) -> None:
    scorer = load_scorer(f"{endpoint}/score?key=hidden", environ={"CONSENTRY_SCORER_TOKEN": "s3cret"})
    assert isinstance(scorer, HttpScorer)
    assert scorer.name == f"{endpoint}/score"
    got = score_texts(scorer, ["ab", "abcd", ""], batch_size=2)
    assert got == pytest.approx([2 * math.log(0.5), 4 * math.log(0.5), 0.0])
    assert score_continuations(scorer, ["x"], ["yz"]) == pytest.approx([2 * math.log(0.9)])
    wrong = load_scorer(f"{endpoint}/score", environ={"CONSENTRY_SCORER_TOKEN": "wrong"})
    with pytest.raises(ScorerError, match="answered HTTP 401"):
        score_texts(wrong, ["a"])


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("fail", "answered HTTP 500"),
        ("short", "returned 1 logprob lists for 2 texts"),
        ("nolist", r"logprobs\[0\] is not a list of numbers"),
        ("nokey", 'did not answer a JSON object with "logprobs"'),
        ("html", 'did not answer a JSON object with "logprobs"'),
    ],
)
def test_http_scorer_bad_answers(endpoint: str, mode: str, message: str) -> None:
    with pytest.raises(ScorerError, match=message):
        score_texts(load_scorer(f"{endpoint}/{mode}"), ["a", "b"])


def test_http_scorer_unreachable() -> None:
    from service.serving import free_port

    with pytest.raises(ScorerError, match="cannot be reached"):
        score_texts(HttpScorer(f"http://127.0.0.1:{free_port()}/score", timeout=5), ["a"])


def test_ngram_model_round_trips_through_a_build_directory(tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / "shard=00001").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["one two three", None]}), build / "part-00000.parquet")
    pq.write_table(pa.table({"text": ["two three four"]}), build / "shard=00001" / "part-00000.parquet")
    assert list(build_texts(build)) == ["one two three", "two three four"]
    model = train_from_build(build, tmp_path / "m.json.gz", order=3)
    loaded = load_scorer(f"ngram:{tmp_path / 'm.json.gz'}")
    texts = ["one two three", "four three two one", "never seen"]
    assert score_texts(loaded, texts) == pytest.approx(model.score(texts))
    assert score_continuations(loaded, ["one"], [" two three"]) == pytest.approx(
        model.score_continuations(["one"], [" two three"])
    )
    assert all(s < 0 for s in model.score(texts))
    assert model.score(["one two three"])[0] > model.score(["three two one"])[0]


def test_ngram_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "foreign.json.gz").write_bytes(b"not gzip")
    with pytest.raises(ScorerError, match="is not a Consentry n-gram model"):
        load_scorer(f"ngram:{tmp_path / 'foreign.json.gz'}")
    with pytest.raises(InputError, match="holds no part-"):
        list(build_texts(tmp_path))
    with pytest.raises(InputError, match="is not a build directory"):
        list(build_texts(tmp_path / "nope"))
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "part-00000.parquet")
    with pytest.raises(InputError, match="has no 'text' column"):
        list(build_texts(tmp_path))
    with pytest.raises(InputError, match="order"):
        NgramModel.train(["a"], order=0)
