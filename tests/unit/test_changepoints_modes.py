"""Two-mode runs: reading a segment as a mode-indicator sequence and finding a change in the mix."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from bench.changepoint_kinds import labelled_series
from perftest_operator.analysis import detect_change_points
from perftest_operator.analysis.modes import (
    MIX_TOLERANCE,
    mix_split,
    mix_split_posterior,
    mode_indicator,
    trailing_run,
    trailing_run_p_value,
)
from perftest_operator.api.kpi import Direction

LOWER = Direction.LOWER_IS_BETTER


def _two_modes(rng: np.random.Generator, shares: np.ndarray, ratio: float) -> np.ndarray:
    high = rng.random(shares.size) < shares
    values: np.ndarray = (
        np.where(high, ratio, 1.0) * 40.0 * (1.0 + 0.02 * rng.standard_normal(shares.size))
    )
    return values


@pytest.mark.parametrize("seed", range(30))
def test_plain_noise_is_not_read_as_two_modes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = 100.0 * (1.0 + 0.04 * rng.standard_t(4.0, int(rng.integers(12, 400))))

    assert mode_indicator(values) is None


@pytest.mark.parametrize("seed", range(10))
def test_two_clear_modes_give_each_runs_mode(seed: int) -> None:
    rng = np.random.default_rng(seed)
    high = rng.random(80) < 0.3
    values = np.where(high, 3.0, 1.0) * (1.0 + 0.03 * rng.standard_normal(80))

    indicator = mode_indicator(values)

    assert indicator is not None
    assert indicator.tolist() == high.astype(float).tolist()


def test_a_cluster_that_is_itself_two_modes_is_not_one_mode() -> None:
    # 0.98, then runs flipping between ~3.9 and ~19.9: three levels, not two clean modes
    values = np.array([0.984] * 6 + [0.976] * 2 + [3.98, 19.9, 19.9, 3.94, 19.6, 28.6, 3.86, 3.74])

    assert mode_indicator(values) is None


def test_a_few_flaky_runs_are_not_a_mode() -> None:
    values = np.full(60, 100.0) * (1.0 + 0.01 * np.sin(np.arange(60)))
    values[[7, 30, 51]] *= 4.0  # 5 % of the runs

    assert mode_indicator(values) is None


def _slow_log_marginal(part: np.ndarray) -> float:
    """log of the integral over a uniform share p of p^ones (1 - p)^zeros: log B(ones+1, zeros+1)."""
    ones = float(part.sum())
    zeros = part.size - ones
    return math.lgamma(ones + 1) + math.lgamma(zeros + 1) - math.lgamma(ones + zeros + 2)


def _slow_posterior(indicator: np.ndarray, min_size: int) -> list[float]:
    candidates = range(min_size, indicator.size - min_size + 1)
    logs = [
        _slow_log_marginal(indicator[:k]) + _slow_log_marginal(indicator[k:]) for k in candidates
    ]
    weights = [math.exp(x - max(logs)) for x in logs]
    return [w / sum(weights) for w in weights]


def _random_mix_change(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    length = int(rng.integers(12, 120))
    change = int(rng.integers(4, length - 3))
    shares = np.where(np.arange(length) < change, rng.uniform(0.15, 0.35), rng.uniform(0.6, 0.85))
    return (rng.random(length) < shares).astype(float), change


@pytest.mark.parametrize("seed", range(20))
def test_mix_split_posterior_is_the_normalised_marginal_likelihood_of_each_split(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    indicator, _ = _random_mix_change(rng)
    min_size = int(rng.integers(1, 4))

    posterior = mix_split_posterior(indicator, min_size)

    np.testing.assert_allclose(posterior, _slow_posterior(indicator, min_size), rtol=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_a_mix_change_is_placed_at_the_centre_of_the_likeliest_five_splits(seed: int) -> None:
    rng = np.random.default_rng([seed, 5])
    indicator, _ = _random_mix_change(rng)
    min_size = int(rng.integers(1, 4))
    posterior = _slow_posterior(indicator, min_size)
    likeliest = min_size + posterior.index(max(posterior))
    # mass of the splits within two runs of each candidate (fewer at the ends)
    masses = [sum(posterior[max(0, i - 2) : i + 3]) for i in range(len(posterior))]
    centre = min_size + next(i for i, m in enumerate(masses) if m >= max(masses) - 1e-12)
    minority = max(
        min(part.mean(), 1.0 - part.mean())
        for part in (indicator[:likeliest], indicator[likeliest:])
    )

    assert mix_split(indicator, min_size) == (likeliest if minority < 0.1 else centre)


@pytest.mark.parametrize(("lower", "upper"), [(10, 10), (8, 12), (30, 7), (7, 30), (3, 40)])
def test_a_clean_switch_of_modes_is_placed_at_its_first_run(lower: int, upper: int) -> None:
    indicator = np.array([0.0] * lower + [1.0] * upper)

    assert mix_split(indicator, 1) == lower
    assert mix_split(1.0 - indicator, 2) == lower


def test_a_switch_of_modes_with_flaky_runs_is_placed_at_its_first_run() -> None:
    # a level shift read as two modes: one flaky run of the new level before it (1 in 30)
    # and one of the old level after it (1 in 12) are not a mix
    indicator = np.array([0.0] * 12 + [1.0] + [0.0] * 17 + [1.0] * 6 + [0.0] + [1.0] * 5)

    assert mix_split(indicator, 1) == 30
    assert mix_split(1.0 - indicator, 2) == 30


def test_mix_changes_of_generated_series_are_placed_within_two_runs_more_often() -> None:
    window_hits = likeliest_hits = series = 0
    for seed in range(200):
        one = labelled_series(7_000_000 + seed, "bimodal-shift")
        indicator = mode_indicator(one.values)
        if indicator is None:
            continue
        series += 1
        [change] = one.changes
        likeliest = 1 + int(np.argmax(_slow_posterior(indicator, 1)))
        window_hits += abs(mix_split(indicator, 1) - change) <= 2
        likeliest_hits += abs(likeliest - change) <= 2
    assert series >= 150
    # measured: 129 of 196 within two runs by the window, 118 by the likeliest split
    assert window_hits >= likeliest_hits + 6, (window_hits, likeliest_hits)


def test_a_change_in_the_mix_is_found_near_its_run_without_noise_in_the_modes() -> None:
    pattern = np.array([0, 1, 0, 0, 0, 0, 1, 0, 0, 0] * 4 + [1, 1, 0, 1, 1, 1, 1, 0, 1, 1] * 3)
    values = np.where(pattern == 1, 5.0, 1.0)

    points = detect_change_points(values, direction=LOWER, threshold_percent=0)

    # a share is placed to within MIX_TOLERANCE runs, not to the run (`mix_split`)
    assert len(points) == 1
    assert abs(points[0].index - 40) <= MIX_TOLERANCE
    assert points[0].regression


def test_a_change_in_the_mix_is_found_near_its_run_on_noisy_modes() -> None:
    missed = []
    for seed in range(40):
        rng = np.random.default_rng([seed, 3])
        length = int(rng.integers(60, 200))
        change = int(rng.integers(20, length - 20))
        shares = np.where(np.arange(length) < change, 0.2, 0.75)
        values = _two_modes(rng, shares, ratio=float(rng.choice((1.5, 2.0, 3.0))))
        found = [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=0)
        ]
        if not any(abs(index - change) <= 2 for index in found):
            missed.append((seed, change, found))
    # measured: 15 of 40 not within 2 runs (a mix change is hard to place exactly; 9 not within
    # 5 runs); the rank scan alone, before the mode indicator: 22 (13 not within 5 runs)
    assert len(missed) <= 16, missed


def test_runs_flipping_between_two_modes_at_a_steady_mix_raise_no_change() -> None:
    alarms = []
    for seed in range(60):
        rng = np.random.default_rng([seed, 4])
        length = int(rng.integers(30, 300))
        shares = np.full(length, float(rng.uniform(0.15, 0.5)))
        values = _two_modes(rng, shares, ratio=float(rng.choice((1.5, 2.0, 3.0, 5.0))))
        found = [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=0)
        ]
        if found:
            alarms.append((seed, found))
    assert len(alarms) <= 1, alarms


def _slow_trailing_run_p_value(indicator: np.ndarray, run: int) -> float:
    """2 x the share of all orderings of `indicator` whose newest `run` runs share the newest
    run's mode (every ordering equally likely under no change), counted by enumeration."""
    length, mode = indicator.size, indicator[-1]
    same = int(np.count_nonzero(indicator == mode))
    # positions of the `same` runs of that mode among `length`: all C(length, same) equally likely
    hits = sum(
        1
        for chosen in itertools.combinations(range(length), same)
        if set(range(length - run, length)) <= set(chosen)
    )
    return min(1.0, 2.0 * hits / math.comb(length, same))


@pytest.mark.parametrize("seed", range(12))
def test_trailing_run_p_value_counts_the_orderings(seed: int) -> None:
    rng = np.random.default_rng([seed, 5])
    length = int(rng.integers(6, 13))
    indicator = (rng.random(length) < 0.4).astype(float)
    run = trailing_run(indicator)

    assert run >= 1
    assert (indicator[-run:] == indicator[-1]).all()
    assert run == length or indicator[-run - 1] != indicator[-1]
    assert trailing_run_p_value(indicator, run) == pytest.approx(
        _slow_trailing_run_p_value(indicator, run)
    )


@pytest.mark.parametrize(("every", "newest", "changed"), [(4, 4, True), (5, 3, False)])
def test_newest_runs_all_in_the_minority_mode_change_the_mix_when_unlikely_by_luck(
    every: int, newest: int, changed: bool
) -> None:
    # every 4th run upper (25 %), then 4 upper in a row: 2 C(25, 4) / C(90, 4) = 0.0099; every
    # 5th (20 %), then 3 in a row: 2 C(20, 3) / C(89, 3) = 0.020. Spread evenly, so no scan of
    # the whole history sees a change: only the newest runs can.
    rng = np.random.default_rng(21)
    upper = np.zeros(86 + newest)
    upper[2:86:every] = 1.0
    upper[86:] = 1.0
    values = np.where(upper == 1.0, 100.0, 40.0) * (1.0 + 0.02 * rng.standard_normal(upper.size))
    indicator = mode_indicator(values)
    assert indicator is not None and indicator.tolist() == upper.tolist()
    p_value = trailing_run_p_value(indicator, newest)
    assert (p_value <= 0.01) is changed

    points = detect_change_points(values, direction=LOWER, threshold_percent=0)

    if changed:
        assert [p.index for p in points] == [86]
        assert points[0].regression
        assert points[0].confidence == pytest.approx(1.0 - p_value)
    else:
        assert points == []


def test_newest_run_in_a_mode_the_history_knows_is_not_a_departure_after_a_mix_change() -> None:
    # the mix moves to mostly upper-mode runs; the newest run is the lowest lower-mode run yet
    # seen: its own mode has dozens of earlier runs, so it departs from nothing
    missed, alarms = [], []
    for seed in range(20):
        rng = np.random.default_rng([seed, 6])
        change = int(rng.integers(120, 180))
        shares = np.where(np.arange(220) < change, 0.25, 0.9)
        values = _two_modes(rng, shares, ratio=4.0)
        values[-1] = 0.995 * values[:-1][values[:-1] < 80.0].min()  # lower mode, its lowest
        found = [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=0)
        ]
        if not any(abs(index - change) <= 5 for index in found):
            missed.append((seed, change, found))
        if values.size - 1 in found:
            alarms.append((seed, found))
    assert alarms == []
    assert len(missed) <= 3, missed  # measured: 1 of 20 (7 runs early)


def test_newest_runs_that_leave_their_own_mode_are_a_departure() -> None:
    # two clear modes (~40 and ~100, a quarter upper); the newest two runs are lower-mode runs
    # 25 % above that mode: far from the runs of their own mode, though inside the history's range
    found = []
    for seed in range(10):
        rng = np.random.default_rng([seed, 8])
        values = _two_modes(rng, np.full(120, 0.25), ratio=2.5)
        values = np.concatenate([values, 50.0 * (1.0 + 0.02 * rng.standard_normal(2))])
        indicator = mode_indicator(values)
        assert indicator is not None and indicator[-2:].tolist() == [0.0, 0.0]
        points = detect_change_points(values, direction=LOWER, threshold_percent=0)
        found.append([(p.index, p.regression) for p in points])

    assert found == [[(120, True)]] * 10
