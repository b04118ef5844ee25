"""Tests of change-point detection on synthetic and real-shaped KPI histories."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import numpy.typing as npt
import pytest
import ruptures
from hypothesis import example, given, settings
from hypothesis import strategies as st

from localstack.story import READ_ONLY_LATENCY
from perftest_operator.analysis import ChangePoint, detect_change_points
from perftest_operator.analysis.ranktest import best_split, hoeffding_bound, midranks
from perftest_operator.api.errors import AnalysisError
from perftest_operator.api.kpi import Direction

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER

# OpenShift 4.19 nightlies, readOnlyAPICallsLatency max in seconds (January 2025): the kernel
# change arrives at index 7, then the runs flip between ~3.9 s and ~19.9 s.
STORY = list(READ_ONLY_LATENCY)
STORY_FIRST_BAD = 7


def indices(points: list[ChangePoint]) -> list[int]:
    return [p.index for p in points]


def noisy(
    seed: int, runs: int, level: float = 100.0, noise: float = 0.02
) -> npt.NDArray[np.float64]:
    """`runs` values around `level` with Gaussian noise of `noise` (relative), seeded."""
    rng = np.random.default_rng(seed)
    values: npt.NDArray[np.float64] = level * (1.0 + noise * rng.standard_normal(runs))
    return values


# --- the story ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(1, STORY_FIRST_BAD + 1))
def test_story_before_the_kernel_change_has_no_change_point(length: int) -> None:
    assert detect_change_points(STORY[:length], direction=LOWER, threshold_percent=10) == []


@pytest.mark.parametrize("length", range(STORY_FIRST_BAD + 1, len(STORY) + 1))
def test_story_flags_the_first_bad_run_once_despite_the_flip_flopping(length: int) -> None:
    points = detect_change_points(STORY[:length], direction=LOWER, threshold_percent=10)

    assert len(points) == 1
    point = points[0]
    assert point.index == STORY_FIRST_BAD
    assert point.regression is True
    assert point.before == pytest.approx(statistics.median(STORY[:STORY_FIRST_BAD]))
    assert point.after == pytest.approx(statistics.median(STORY[STORY_FIRST_BAD:length]))
    expected_percent = (point.after - point.before) / abs(point.before) * 100
    assert point.change_percent == pytest.approx(expected_percent)
    assert 0.0 < point.confidence <= 1.0


def test_story_confidence_grows_as_the_new_level_repeats() -> None:
    single = detect_change_points(STORY[:8], direction=LOWER, threshold_percent=10)[0]
    three = detect_change_points(STORY[:10], direction=LOWER, threshold_percent=10)[0]

    # one run above the seven before it: by chance with probability 1/8
    assert single.confidence == pytest.approx(1 - 1 / 8)
    # three runs above the seven before them: 1 / C(10, 3)
    assert three.confidence == pytest.approx(1 - 1 / math.comb(10, 3))


# --- noise-free steps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before_runs", "after_runs"),
    [(10, 10), (30, 5), (5, 30), (3, 40), (20, 1), (20, 2), (40, 3), (100, 7), (50, 50)],
)
def test_noise_free_step_gives_the_exact_index(before_runs: int, after_runs: int) -> None:
    values = [5.0] * before_runs + [7.0] * after_runs

    points = detect_change_points(values, direction=LOWER, threshold_percent=10)

    assert indices(points) == [before_runs]
    assert (points[0].before, points[0].after) == (5.0, 7.0)
    assert points[0].change_percent == pytest.approx(40.0)


def test_noise_free_two_steps_give_both_indices() -> None:
    values = [1.0] * 10 + [2.0] * 10 + [1.5] * 10

    points = detect_change_points(values, direction=LOWER, threshold_percent=10)

    assert indices(points) == [10, 20]
    assert [p.change_percent for p in points] == pytest.approx([100.0, -25.0])
    assert [p.regression for p in points] == [True, False]


def test_noise_free_three_steps_give_all_indices() -> None:
    values = [10.0] * 15 + [20.0] * 12 + [20.0 * 1.5] * 9 + [12.0] * 14

    points = detect_change_points(values, direction=LOWER, threshold_percent=10)

    assert indices(points) == [15, 27, 36]


# --- seeded noise ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(50))
def test_two_percent_noise_without_change_has_no_change_point(seed: int) -> None:
    # threshold 5 %: the same setting that finds a 10 % step in the next test
    assert detect_change_points(noisy(seed, 50), direction=LOWER, threshold_percent=5) == []


def test_false_alarm_rate_without_a_threshold_matches_the_significance_level() -> None:
    # With threshold 0 only the significance test (alpha = 0.01) stands between noise and an alarm.
    alarms = sum(
        bool(detect_change_points(noisy(seed, 50), direction=LOWER, threshold_percent=0))
        for seed in range(200)
    )
    assert alarms <= 6  # measured: 3 of 200 (13 of 1000)


def test_ten_percent_step_on_two_percent_noise_is_found_near_the_true_index() -> None:
    misplaced = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        true_index = int(rng.integers(10, 41))
        values = 100.0 * (1.0 + 0.02 * rng.standard_normal(50))
        values[true_index:] *= 1.10

        points = detect_change_points(values, direction=LOWER, threshold_percent=5)

        assert len(points) == 1, f"seed {seed}"
        assert points[0].regression
        assert abs(points[0].index - true_index) <= 4, f"seed {seed}"
        if abs(points[0].index - true_index) > 2:
            misplaced.append(seed)
    assert len(misplaced) <= 3  # measured: 1 in 100 (9 in 1000) off by 3 or 4 runs


@pytest.mark.parametrize("seed", range(20))
def test_single_flaky_run_in_the_middle_is_not_a_change(seed: int) -> None:
    values = noisy(seed, 41, level=1.0, noise=0.01)
    values[20] = 3.0
    assert detect_change_points(values, direction=LOWER, threshold_percent=10) == []


@pytest.mark.parametrize("seed", range(20))
def test_runs_flipping_between_two_modes_are_not_changes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    modes = np.where(rng.random(60) < 0.3, 200.0, 40.0)
    values = modes * (1.0 + 0.02 * rng.standard_normal(60))
    assert detect_change_points(values, direction=LOWER, threshold_percent=10) == []


# --- the newest run ----------------------------------------------------------------------------


def test_newest_run_alone_is_flagged_provisionally_and_withdrawn_when_the_next_returns() -> None:
    stable = list(noisy(3, 20, level=1.0, noise=0.01))

    flagged = detect_change_points([*stable, 3.0], direction=LOWER, threshold_percent=10)
    withdrawn = detect_change_points([*stable, 3.0, 1.0], direction=LOWER, threshold_percent=10)

    assert indices(flagged) == [20]
    assert flagged[0].regression
    assert withdrawn == []


def test_min_size_two_waits_for_a_second_run_at_the_new_level() -> None:
    stable = list(noisy(3, 20, level=1.0, noise=0.01))

    one = detect_change_points([*stable, 3.0], direction=LOWER, threshold_percent=10, min_size=2)
    two = detect_change_points(
        [*stable, 3.0, 3.1], direction=LOWER, threshold_percent=10, min_size=2
    )

    assert one == []
    assert indices(two) == [20]


def test_newest_run_in_a_mode_seen_before_is_not_a_departure() -> None:
    values = [1.0, 1.01, 0.99, 5.0, 1.0, 1.02, 5.1, 0.98, 1.0, 1.01, 5.05, 1.0]

    assert detect_change_points([*values, 5.02], direction=LOWER, threshold_percent=10) == []


def _after_a_short_quiet_segment(seed: int, newest: list[float]) -> list[int]:
    """Indices found when 80 runs at 3.5 (2 % noise) step to six unusually tight runs at 3.33
    (0.4 % noise) and then the `newest` runs arrive."""
    rng = np.random.default_rng([seed, 7])
    before = 3.5 * (1.0 + 0.02 * rng.standard_normal(80))
    short = 3.33 * (1.0 + 0.004 * rng.standard_normal(6))
    values = np.concatenate([before, short, newest])
    return indices(detect_change_points(values, direction=LOWER, threshold_percent=0))


def test_a_short_reference_borrows_the_noise_of_the_segment_before_it() -> None:
    # -3.5 % is ~1.8 sigma of the 2 % noise seen for 80 runs, but ~9 spreads of six tight runs
    small = [seed for seed in range(20) if 86 in _after_a_short_quiet_segment(seed, [3.22, 3.20])]
    large = [seed for seed in range(20) if 86 in _after_a_short_quiet_segment(seed, [2.9, 2.88])]

    assert len(small) <= 2, small  # measured: 1 of 20; before borrowing: 17 (3 more at 85)
    assert large == list(range(20))


# --- direction and threshold -------------------------------------------------------------------


def test_a_rise_is_a_regression_for_lower_is_better_and_an_improvement_for_higher() -> None:
    values = [100.0] * 15 + [130.0] * 15

    lower = detect_change_points(values, direction=LOWER, threshold_percent=10)
    higher = detect_change_points(values, direction=HIGHER, threshold_percent=10)

    assert indices(lower) == indices(higher) == [15]
    assert lower[0].regression is True
    assert higher[0].regression is False
    assert lower[0].change_percent == higher[0].change_percent == pytest.approx(30.0)


def test_a_fall_is_a_regression_for_higher_is_better() -> None:
    values = [100.0] * 15 + [70.0] * 15

    higher = detect_change_points(values, direction=HIGHER, threshold_percent=10)

    assert indices(higher) == [15]
    assert higher[0].regression is True
    assert higher[0].change_percent == pytest.approx(-30.0)


def test_a_step_below_the_threshold_is_not_reported() -> None:
    values = [100.0] * 15 + [105.0] * 15

    assert detect_change_points(values, direction=LOWER, threshold_percent=10) == []
    assert indices(detect_change_points(values, direction=LOWER, threshold_percent=4)) == [15]


@pytest.mark.parametrize("scale", [1.0, 3.0, 0.1, 7.3, 1e-3])
def test_a_step_exactly_at_the_threshold_is_reported(scale: float) -> None:
    values = [1.0 * scale] * 15 + [1.1 * scale] * 15

    points = detect_change_points(values, direction=LOWER, threshold_percent=10)

    assert indices(points) == [15]


def test_a_change_from_zero_is_infinitely_large() -> None:
    points = detect_change_points([0.0] * 10 + [2.0] * 10, direction=LOWER, threshold_percent=10)

    assert indices(points) == [10]
    assert points[0].change_percent == math.inf


# --- invariants --------------------------------------------------------------------------------


@st.composite
def stepped_integer_series(draw: st.DrawFn) -> list[int]:
    """Integer levels held for a few runs each, plus small integer noise."""
    segments = draw(
        st.lists(st.tuples(st.integers(100, 1000), st.integers(1, 25)), min_size=1, max_size=4)
    )
    noise = draw(st.lists(st.integers(-15, 15), min_size=1, max_size=20))
    levels = [level for level, runs in segments for _ in range(runs)]
    return [level + step for level, step in zip(levels, itertools.cycle(noise), strict=False)]


@settings(max_examples=60, deadline=None, database=None)
@given(
    values=stepped_integer_series(),
    factor=st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    threshold=st.sampled_from([0.0, 5.0, 10.0]),
)
@example(values=[500] * 12 + [800] * 12, factor=0.37, threshold=10.0)
@example(values=[500] * 12 + [800] * 12 + [300] * 3, factor=123.0, threshold=5.0)
def test_scaling_by_a_positive_constant_keeps_the_indices(
    values: list[int], factor: float, threshold: float
) -> None:
    original = detect_change_points(values, direction=LOWER, threshold_percent=threshold)
    scaled = detect_change_points(
        [v * factor for v in values], direction=LOWER, threshold_percent=threshold
    )

    assert indices(scaled) == indices(original)
    assert [p.regression for p in scaled] == [p.regression for p in original]
    assert [p.change_percent for p in scaled] == pytest.approx([p.change_percent for p in original])
    assert [p.after for p in scaled] == pytest.approx([p.after * factor for p in original])


@pytest.mark.parametrize("length", [0, 1, 2, 5, 8, 30, 200])
def test_a_constant_series_has_no_change_point(length: int) -> None:
    assert detect_change_points([0.42] * length, direction=LOWER, threshold_percent=0) == []


@pytest.mark.parametrize(
    ("values", "index"),
    [([1.0, 2.0, math.nan, 4.0], 2), ([math.inf, 1.0, 1.0], 0), ([1.0] * 9 + [-math.inf], 9)],
)
def test_non_finite_values_raise_an_analysis_error_naming_the_index(
    values: list[float], index: int
) -> None:
    with pytest.raises(AnalysisError, match=f"index {index}"):
        detect_change_points(values, direction=LOWER, threshold_percent=10)


def test_a_two_dimensional_series_is_refused() -> None:
    with pytest.raises(AnalysisError, match="one-dimensional"):
        detect_change_points(np.ones((3, 4)), direction=LOWER, threshold_percent=10)


@pytest.mark.parametrize(
    "setting", [{"min_size": 0}, {"alpha": 0.0}, {"permutations": 0}, {"threshold_percent": -1.0}]
)
def test_invalid_settings_are_refused(setting: dict[str, float]) -> None:
    arguments: dict[str, float] = {"threshold_percent": 10.0, **setting}
    with pytest.raises(ValueError):
        detect_change_points([1.0, 2.0, 3.0], direction=LOWER, **arguments)  # type: ignore[arg-type]


def test_the_input_is_not_modified_and_the_answer_does_not_depend_on_global_randomness() -> None:
    values = noisy(11, 60)
    values[35:] *= 1.06
    copy = values.copy()

    np.random.seed(1)
    first = detect_change_points(values, direction=LOWER, threshold_percent=3)
    np.random.seed(2)
    second = detect_change_points(values, direction=LOWER, threshold_percent=3)

    assert first == second
    assert indices(first) != []
    np.testing.assert_array_equal(values, copy)


# --- the scan test against slow, obvious implementations ---------------------------------------


def brute_force_z(values: npt.NDArray[np.float64], split: int) -> float:
    """Mann-Whitney z of values[split:] against values[:split], by counting pairs (tie-corrected)."""
    left, right = values[:split], values[split:]
    u = sum(1.0 if r > v else 0.5 if r == v else 0.0 for v in left for r in right)
    n1, n2, n = left.size, right.size, values.size
    _, counts = np.unique(values, return_counts=True)
    ties = float(np.sum(counts**3 - counts)) / (n * (n - 1))
    variance = n1 * n2 / 12.0 * ((n + 1) - ties)
    return (u - n1 * n2 / 2.0) / math.sqrt(variance)


@pytest.mark.parametrize("seed", range(25))
def test_best_split_matches_a_pairwise_mann_whitney_scan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    length = int(rng.integers(4, 40))
    values = rng.standard_normal(length)
    values[int(rng.integers(1, length)) :] += rng.uniform(0.0, 2.0)
    if seed % 3 == 0:
        values = np.round(values)  # ties
    assert not np.all(values == values[0])  # a seed that gave no split to check: pick others

    split = best_split(values, min_size=1, alpha=1.0, permutations=9, rng=np.random.default_rng(0))

    assert split is not None
    brute = [brute_force_z(values, t) for t in range(1, length)]
    assert abs(split.z) == pytest.approx(max(abs(z) for z in brute))
    assert split.z == pytest.approx(brute[split.index - 1])


@pytest.mark.parametrize("seed", range(15))
def test_best_split_agrees_with_ruptures_rank_cost(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    length = int(rng.integers(10, 80))
    values = rng.standard_normal(length)
    values[int(rng.integers(2, length - 1)) :] += rng.uniform(0.5, 3.0)

    split = best_split(values, min_size=2, alpha=1.0, permutations=9, rng=np.random.default_rng(0))
    found = ruptures.Binseg(model="rank", min_size=2, jump=1).fit(values.reshape(-1, 1))
    ruptures_index = found.predict(n_bkps=1)[0]

    assert split is not None
    # same statistic at both splits (they may differ only if two splits tie exactly)
    assert abs(brute_force_z(values, ruptures_index)) == pytest.approx(abs(split.z))


def test_a_different_first_run_among_tied_values_is_not_a_change() -> None:
    # A normal approximation calls this split hugely significant (z = 6.3); it is not: any of the
    # 41 positions is equally likely for the odd value, and two of them give this split.
    assert detect_change_points([5.0] + [7.0] * 40, direction=LOWER, threshold_percent=10) == []


@pytest.mark.parametrize(
    "values",
    [
        [5.0] + [7.0] * 40,
        [5.0] * 3 + [7.0] * 60,
        [1.0, 2.0] * 15 + [3.0] * 10,
        list(np.round(np.random.default_rng(7).standard_normal(60))) + [4.0] * 5,
        [*np.random.default_rng(8).standard_normal(50), 3.0, 3.1, 2.9, 3.2],
    ],
)
def test_the_hoeffding_shortcut_never_claims_more_than_the_permutations_show(
    values: list[float],
) -> None:
    series = np.array(values)
    centered = midranks(series) - (series.size + 1) / 2.0
    left = np.arange(1, series.size, dtype=np.float64)
    scales = np.sqrt(
        left * (series.size - left) * np.sum(centered**2) / (series.size * (series.size - 1))
    )
    observed = best_split(
        series, min_size=1, alpha=1.0, permutations=20_000, rng=np.random.default_rng(1)
    )
    assert observed is not None

    bound = hoeffding_bound(centered, scales, abs(observed.z), 1)

    # the permutation p-value carries Monte Carlo error of about sqrt(p / 20000)
    assert bound >= observed.p_value - 3 * math.sqrt(observed.p_value / 20_000)
