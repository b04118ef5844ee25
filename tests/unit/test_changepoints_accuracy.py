"""Accuracy of change-point detection: placement of large shifts, growing histories, held-out kinds."""

from __future__ import annotations

import numpy as np
import pytest
from changepoint_kinds import held_out_set, score

from perftest_operator.analysis import detect_change_points
from perftest_operator.analysis.placement import median_split, prefix_abs_deviations
from perftest_operator.api.kpi import Direction

LOWER = Direction.LOWER_IS_BETTER


@pytest.mark.parametrize("seed", range(20))
def test_prefix_abs_deviations_match_a_direct_computation(seed: int) -> None:
    values = np.random.default_rng(seed).standard_t(2.0, 37)

    costs = prefix_abs_deviations(values)

    direct = [0.0] + [
        float(np.sum(np.abs(values[:k] - np.median(values[:k])))) for k in range(1, 38)
    ]
    assert costs == pytest.approx(direct)


@pytest.mark.parametrize("seed", range(20))
def test_median_split_matches_a_scan_of_every_split(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(41)
    values[int(rng.integers(5, 36)) :] += 2.0

    def cost(k: int) -> float:
        left, right = values[:k], values[k:]
        return float(
            np.sum(np.abs(left - np.median(left))) + np.sum(np.abs(right - np.median(right)))
        )

    slow = min(range(2, 40), key=cost)
    assert median_split(values, 2) == slow


def test_a_large_shift_is_placed_at_its_first_run_even_when_the_first_new_runs_are_low() -> None:
    # ranks alone put this split late: the six runs after the shift are the lowest new ones
    rng = np.random.default_rng(7)
    before = 1500.0 * (1.0 + 0.03 * rng.standard_normal(29))
    first_new = np.array([2310.0, 2300.0, 2290.0, 2305.0, 2295.0, 2315.0])
    later = 2400.0 * (1.0 + 0.01 * rng.standard_normal(60))
    values = np.concatenate([before, first_new, later])

    points = detect_change_points(values, direction=LOWER, threshold_percent=5)

    assert [p.index for p in points] == [29]


@pytest.mark.parametrize("noise", ["gaussian", "heavy"])
def test_a_large_shift_on_noisy_runs_is_placed_within_a_run_of_the_truth(noise: str) -> None:
    off = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        true_index = int(rng.integers(10, 50))
        draws = rng.standard_normal(60) if noise == "gaussian" else rng.standard_t(2.5, 60)
        values = 100.0 * (1.0 + 0.03 * np.clip(draws, -20, 20))
        values[true_index:] *= 1.6
        found = [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=5)
        ]
        if found != [true_index]:
            off.append((seed, true_index, found))
    assert len(off) <= 2, off


@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 3): measured over these 60 seeds, 11 steps are first reported 3-4 "
    "runs late and a provisional tail change point is often withdrawn for a few runs before "
    "the scan test confirms it (157 index changes; 315 before median placement)",
)
def test_a_ten_percent_step_on_two_percent_noise_is_reported_early_and_stays_put() -> None:
    """The operator's view: the history grows one run at a time."""
    late, moved = [], []
    for seed in range(60):
        rng = np.random.default_rng([seed, 10])
        true_index = int(rng.integers(12, 40))
        values = 100.0 * (1.0 + 0.02 * rng.standard_normal(true_index + 25))
        values[true_index:] *= 1.10
        first_seen: int | None = None
        reported: int | None = None
        for length in range(true_index + 1, values.size + 1):
            points = detect_change_points(values[:length], direction=LOWER, threshold_percent=5)
            near = [p.index for p in points if abs(p.index - true_index) <= 2]
            if first_seen is None and near:
                first_seen, reported = length - 1, near[0]
            elif reported is not None and near != [reported]:
                moved.append((seed, length, reported, near))
        if first_seen is None or first_seen > true_index + 2:
            late.append((seed, true_index, first_seen))
    assert late == []
    assert moved == []


def test_held_out_series_of_every_kind_are_scored_like_the_corpus() -> None:
    series = list(held_out_set(seed=1))

    result = score(
        series,
        lambda values: [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=0)
        ],
    )

    # measured: F1 0.907, 0.039 false alarms per 100 quiet runs (seed 1; 0.925 and 0.906 on 2, 3)
    assert result.f1 >= 0.88
    assert result.false_alarms_per_100_quiet_runs <= 0.1
