"""The split test of short segments: clipped values (Huber scores) instead of ranks."""

from __future__ import annotations

import numpy as np
import pytest

from perftest_operator.analysis import detect_change_points, shortscan
from perftest_operator.analysis.ranktest import centred_ranks, split_of_scores
from perftest_operator.analysis.shortscan import CLIP_SPREADS, clipped_scores, split_of_segment
from perftest_operator.api.kpi import Direction

ALPHA = 0.01


def _step(seed: int, before: int, after: int, spreads: float) -> np.ndarray:
    """`before` runs of 5 % normal noise on 1.0, then `after` runs `spreads` noise spreads higher."""
    generator = np.random.default_rng(seed)
    return np.concatenate(
        (generator.normal(1.0, 0.05, before), generator.normal(1.0 + 0.05 * spreads, 0.05, after))
    )


def _found(values: np.ndarray, change: int, *, clipped: bool, seed: int) -> bool:
    """Whether the split test (clipped values or ranks) calls a split within 2 runs of `change`."""
    generator = np.random.default_rng(seed)
    ranks = centred_ranks(values)
    settings = {"min_size": 1, "alpha": ALPHA, "permutations": 499}
    split = (
        split_of_segment(values, ranks, **settings, rng=lambda: generator)
        if clipped
        else split_of_scores(ranks, **settings, rng=lambda: generator)
    )
    return split is not None and split.p_value <= ALPHA and abs(split.index - change) <= 2


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("length", [12, 25, 39])
def test_the_scan_of_centred_values_is_the_largest_two_sample_t_statistic(
    seed: int, length: int
) -> None:
    values = np.random.default_rng(seed).normal(3.0, 0.4, length)

    split = split_of_scores(
        values - values.mean(),
        min_size=1,
        alpha=1.0,
        permutations=9,
        rng=lambda: np.random.default_rng(0),
        ranked=False,
    )

    def pooled_t(k: int) -> float:
        left, right = values[:k], values[k:]
        pooled = (np.sum((left - left.mean()) ** 2) + np.sum((right - right.mean()) ** 2)) / (
            length - 2
        )
        return float((right.mean() - left.mean()) / np.sqrt(pooled * (1 / k + 1 / (length - k))))

    t_values = [pooled_t(k) for k in range(1, length)]
    assert split is not None
    strongest = int(np.argmax(np.abs(t_values))) + 1
    assert split.index == strongest
    # t^2 = (n - 2) z^2 / (n - 1 - z^2), the same sign: the statistics order splits alike
    t_from_z = np.sign(split.z) * np.sqrt((length - 2) * split.z**2 / (length - 1 - split.z**2))
    assert t_from_z == pytest.approx(t_values[strongest - 1], rel=1e-9)


def test_clipped_scores_bound_a_flaky_run_and_do_not_depend_on_scale() -> None:
    values = np.random.default_rng(3).normal(1.0, 0.05, 25)
    flaky, wild = values.copy(), values.copy()
    flaky[7], wild[7] = 1.3, 100.0  # 6 and 2,000 noise spreads out

    scores = clipped_scores(flaky)

    assert scores is not None
    assert scores.mean() == pytest.approx(0.0, abs=1e-12)
    assert np.ptp(scores) <= 2 * CLIP_SPREADS + 1e-12
    assert scores[7] == np.max(scores)
    # how far out a flaky run lies changes nothing: it counts CLIP_SPREADS spreads either way
    assert np.array_equal(clipped_scores(wild), scores)
    scaled = clipped_scores(flaky * 1e-3)
    assert scaled is not None and scaled == pytest.approx(scores, abs=1e-9)


def test_long_segments_and_segments_without_spread_keep_their_ranks() -> None:
    assert clipped_scores(np.random.default_rng(1).normal(1.0, 0.05, 40)) is None
    assert clipped_scores(np.full(20, 0.42)) is None
    assert clipped_scores(np.array([1.0] * 15 + [2.0])) is None  # MAD and IQR are both 0
    assert clipped_scores(np.random.default_rng(1).normal(1.0, 0.05, 39)) is not None


@pytest.mark.parametrize(
    ("before", "after", "spreads", "more"),
    [(12, 5, 2.5, 15), (5, 20, 2.0, 25), (20, 6, 2.0, 8)],
)
def test_a_short_new_level_is_found_more_often_on_clipped_values_than_on_ranks(
    before: int, after: int, spreads: float, more: int
) -> None:
    seeds = range(400)
    by_ranks = sum(
        _found(_step(s, before, after, spreads), before, clipped=False, seed=s) for s in seeds
    )
    by_clipped = sum(
        _found(_step(s, before, after, spreads), before, clipped=True, seed=s) for s in seeds
    )

    # measured: 273 -> 300, 162 -> 203, 234 -> 253 of 400
    assert by_clipped >= by_ranks + more, (by_ranks, by_clipped)


@pytest.mark.parametrize("flaky", [False, True])
def test_the_clipped_scan_keeps_its_level_on_shuffled_quiet_runs(flaky: bool) -> None:
    values = np.random.default_rng(5).normal(1.0, 0.05, 30)
    if flaky:
        values[4] = 3.0
    shuffles = np.random.default_rng(11)
    significant = 0
    for seed in range(300):
        shuffled = shuffles.permutation(values)
        generator = np.random.default_rng(seed)
        split = split_of_segment(
            shuffled,
            centred_ranks(shuffled),
            min_size=1,
            alpha=ALPHA,
            permutations=499,
            rng=lambda g=generator: g,
        )
        significant += split is not None and split.p_value <= ALPHA
    # 300 exchangeable series at alpha 0.01: 3 expected; 9 or more has a chance below 0.5%
    assert significant <= 8


def test_the_detector_finds_more_small_steps_in_short_segments_with_clipped_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 5 runs, 20 runs 2 noise spreads higher, then 15 runs at twice the level: the clear step
    # splits the history first, and the small one is left to the scan of the 25 runs before it
    def hits_and_false(seeds: range) -> tuple[int, int]:
        hits = false = 0
        for seed in seeds:
            values = np.concatenate(
                (_step(seed, 5, 20, 2.0), np.random.default_rng([seed, 1]).normal(2.0, 0.1, 15))
            )
            indices = [
                p.index
                for p in detect_change_points(
                    values, direction=Direction.LOWER_IS_BETTER, threshold_percent=0
                )
            ]
            found = any(abs(i - 5) <= 2 for i in indices)
            hits += found
            false += sum(abs(i - 25) > 2 for i in indices) - found
        return hits, false

    with_clipped = hits_and_false(range(200))
    monkeypatch.setattr(shortscan, "clipped_scores", lambda values: None)
    with_ranks = hits_and_false(range(200))

    # measured: 105 found, 16 false with clipped values; 86 and 21 with ranks
    assert with_clipped[0] >= with_ranks[0] + 10, (with_ranks, with_clipped)
    assert with_clipped[1] <= with_ranks[1] + 2, (with_ranks, with_clipped)
