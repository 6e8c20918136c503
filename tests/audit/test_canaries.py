"""The canary format, generation, commitment and exposure arithmetic (pure functions)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry.audit.canaries import (
    FORMAT,
    CanaryFormat,
    commitment,
    draw_values,
    exposure,
    exposure_fit,
    measure,
    new_seed,
    p_value,
    seed_choice,
)

LOG2_R = math.log2(FORMAT.space_size)
scores = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_the_format_has_ten_to_the_eight_candidates_and_renders_spaced_digits() -> None:
    assert FORMAT.space_size == 10**8
    assert FORMAT.render(73842910) == "my verification code is 7 3 8 4 2 9 1 0"
    assert FORMAT.render(5) == "my verification code is 0 0 0 0 0 0 0 5"
    with pytest.raises(ValueError, match="outside"):
        FORMAT.render(10**8)
    with pytest.raises(ValueError, match="digits"):
        CanaryFormat(digits=0)


@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_parse_inverts_render(value: int) -> None:
    assert FORMAT.parse(FORMAT.render(value)) == value


@pytest.mark.parametrize(
    "text",
    ["my verification code is 1 2 3", "your verification code is 1 2 3 4 5 6 7 8", "my verification code is 12345678"],
)
def test_parse_refuses_what_the_format_cannot_render(text: str) -> None:
    assert FORMAT.parse(text) is None


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=200))
def test_sampled_candidates_are_distinct_in_the_space_and_never_excluded(seed: int, k: int) -> None:
    fmt = CanaryFormat(digits=3)
    exclude = set(random.Random(seed).sample(range(1000), 50))
    got = fmt.sample_candidates(random.Random(seed), k, exclude)
    assert len(got) == len(set(got)) == k
    assert all(0 <= v < 1000 and v not in exclude for v in got)
    assert got == fmt.sample_candidates(random.Random(seed), k, exclude)


def test_a_space_too_small_for_the_sample_is_refused() -> None:
    fmt = CanaryFormat(digits=1)
    assert sorted(fmt.sample_candidates(random.Random(0), 8, {0, 1})) == list(range(2, 10))
    with pytest.raises(ValueError, match="cannot draw 9"):
        fmt.sample_candidates(random.Random(0), 9, {0, 1})


def test_values_come_from_the_seed_alone_and_differ_by_label() -> None:
    seed = new_seed()
    assert len(seed) == 32 and seed != new_seed()
    planted = draw_values(seed, "planted", 50)
    assert planted == draw_values(seed, "planted", 50)
    assert len(set(planted)) == 50
    controls = draw_values(seed, "control", 50, exclude=planted)
    assert not set(controls) & set(planted)
    assert draw_values(new_seed(), "planted", 50) != planted
    assert draw_values(seed, "planted", 5, CanaryFormat(digits=1)) == draw_values(
        seed, "planted", 5, CanaryFormat(digits=1)
    )


def test_seed_choice_is_a_permutation_fixed_by_the_seed() -> None:
    seed = b"k" * 32
    keys = [f"m{i:03d}" for i in range(100)]
    order = seed_choice(seed, "members", keys)
    assert sorted(order) == keys and order != keys
    assert order == seed_choice(seed, "members", reversed(keys))
    assert order != seed_choice(b"j" * 32, "members", keys)
    assert seed_choice(seed, "members", keys, 7) == order[:7]


def test_the_commitment_binds_the_canaries_and_hides_them_behind_the_salt() -> None:
    texts = [FORMAT.render(v) for v in (1, 2, 3)]
    salt = b"s" * 32
    c = commitment(texts, salt)
    assert len(c) == 64 and c == commitment(reversed(texts), salt)
    assert c != commitment(texts[:2], salt)
    assert c != commitment([*texts[:2], FORMAT.render(4)], salt)
    assert c != commitment(texts, b"t" * 32)


def test_exposure_is_the_log_of_the_space_over_the_sampled_rank() -> None:
    candidates = [float(-i) for i in range(1, 101)]  # -1 .. -100
    assert exposure(0.0, candidates) == pytest.approx(LOG2_R)  # nothing beats it: rank 1
    assert exposure(-101.0, candidates) == pytest.approx(0.0)  # everything does: rank |R|
    # half the candidates score at least as well: rank about |R| / 2, exposure about 1 bit
    assert exposure(-50.0, candidates) == pytest.approx(1.0, abs=1e-6)
    assert exposure(-50.0, candidates, space_size=1024) == pytest.approx(10 - math.log2(1 + 1023 * 0.5))


def test_p_value_counts_ties_and_adds_one() -> None:
    candidates = [0.0, -1.0, -2.0, -3.0]
    assert p_value(-1.0, candidates) == pytest.approx(3 / 5)
    assert p_value(1.0, candidates) == pytest.approx(1 / 5)
    assert p_value(-9.0, candidates) == pytest.approx(1.0)


@given(st.lists(scores, min_size=1, max_size=60), scores, scores)
def test_exposure_and_p_value_are_monotone_in_the_canary_score(candidates: list[float], a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert 0 <= exposure(lo, candidates) <= exposure(hi, candidates) <= LOG2_R + 1e-9
    assert 0 < p_value(hi, candidates) <= p_value(lo, candidates) <= 1


@given(st.lists(scores, min_size=1, max_size=60), scores)
def test_a_never_trained_canary_is_one_more_candidate_so_its_p_value_is_calibrated(
    candidates: list[float], score: float
) -> None:
    # p = (c + 1) / (k + 1) >= the canary's empirical upper tail among candidates and itself
    pooled = [*candidates, score]
    tail = sum(1 for s in pooled if s >= score) / len(pooled)
    assert p_value(score, candidates) == pytest.approx(tail)


def test_p_values_of_never_trained_canaries_are_uniform() -> None:
    rng = random.Random(7)
    ps = [p_value(rng.gauss(0, 1), [rng.gauss(0, 1) for _ in range(99)]) for _ in range(2000)]
    assert sum(p <= 0.05 for p in ps) / len(ps) == pytest.approx(0.05, abs=0.015)
    assert sum(p <= 0.5 for p in ps) / len(ps) == pytest.approx(0.5, abs=0.04)


def test_the_fitted_exposure_follows_a_normal_tail_where_sampling_runs_out() -> None:
    rng = random.Random(3)
    candidates = [rng.gauss(-40.0, 4.0) for _ in range(5000)]
    for z in (1.0, 2.0, 4.0, 5.5):
        expected = -math.log2(0.5 * math.erfc(z / math.sqrt(2)))
        assert exposure_fit(-40.0 + 4.0 * z, candidates) == pytest.approx(expected, rel=0.08)
    # far beyond any sample, the sampled estimate saturates; the fit still ranks
    assert exposure(-16.0, candidates) == pytest.approx(LOG2_R)
    assert exposure_fit(-20.0, candidates) < exposure_fit(-18.0, candidates) <= LOG2_R
    assert exposure_fit(1e6, candidates) == pytest.approx(LOG2_R)
    assert exposure_fit(-1e6, candidates) == 0.0


def test_the_fit_follows_skewed_scores() -> None:
    rng = random.Random(5)
    delta = 4 / math.sqrt(17)  # a skew-normal of shape 4: a heavier upper tail than a normal's
    candidates = [delta * abs(rng.gauss(0, 1)) + math.sqrt(1 - delta**2) * rng.gauss(0, 1) for _ in range(20000)]
    mean = sum(candidates) / len(candidates)
    sd = math.sqrt(sum((c - mean) ** 2 for c in candidates) / len(candidates))
    for z in (1.5, 2.5):
        fitted, sampled = exposure_fit(mean + z * sd, candidates), exposure(mean + z * sd, candidates)
        assert fitted == pytest.approx(sampled, abs=0.3)
        assert fitted < -math.log2(0.5 * math.erfc(z / math.sqrt(2))) - 0.3  # a normal fit would overstate it


def test_measure_gathers_the_three_figures_and_refuses_bad_scores() -> None:
    m = measure(-1.0, [0.0, -2.0, -3.0])
    assert m.to_dict() == {
        "exposure": exposure(-1.0, [0.0, -2.0, -3.0]),
        "exposure_fit": exposure_fit(-1.0, [0.0, -2.0, -3.0]),
        "p_value": 0.5,
        "candidates": 3,
        "at_least_as_likely": 1,
    }
    with pytest.raises(ValueError, match="at least one"):
        exposure(0.0, [])
    with pytest.raises(ValueError, match="NaN"):
        p_value(float("nan"), [0.0])
    with pytest.raises(ValueError, match="NaN"):
        measure(0.0, [0.0, float("inf")])
