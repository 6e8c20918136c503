"""The transformers scorer on a tiny GPT-2 built from a config, with a tokenizer trained here: no download."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import torch
import transformers

from consentry.audit.extraction import probe_extraction
from consentry.audit.scorers import load_scorer, score_continuations, score_texts

_CANARY = "my verification code is 7 3 8 4 2 9 1 0"


def _tiny_gpt2(directory: Path, corpus: list[str]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>", "<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    fast.save_pretrained(directory)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        vocab_size=len(fast), n_positions=64, n_embd=32, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0
    )
    model = transformers.GPT2LMHeadModel(cfg)
    # a few steps on the canary alone: the model memorises it
    ids = torch.tensor([[0, *fast(_CANARY, add_special_tokens=False)["input_ids"]]])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(25):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save_pretrained(directory)


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(0)
    corpus = [_CANARY, "write to ada@example.org or call 07700 900123", "hello world, this is a tiny corpus"]
    corpus += [" ".join(str(rng.randrange(10)) for _ in range(12)) for _ in range(20)]
    directory = tmp_path_factory.mktemp("tiny-gpt2")
    _tiny_gpt2(directory, corpus)
    return directory


def test_a_local_causal_lm_scores_texts_and_continuations(hf_dir: Path) -> None:
    scorer = load_scorer(f"hf:{hf_dir}")
    texts = ["hello world", "a much longer text than the first one, padded in its batch", "7 3"]
    batched = score_texts(scorer, texts, batch_size=3)
    alone = [score_texts(scorer, [t])[0] for t in texts]
    assert batched == pytest.approx(alone, abs=1e-4)  # padding and attention mask change nothing
    assert all(math.isfinite(s) and s < 0 for s in batched)
    whole, head = score_texts(scorer, ["hello world", "hello"])
    assert score_continuations(scorer, ["hello"], [" world"]) == pytest.approx([whole - head], abs=1e-4)


def test_the_tiny_model_memorised_its_canary(hf_dir: Path) -> None:
    scorer = load_scorer(f"hf:{hf_dir}")
    rng = random.Random(1)
    candidates = ["my verification code is " + " ".join(str(rng.randrange(10)) for _ in range(8)) for _ in range(50)]
    canary, *others = score_texts(scorer, [_CANARY, *candidates], batch_size=16)
    assert sum(s >= canary for s in others) == 0


def test_the_extraction_probe_runs_on_a_local_lm(hf_dir: Path) -> None:
    records = ["Note from Ada: write to ada@example.org today.", "Note from Bob: write to bob@example.net today."]
    result = probe_extraction(
        load_scorer(f"hf:{hf_dir}"), records, records, candidates_per_entity=3, rng=random.Random(0)
    )
    assert result.members["EMAIL"].probes == 2 and result.scorer == f"hf:{hf_dir.name}"
