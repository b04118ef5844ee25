"""Scan p-values (analytic and permuted) and interior changes of the change-point detector."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.changepoint_kinds import labelled_series
from perftest_operator.analysis import detect_change_points, ranktest
from perftest_operator.analysis.ranktest import (
    ANALYTIC_MIN_LENGTH,
    analytic_scan_p_value,
    binomial_tails,
    centred_ranks,
    interior_of_ranks,
    split_of_scores,
)
from perftest_operator.api.kpi import Direction

LOWER = Direction.LOWER_IS_BETTER


def _null_max_abs_z(length: int, draws: int, seed: int) -> np.ndarray:
    """Largest |z| of the standardised rank CUSUM over all splits, for random orderings."""
    centered = np.arange(1, length + 1) - (length + 1) / 2.0
    left = np.arange(1, length)
    scales = np.sqrt(left * (length - left) * np.sum(centered**2) / (length * (length - 1)))
    shuffled = np.random.default_rng(seed).permuted(
        np.broadcast_to(centered, (draws, length)), axis=1
    )
    return np.max(np.abs(np.cumsum(shuffled, axis=1)[:, :-1]) / scales, axis=1)


@pytest.mark.parametrize("length", [20, 60, 250])
@pytest.mark.parametrize("level", [0.05, 0.01])
def test_the_analytic_scan_p_value_is_close_to_permutations_and_never_much_too_small(
    length: int, level: float
) -> None:
    z = float(np.quantile(_null_max_abs_z(length, 20_000, seed=length), 1.0 - level))

    p_value = analytic_scan_p_value(z, length, 1)

    # conservative (Monte Carlo error allowed), yet within a factor 2.5 of the true level
    assert 0.85 * level <= p_value <= 2.5 * level


def _never_permute() -> np.random.Generator:
    raise AssertionError("permuted: the analytic p-value was not used")


@pytest.mark.parametrize("length", [ANALYTIC_MIN_LENGTH, 80, 300])
@pytest.mark.parametrize("level", [0.05, 0.01])
def test_the_analytic_interior_p_value_is_the_share_of_orderings_with_a_larger_range(
    length: int, level: float
) -> None:
    """interior_of_ranks' own p-value (Kuiper, analytic at these lengths) of the ordering whose
    rank CUSUM range is the permutations' (1 - level) quantile: about `level`."""
    centered = np.arange(1, length + 1) - (length + 1) / 2.0
    orders = np.random.default_rng(length).permuted(
        np.broadcast_to(centered, (20_000, length)), axis=1
    )
    walks = np.concatenate((np.zeros((orders.shape[0], 1)), np.cumsum(orders, axis=1)), axis=1)
    ranges = walks.max(axis=1) - walks.min(axis=1)
    quantile = float(np.quantile(ranges, 1.0 - level))
    low = np.minimum(walks.argmin(axis=1), walks.argmax(axis=1))
    high = np.maximum(walks.argmin(axis=1), walks.argmax(axis=1))
    reported = (low >= 1) & (high > low) & (high < length)  # an interior part, min_size 1
    nearest = int(np.argmin(np.where(reported, np.abs(ranges - quantile), np.inf)))

    interior = interior_of_ranks(orders[nearest], min_size=1, alpha=level, rng=_never_permute)

    assert interior is not None
    assert abs(ranges[nearest] - quantile) <= 0.01 * quantile
    # conservative (Monte Carlo error allowed), yet within a factor 2 of the true level
    assert 0.85 * level <= interior.p_value <= 2.0 * level


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.0] * 15 + [1.0] * 15 + [2.0] * 15, [15, 30]),
        ([2.0] * 20 + [1.0] * 10 + [2.0] * 20, [20, 30]),
        ([5.0] * 12 + [9.0] * 8 + [5.0] * 25, [12, 20]),
    ],
)
def test_a_noise_free_interior_segment_that_returns_to_the_old_level_is_found(
    values: list[float], expected: list[int]
) -> None:
    points = detect_change_points(values, direction=LOWER, threshold_percent=5)

    assert [p.index for p in points] == expected
    assert [p.regression for p in points] == [
        values[expected[0]] > values[0],
        values[0] > values[expected[0]],
    ]


def test_noisy_interior_segments_of_fifteen_runs_or_more_are_found_within_two_runs() -> None:
    missed = []
    for seed in range(40):
        rng = np.random.default_rng([seed, 3])
        length = int(rng.integers(60, 120))
        start = int(rng.integers(10, length // 2))
        end = start + int(rng.integers(15, length // 3))  # shorter ones are a known gap
        values = 100.0 * (1.0 + 0.02 * rng.standard_normal(length))
        values[start:end] *= 0.85
        found = [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=5)
        ]
        near = [any(abs(f - t) <= 2 for f in found) for t in (start, end)]
        if not all(near) or len(found) != 2:
            missed.append((seed, start, end, found))
    # measured: 2 of 40, both found but one cut placed 3-4 runs off
    assert len(missed) <= 2, missed


@pytest.mark.parametrize("seed", range(30))
def test_quiet_noise_gets_no_interior_change(seed: int) -> None:
    values = np.random.default_rng([seed, 4]).standard_normal(int(40 + 5 * seed)) + 50.0

    assert detect_change_points(values, direction=LOWER, threshold_percent=0) == []


# --- Monte Carlo error of permuted scan p-values ------------------------------------------------


@pytest.mark.parametrize(
    ("count", "trials", "share"),
    [(0, 700, 0.01), (3, 16, 0.01), (10, 1000, 0.01), (4, 499, 0.007), (0, 5, 0.0), (5, 5, 1.0)],
)
def test_binomial_tails_match_the_sums_of_the_binomial_probabilities(
    count: int, trials: int, share: float
) -> None:
    def chance(k: int) -> float:
        return math.comb(trials, k) * share**k * (1.0 - share) ** (trials - k)

    at_most, at_least = binomial_tails(count, trials, share)

    assert at_most == pytest.approx(sum(chance(k) for k in range(count + 1)), abs=1e-12)
    assert at_least == pytest.approx(sum(chance(k) for k in range(count, trials + 1)), abs=1e-12)


def _significant_share(centered: np.ndarray, draws: int) -> float:
    """Share of permutation streams (seeds 0..draws-1) on which the split test rejects at 0.01."""
    significant = 0
    for seed in range(draws):
        generator = np.random.default_rng(seed)
        split = split_of_scores(
            centered, min_size=1, alpha=0.01, permutations=499, rng=lambda g=generator: g
        )
        significant += split is not None and split.p_value <= 0.01
    return significant / draws


@pytest.mark.parametrize("seed", [997, 1167])
def test_a_short_step_whose_exact_p_value_is_just_below_alpha_is_found_whatever_the_stream(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 30-run heavy-tailed step from the held-out generator, weak enough that its scan p-value
    # lies between 0.003 and 0.008 (checked here with 20,000 permutations)
    centered = centred_ranks(labelled_series(seed, "heavy-step").values)
    reference = np.random.default_rng(1)
    exact = split_of_scores(
        centered, min_size=1, alpha=1.0, permutations=20_000, rng=lambda: reference
    )
    assert exact is not None
    assert centered.size == 30 and 0.003 < exact.p_value < 0.008

    assert _significant_share(centered, 40) == 1.0
    # 499 permutations alone miss it on some streams: the extension is what finds it
    monkeypatch.setattr(ranktest, "MONTE_CARLO_EXTENSION", 1)
    assert _significant_share(centered, 40) < 0.95


def test_the_extended_permutation_test_keeps_its_level_on_shuffled_quiet_runs() -> None:
    values = labelled_series(5, "stable").values[:30]
    shuffles = np.random.default_rng(11)
    significant = 0
    for seed in range(300):
        generator = np.random.default_rng(seed)
        split = split_of_scores(
            centred_ranks(shuffles.permutation(values)),
            min_size=1,
            alpha=0.01,
            permutations=499,
            rng=lambda g=generator: g,
        )
        significant += split is not None and split.p_value <= 0.01
    # 300 exchangeable series at alpha 0.01: 3 expected; 9 or more has a chance below 0.5%
    assert significant <= 8
