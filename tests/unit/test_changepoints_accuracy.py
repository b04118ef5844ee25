"""Accuracy of change-point detection: placement of large shifts, growing histories, held-out kinds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bench.changepoint_kinds import (
    answers_while_growing,
    grown_step_report,
    held_out_set,
    score,
    ten_percent_step,
)
from perftest_operator.analysis import detect_change_points
from perftest_operator.analysis.placement import median_split, moved_runs_fit
from perftest_operator.analysis.tail import noise_spread, robust_spread
from perftest_operator.api.kpi import Direction

LOWER = Direction.LOWER_IS_BETTER


def _split_cost(values: np.ndarray, k: int) -> float:
    left, right = values[:k], values[k:]
    return float(np.sum(np.abs(left - np.median(left))) + np.sum(np.abs(right - np.median(right))))


@pytest.mark.parametrize("seed", range(20))
def test_median_split_finds_the_best_split_of_a_clear_shift_from_a_rough_start(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(41)
    true_index = int(rng.integers(5, 36))
    values[true_index:] += 6.0  # clear: no run sits between the two levels
    start = int(np.clip(true_index + rng.integers(-4, 5), 2, 39))

    slow = min(range(2, 40), key=lambda k: _split_cost(values, k))
    assert median_split(values, 2, start) == slow


@pytest.mark.parametrize("seed", range(20))
def test_median_split_never_ends_worse_than_where_it_started(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    values = rng.standard_t(2.0, 37)
    values[int(rng.integers(3, 34)) :] += rng.uniform(0.0, 2.0)
    start = int(rng.integers(1, 37))

    found = median_split(values, 1, start)

    assert 1 <= found <= 36
    assert _split_cost(values, found) <= _split_cost(values, start) + 1e-9


def test_moved_runs_fit_the_side_they_join_when_they_do_so_together() -> None:
    rng = np.random.default_rng(3)
    before = 0.89 * (1.0 + 0.03 * rng.standard_normal(26))
    after = 0.82 * (1.0 + 0.03 * rng.standard_normal(60))
    # four runs after the step; the last one happens to look like the old level
    one_stray = np.array([0.83, 0.815, 0.825, 0.88])
    mostly_old = np.array([0.88, 0.885, 0.83, 0.89])

    assert moved_runs_fit(before, one_stray, after, to_after=True, separation=2.0)
    assert not moved_runs_fit(before, mostly_old, after, to_after=True, separation=2.0)
    assert not moved_runs_fit(before, one_stray, after, to_after=False, separation=2.0)


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


def _detect(values: np.ndarray, reported: Sequence[int], threshold: float = 5) -> list[int]:
    points = detect_change_points(
        values, direction=LOWER, threshold_percent=threshold, reported=reported
    )
    return [p.index for p in points]


def test_a_ten_percent_step_on_two_percent_noise_is_reported_early_and_stays_put() -> None:
    # before the newest-runs check was anchored and relaxed for runs that all lie beyond the
    # reference: 2 of these 60 seeds reported 3-4 runs late and 15 index changes in 4 seeds
    report = grown_step_report(range(60), _detect, keep=False)
    late, moved = report.late, report.moved

    assert late == []
    assert moved == []


def test_a_ten_percent_step_grown_on_other_seeds_is_rarely_late_and_rarely_moves() -> None:
    # seeds never tuned on, measured: 2 reported 3 runs late, index changes in 2 seeds (first
    # reported one run off, or the scan's placement swinging between two neighbouring runs);
    # before the anchoring: 6 late, 191 index changes in 17 seeds. With the noise spread: 2 (one
    # of them reported 3 runs early instead) and 2. Seeds 160-1159: 13 late and index changes in
    # 25 seeds with the robust spread, 6 and 17 with the noise spread, 5 and 17 with short
    # segments scanned on clipped values.
    report = grown_step_report(range(60, 160), _detect, keep=False)
    late, moved = report.late, report.moved

    assert len(late) <= 2, late
    assert len({entry[0] for entry in moved}) <= 2, moved


@pytest.mark.parametrize("seed", [701, 728, 878, 994])
def test_a_step_is_seen_in_time_when_the_robust_spread_of_the_runs_before_overstates_the_noise(
    seed: int,
) -> None:
    # Seeds whose runs before the step have a MAD/IQR spread 1.2 to 1.4 times their standard
    # deviation: measured in that spread, the step was reported 3 runs late (each of them, and
    # 13 of 1,000 seeds 160-1159; 6 of 1,000 with the noise spread, 5 with clipped values)
    values, true_index = ten_percent_step(seed)
    reference = values[:true_index]
    assert robust_spread(reference) > 1.2 * noise_spread(reference)

    answers = answers_while_growing(values, true_index + 1, _detect, keep=False)

    runs_late = next(
        (
            late
            for late, answer in enumerate(answers)
            if any(abs(i - true_index) <= 2 for i in answer)
        ),
        None,
    )
    assert runs_late is not None and runs_late <= 2, (true_index, answers[:4])


def test_a_ten_percent_step_grown_with_the_earlier_answers_passed_back_does_not_move() -> None:
    # measured: no index changes in seeds 0-159 (2 in 60-159 without the earlier answers); in
    # seeds 160-1159, 2 (placed 4 runs from the step at some length, farther than a report is
    # kept) against 17 without them; the late ones are the same either way
    report = grown_step_report(range(60, 160), _detect, keep=True)

    assert report.moved == []
    assert len(report.late) <= 2, report.late


@pytest.mark.parametrize("seed", [471, 492, 602, 701, 1039, 1106])
def test_a_step_stays_where_first_reported_when_the_earlier_answers_are_passed_back(
    seed: int,
) -> None:
    # Seeds where the series alone places the step a run or two from where it was first
    # reported (17 of seeds 160-1159 move; 2 when the earlier answers are passed back, where the
    # change is placed 4 runs from the step at some length)
    values, true_index = ten_percent_step(seed)
    alone = [a for a in answers_while_growing(values, true_index, _detect, keep=False) if a]
    kept = [a for a in answers_while_growing(values, true_index, _detect, keep=True) if a]
    assert len({tuple(a) for a in alone}) > 1  # the series alone moves it

    assert len({tuple(a) for a in kept}) == 1, kept
    assert kept[0] == alone[0]
    assert abs(kept[0][0] - true_index) <= 2


def test_a_reported_index_moves_a_change_only_when_near_and_still_material() -> None:
    values, _ = ten_percent_step(471)
    assert _detect(values, ()) == [16]  # where the whole series places the step

    assert _detect(values, [15]) == [15]
    assert _detect(values, [18]) == [18]
    assert _detect(values, [13]) == [16]  # three runs away
    assert _detect(values, [15, 17]) == [15]  # the nearer, then the earlier
    # a threshold between the change at 15 (+9.77 %) and at 16 (+9.82 %): 15 falls short of it
    assert _detect(values, [15], threshold=9.8) == [16]
    assert _detect(values, [15], threshold=9.7) == [15]


def test_the_noise_spread_is_the_standard_deviation_unless_the_robust_spread_is_smaller() -> None:
    rng = np.random.default_rng(6)
    normal = 10.0 + rng.standard_normal(25)  # standard deviation 1.12, MAD/IQR spread 1.46
    flaky = normal.copy()
    flaky[7] = 60.0  # one flaky run inflates the standard deviation five-fold
    two_modes = np.where(np.arange(40) % 4 == 0, 30.0, 10.0) + 0.1 * rng.standard_normal(40)

    for values in (normal, flaky, two_modes):
        expected = min(float(np.std(values, ddof=1)), robust_spread(values))
        assert noise_spread(values) == pytest.approx(expected)
    assert noise_spread(normal) == pytest.approx(float(np.std(normal, ddof=1)))
    assert noise_spread(flaky) == pytest.approx(robust_spread(flaky))
    assert noise_spread(flaky) < 2.0  # the flaky run is not noise
    # a quarter of the runs in a second mode: the IQR spans both, ten times a mode's own noise
    assert noise_spread(two_modes) == pytest.approx(robust_spread(two_modes))
    assert noise_spread(two_modes) > 1.0
    assert noise_spread(np.array([4.0])) == 0.0


def test_held_out_series_of_every_kind_are_scored_like_the_corpus() -> None:
    series = list(held_out_set(seed=1))

    result = score(
        series,
        lambda values: [
            p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=0)
        ],
    )

    # measured: F1 0.941, 0.019 false alarms per 100 quiet runs (seed 1; 0.950 and 0.974 on 2,
    # 3; seeds 1-9 together 0.959)
    assert result.f1 >= 0.94
    assert result.false_alarms_per_100_quiet_runs <= 0.1


def test_a_flaky_run_just_before_a_step_does_not_pull_the_step_to_it() -> None:
    rng = np.random.default_rng(11)
    values = 100.0 * (1.0 + 0.01 * rng.standard_normal(50))
    values[30] = 112.0  # flagged on its own at 31 runs, withdrawn when run 31 is back at 100
    values[32:] *= 1.12

    points = [p.index for p in detect_change_points(values, direction=LOWER, threshold_percent=5)]

    assert points == [32]
