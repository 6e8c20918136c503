"""Canaries (Carlini et al., "The Secret Sharer", USENIX Security 2019): format, generation, commitment, exposure.

A canary is a sentence of a fixed format with a random secret in it, e.g.
"my verification code is 7 3 8 4 2 9 1 0": eight digits, so the space R of
possible canaries has |R| = 10^8 members. A build plants some canaries into its
records; a model trained on the build and then asked how likely each canary is,
against random candidates of the same format, shows how much it memorised:

    exposure = log2 |R| - log2 rank(canary)

where rank 1 means no candidate in R is more likely than the canary. Rank is
estimated from `k` candidates sampled uniformly from R (`exposure`), or, where
the canary beats every sample, from a skew-normal fit of the candidates' scores
(`exposure_fit`), both as the paper does. `p_value` is the calibrated chance
that a canary the model never saw scores at least as well.

Every function here is pure: scores are log-likelihoods (higher: more likely),
as any scorer gives them. Canary values are drawn from a secret seed with
HMAC-SHA-256, so the same seed always gives the same canaries and nobody without
it can tell them from candidates.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import math
import random
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "FORMAT",
    "CanaryFormat",
    "Exposure",
    "commitment",
    "draw_values",
    "exposure",
    "exposure_fit",
    "measure",
    "new_seed",
    "p_value",
    "seed_choice",
]

_SEED_BYTES = 32


@dataclass(frozen=True)
class CanaryFormat:
    """A fixed template and `digits` space-separated digits: `space_size` = 10^digits candidates."""

    prefix: str = "my verification code is"
    digits: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.digits <= 30:
            raise ValueError(f"a canary format needs 1 to 30 digits, not {self.digits}")

    @property
    def space_size(self) -> int:
        """|R|: how many different canaries the format can render."""
        return int(10**self.digits)

    def render(self, value: int) -> str:
        """The canary sentence of `value` (0 <= value < space_size), digits zero-padded."""
        if not 0 <= value < self.space_size:
            raise ValueError(f"canary value {value} is outside 0..{self.space_size - 1}")
        return f"{self.prefix} " + " ".join(f"{value:0{self.digits}d}")

    def parse(self, text: str) -> int | None:
        """The value `text` renders, or None if it is not a canary of this format."""
        lead = self.prefix + " "
        if not text.startswith(lead):
            return None
        digits = text[len(lead) :].split(" ")
        if len(digits) != self.digits or not all(len(d) == 1 and d in "0123456789" for d in digits):
            return None
        return int("".join(digits))

    def sample_candidates(self, rng: random.Random, k: int, exclude: Collection[int] = ()) -> list[int]:
        """`k` distinct values drawn uniformly from the space, none of them in `exclude`, in draw order."""
        if k < 0:
            raise ValueError("k must not be negative")
        excluded = {v for v in exclude if 0 <= v < self.space_size}
        if k > self.space_size - len(excluded):
            raise ValueError(f"cannot draw {k} candidates from a space of {self.space_size} less {len(excluded)}")
        chosen: list[int] = []
        seen = set(excluded)
        while len(chosen) < k:
            v = rng.randrange(self.space_size)
            if v not in seen:
                seen.add(v)
                chosen.append(v)
        return chosen


#: The format every build's canaries use.
FORMAT = CanaryFormat()


def new_seed() -> bytes:
    """A fresh secret seed from the operating system's CSPRNG."""
    return secrets.token_bytes(_SEED_BYTES)


def _prf(seed: bytes, label: str, i: int) -> int:
    return int.from_bytes(hmac.new(seed, f"{label}\x00{i}".encode(), hashlib.sha256).digest(), "big")


def draw_values(
    seed: bytes, label: str, n: int, fmt: CanaryFormat = FORMAT, exclude: Collection[int] = ()
) -> list[int]:
    """`n` distinct canary values derived from `seed` and `label` (e.g. "planted", "control"), none in `exclude`.

    HMAC-SHA-256 as a pseudo-random function: reduced modulo |R| the bias is below 2^-200.
    """
    if n > fmt.space_size - len(set(exclude)):
        raise ValueError(f"cannot draw {n} canaries from a space of {fmt.space_size}")
    values: list[int] = []
    seen = set(exclude)
    i = 0
    while len(values) < n:
        v = _prf(seed, label, i) % fmt.space_size
        i += 1
        if v not in seen:
            seen.add(v)
            values.append(v)
    return values


def seed_choice(seed: bytes, label: str, keys: Iterable[str], n: int | None = None) -> list[str]:
    """`keys` sorted by their HMAC under `seed` and `label` (the first `n` only, if given): deterministic,
    unpredictable without the seed."""

    def rank(k: str) -> bytes:
        return hmac.new(seed, f"{label}\x00{k}".encode(), hashlib.sha256).digest()

    return sorted(keys, key=rank) if n is None else heapq.nsmallest(n, keys, key=rank)


def commitment(texts: Iterable[str], salt: bytes) -> str:
    """SHA-256 (hex) of `salt` and the canonical list of canary texts (sorted, JSON).

    The salt is per build and secret, so the digest tells nothing about the
    canaries; given the salt and the canaries from the store, anyone can check it.
    """
    canonical = json.dumps(sorted(texts), ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(salt + b"\x00" + canonical).hexdigest()


def _check_scores(canary_score: float, candidate_scores: Sequence[float]) -> None:
    if not candidate_scores:
        raise ValueError("exposure needs at least one candidate score")
    if not math.isfinite(canary_score) or not all(math.isfinite(s) for s in candidate_scores):
        raise ValueError("scores must be finite log-likelihoods (got NaN or infinity)")


def _at_least(canary_score: float, candidate_scores: Sequence[float]) -> int:
    return sum(1 for s in candidate_scores if s >= canary_score)


def exposure(canary_score: float, candidate_scores: Sequence[float], space_size: int = FORMAT.space_size) -> float:
    """log2 |R| - log2 rank, the rank estimated from candidates sampled uniformly from R.

    A candidate scoring at least as well as the canary counts as ranking above
    it; the estimated rank is 1 + (|R| - 1) times the fraction that do. 0 when
    every candidate does; log2 |R| when none does (then see `exposure_fit`:
    k candidates resolve exposures up to about log2 k only).
    """
    _check_scores(canary_score, candidate_scores)
    fraction = _at_least(canary_score, candidate_scores) / len(candidate_scores)
    rank = 1 + (space_size - 1) * fraction
    return math.log2(space_size) - math.log2(rank)


def p_value(canary_score: float, candidate_scores: Sequence[float]) -> float:
    """The chance that a random candidate scores at least as well as the canary, (c + 1) / (k + 1).

    The +1 correction makes it a valid p-value for "the model never saw this
    canary": under that hypothesis the canary is one more random candidate.
    """
    _check_scores(canary_score, candidate_scores)
    return (_at_least(canary_score, candidate_scores) + 1) / (len(candidate_scores) + 1)


def _skewnorm_params(scores: Sequence[float]) -> tuple[float, float, float]:
    """(location, scale, shape) of a skew-normal fitted to `scores` by the method of moments."""
    n = len(scores)
    mean = sum(scores) / n
    var = sum((s - mean) ** 2 for s in scores) / n
    if var <= 0:
        return mean, 0.0, 0.0
    sd = math.sqrt(var)
    skew = sum(((s - mean) / sd) ** 3 for s in scores) / n
    gamma = max(-0.99, min(0.99, skew))
    # Invert the skewness of a skew-normal for |delta| (Azzalini's parametrisation).
    g23 = abs(gamma) ** (2 / 3)
    delta = math.copysign(math.sqrt(math.pi / 2 * g23 / (g23 + ((4 - math.pi) / 2) ** (2 / 3))), gamma)
    delta = max(-0.995, min(0.995, delta))
    scale = sd / math.sqrt(1 - 2 * delta**2 / math.pi)
    loc = mean - scale * delta * math.sqrt(2 / math.pi)
    return loc, scale, delta / math.sqrt(1 - delta**2)


def _skewnorm_tail(z: float, shape: float) -> float:
    """P(Z >= z) for a standard skew-normal with `shape`, by Simpson's rule over the 12 units past z (or before it)."""

    def pdf(t: float) -> float:
        return 2 * math.exp(-t * t / 2) / math.sqrt(2 * math.pi) * 0.5 * math.erfc(-shape * t / math.sqrt(2))

    steps = 4000
    lo, hi = (z, z + 12.0) if z >= 0 else (z - 12.0, z)
    h = (hi - lo) / steps
    total = pdf(lo) + pdf(hi) + sum((4 if i % 2 else 2) * pdf(lo + i * h) for i in range(1, steps))
    area = total * h / 3
    return area if z >= 0 else max(0.0, 1.0 - area)


def exposure_fit(canary_score: float, candidate_scores: Sequence[float], space_size: int = FORMAT.space_size) -> float:
    """Exposure from a skew-normal fitted to the candidates' scores: -log2 P(score >= canary's), within [0, log2 |R|].

    The paper's estimate for canaries more exposed than sampling can resolve.
    """
    _check_scores(canary_score, candidate_scores)
    loc, scale, shape = _skewnorm_params(candidate_scores)
    if scale == 0:  # every candidate scored the same
        return 0.0 if canary_score <= loc else math.log2(space_size)
    tail = max(_skewnorm_tail((canary_score - loc) / scale, shape), 1 / space_size)
    return min(math.log2(space_size), max(0.0, -math.log2(tail)))


@dataclass(frozen=True)
class Exposure:
    """One canary's measurement against `candidates` sampled candidates."""

    exposure: float
    exposure_fit: float
    p_value: float
    candidates: int
    at_least_as_likely: int

    def to_dict(self) -> dict[str, float | int]:
        """JSON-able form."""
        return {
            "exposure": self.exposure,
            "exposure_fit": self.exposure_fit,
            "p_value": self.p_value,
            "candidates": self.candidates,
            "at_least_as_likely": self.at_least_as_likely,
        }


def measure(canary_score: float, candidate_scores: Sequence[float], space_size: int = FORMAT.space_size) -> Exposure:
    """The sampled exposure, the fitted exposure and the p-value of one canary."""
    return Exposure(
        exposure=exposure(canary_score, candidate_scores, space_size),
        exposure_fit=exposure_fit(canary_score, candidate_scores, space_size),
        p_value=p_value(canary_score, candidate_scores),
        candidates=len(candidate_scores),
        at_least_as_likely=_at_least(canary_score, candidate_scores),
    )
