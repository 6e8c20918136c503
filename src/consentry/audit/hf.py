"""A Hugging Face ``transformers`` causal language model, loaded from a local directory, as a scorer.

The directory holds what ``save_pretrained`` writes for the model and its tokenizer. It
is loaded with ``local_files_only=True``: nothing is ever downloaded. Needs
``transformers`` and ``torch`` (``pip install torch==2.13.0 'consentry[hf]'``: naming the
CPU release on its own first keeps pip from choosing a multi-gigabyte GPU build).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from consentry.errors import ScorerError

__all__ = ["HfScorer"]


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ScorerError(
            f"hf: scorers need {name}: pip install torch==2.13.0 'consentry[hf]' (see docs/audit.md)"
        ) from e


class HfScorer:
    """Total natural-log likelihood of texts under a local causal LM (CPU, no gradients)."""

    def __init__(self, directory: Path):
        torch, transformers = _import("torch"), _import("transformers")
        self.name = f"hf:{directory.name}"
        with suppress(AttributeError):  # its own bars would interleave with the audit's
            transformers.utils.logging.disable_progress_bar()
        try:
            self._tok = transformers.AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(str(directory), local_files_only=True)
        except Exception as e:  # a foreign directory can fail in any of transformers' loaders
            raise ScorerError(
                f"hf: {directory} holds no loadable causal LM and tokenizer ({type(e).__name__}): "
                "save both there with save_pretrained"
            ) from e
        self._model.eval()
        self._torch = torch
        cfg = self._model.config
        self._max = int(getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", 0) or 1024)
        start = self._tok.bos_token_id if self._tok.bos_token_id is not None else self._tok.eos_token_id
        if start is None:
            raise ScorerError(
                f"hf: the tokenizer in {directory} has neither a bos nor an eos token to start texts with"
            )
        self._start = int(start)

    def score(self, texts: Sequence[str]) -> list[float]:
        """``ln P(text)``: every token given the start token and the tokens before it."""
        return self._scored([([], self._ids(t)) for t in texts])

    def score_continuations(self, prefixes: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """``ln P(continuation | prefix)``, the prefix cut from the left to fit the model's context."""
        pairs = [(self._ids(p), self._ids(c)) for p, c in zip(prefixes, continuations, strict=True)]
        return self._scored(pairs)

    def _ids(self, text: str) -> list[int]:
        return [int(i) for i in self._tok(text, add_special_tokens=False)["input_ids"]]

    def _scored(self, pairs: list[tuple[list[int], list[int]]]) -> list[float]:
        """Sum of log-probs over each pair's second part, the whole batch padded into one forward pass."""
        if not pairs:
            return []
        torch = self._torch
        rows: list[list[int]] = []
        spans: list[tuple[int, int]] = []
        for head, tail in pairs:
            if len(tail) + 1 > self._max:
                raise ScorerError(
                    f"{self.name}: a text of {len(tail)} tokens exceeds the model's context of {self._max}"
                )
            head = head[len(head) - (self._max - 1 - len(tail)) :] if len(head) + len(tail) + 1 > self._max else head
            rows.append([self._start, *head, *tail])
            spans.append((1 + len(head), 1 + len(head) + len(tail)))
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [self._start] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        with torch.no_grad():
            logits = self._model(input_ids=ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits[:, :-1, :], dim=-1)  # position j predicts token j+1
        picked = logp.gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        return [float(picked[i, a - 1 : b - 1].sum()) for i, (a, b) in enumerate(spans)]
