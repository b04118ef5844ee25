"""The candidate verdict: one KPI of a build's run(s) against the periodic baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perftest_operator.analysis.candidate import (
    CandidateResult,
    CandidateVerdict,
    InconclusiveReason,
    current_baseline,
    judge_candidate,
    rank_sum_p_values,
)
from perftest_operator.api.kpi import Direction
from perftest_operator.api.spec import AnalysisSettings

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER


def quiet(size: int, seed: int = 7, level: float = 100.0, noise: float = 0.02) -> list[float]:
    """A level history with Gaussian noise of `noise` relative standard deviation."""
    rng = np.random.default_rng(seed)
    return (level * (1.0 + noise * rng.standard_normal(size))).tolist()


def judge(
    history: list[float],
    candidate: list[float],
    direction: Direction = LOWER,
    settings: AnalysisSettings | None = None,
    failed_runs: int = 0,
) -> CandidateVerdict:
    """The verdict with a 10 % threshold and the default analysis settings."""
    return judge_candidate(
        history,
        candidate,
        direction=direction,
        threshold_percent=10.0,
        settings=settings or AnalysisSettings(),
        failed_runs=failed_runs,
    )


def test_one_run_p_value_is_its_rank_among_the_baseline() -> None:
    baseline = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # above all five: 1 of 6 places; between 2 and 3: 4 of 6 runs rank at least as high
    assert rank_sum_p_values(baseline, np.array([6.0])) == pytest.approx((1 / 6, 1.0))
    assert rank_sum_p_values(baseline, np.array([2.5])) == pytest.approx((4 / 6, 3 / 6))


def test_three_runs_p_value_counts_subsets_by_rank_sum() -> None:
    baseline = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # the top three of eight: 1 subset of C(8, 3) = 56
    assert rank_sum_p_values(baseline, np.array([6.0, 7.0, 8.0]))[0] == pytest.approx(1 / 56)
    # pooled ranks of 4.5, 6, 7 are 5, 7, 8 (sum 20); the 3-subsets of 1..8 summing to 20 or
    # more are {6, 7, 8} and {5, 7, 8}: 2 of 56
    assert rank_sum_p_values(baseline, np.array([4.5, 6.0, 7.0]))[0] == pytest.approx(2 / 56)


def test_ties_share_their_rank() -> None:
    baseline = np.array([1.0, 2.0, 3.0, 3.0])
    # the candidate ties two baseline runs at 3: three of five runs rank 4 (midrank) or more
    assert rank_sum_p_values(baseline, np.array([3.0]))[0] == pytest.approx(3 / 5)


def test_a_thirty_percent_slower_run_on_a_quiet_baseline_is_a_regression() -> None:
    history = quiet(10)
    verdict = judge(history, [130.0])
    assert verdict.result is CandidateResult.REGRESSION
    assert verdict.reason is None
    assert verdict.baseline_size == 10
    assert verdict.baseline_median == pytest.approx(float(np.median(history)))
    expected = (130.0 - np.median(history)) / np.median(history) * 100.0
    assert verdict.change_percent == pytest.approx(expected)
    assert verdict.confidence == pytest.approx(1.0 - 1.0 / 11.0)  # beyond all ten runs


def test_three_slower_repeats_are_a_regression_by_the_rank_test() -> None:
    verdict = judge(quiet(10), [128.0, 131.0, 133.0])
    assert verdict.result is CandidateResult.REGRESSION
    assert verdict.confidence == pytest.approx(1.0 - 1.0 / math.comb(13, 3))


def test_a_run_within_the_noise_passes() -> None:
    history = quiet(20)
    verdict = judge(history, [float(np.median(history)) * 1.01])
    assert verdict.result is CandidateResult.PASS
    assert 0.0 < verdict.change_percent < 1.5


def test_a_significant_change_below_the_threshold_passes() -> None:
    # 8 % slower is far outside 0.5 % noise, yet below the 10 % threshold
    history = quiet(20, noise=0.005)
    verdict = judge(history, [108.0, 108.5, 107.5])
    assert verdict.result is CandidateResult.PASS
    assert verdict.confidence > 0.99


def test_a_large_change_inside_wide_noise_passes_for_one_run() -> None:
    # 15 % slower on 10 % noise: above the threshold, but two spreads are no evidence
    history = quiet(10, noise=0.10)
    verdict = judge(history, [float(np.median(history)) * 1.15])
    assert verdict.result is CandidateResult.PASS


def test_higher_is_better_flips_the_direction() -> None:
    history = quiet(10)
    slower = judge(history, [70.0], direction=HIGHER)
    faster = judge(history, [130.0], direction=HIGHER)
    assert slower.result is CandidateResult.REGRESSION
    assert slower.change_percent < -25.0  # as the periodic changePercent: 30 % lower
    assert faster.result is CandidateResult.IMPROVEMENT
    assert faster.change_percent > 25.0


def test_lower_value_of_a_latency_is_an_improvement() -> None:
    verdict = judge(quiet(10), [70.0])
    assert verdict.result is CandidateResult.IMPROVEMENT


def test_too_short_a_baseline_is_inconclusive_with_the_reason() -> None:
    verdict = judge(quiet(4), [130.0], settings=AnalysisSettings(min_history=5))
    assert verdict.result is CandidateResult.INCONCLUSIVE
    assert verdict.reason is InconclusiveReason.SHORT_BASELINE
    assert verdict.baseline_size == 4
    assert "minHistory 5" in verdict.message


def test_a_change_point_leaves_too_short_a_current_level() -> None:
    # 20 runs at 100, then 3 at 150: the current level has 3 runs, below minHistory 5
    history = [*quiet(20), 150.0, 151.0, 149.0]
    verdict = judge(history, [150.0])
    assert verdict.result is CandidateResult.INCONCLUSIVE
    assert verdict.reason is InconclusiveReason.SHORT_BASELINE
    assert verdict.baseline_size == 3


def test_the_baseline_is_the_runs_after_the_last_change_point() -> None:
    old, new = quiet(15, seed=1), quiet(12, seed=2, level=150.0)
    history = old + new
    baseline = current_baseline(history, direction=LOWER, threshold_percent=10.0, lookback=100)
    assert baseline.start == 15
    assert baseline.values.tolist() == new
    # a candidate at the new level passes; at the old level it is an improvement (against the
    # whole history, whose median is near 100, it would pass)
    at_new = judge(history, [150.0])
    at_old = judge(history, [100.0])
    assert at_new.result is CandidateResult.PASS
    assert at_new.baseline_size == 12
    assert at_old.result is CandidateResult.IMPROVEMENT


def test_the_baseline_starts_where_the_perftest_verdict_reported_the_change() -> None:
    """A change the detector places at run 15 but the PerfTest's status names at run 16 (a run
    away) starts the baseline at 16; a reported run far from any change moves nothing."""
    history = quiet(15, seed=1) + quiet(12, seed=2, level=150.0)

    def start(reported: list[int], lookback: int = 100) -> int:
        return current_baseline(
            history, direction=LOWER, threshold_percent=10.0, lookback=lookback, reported=reported
        ).start

    assert start([]) == 15
    assert start([16]) == 16
    assert start([5]) == 15
    # indices are the history's: with a window of the newest 20 runs (from run 7), still 16
    assert start([16], lookback=20) == 16
    verdict = judge_candidate(
        history,
        [150.0],
        direction=LOWER,
        threshold_percent=10.0,
        settings=AnalysisSettings(),
        reported=[16],
    )
    assert verdict.baseline_size == 11


def test_the_baseline_is_capped_at_lookback() -> None:
    history = quiet(30)
    baseline = current_baseline(history, direction=LOWER, threshold_percent=10.0, lookback=12)
    assert baseline.start == 18
    assert baseline.values.tolist() == history[18:]


@pytest.mark.parametrize(
    ("candidate", "failed", "reason"),
    [
        ([], 0, InconclusiveReason.NO_CANDIDATE_VALUE),
        ([130.0], 1, InconclusiveReason.FAILED_RUN),
        ([130.0, math.nan], 0, InconclusiveReason.NOT_FINITE),
    ],
)
def test_a_candidate_without_values_is_inconclusive(
    candidate: list[float], failed: int, reason: InconclusiveReason
) -> None:
    verdict = judge(quiet(10), candidate, failed_runs=failed)
    assert verdict.result is CandidateResult.INCONCLUSIVE
    assert verdict.reason is reason
