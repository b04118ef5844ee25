"""The verdict on a candidate run: one KPI of a build's run(s) against the periodic baseline (pure).

A purely computational module with no side effects. A candidate (a developer's build, run once
or N times) never enters the periodic history; it is compared with the PerfTest's **baseline**:
the runs of the history's current level, i.e. the last segment that `detect_change_points`
finds in the last `lookback` runs (the window the periodic verdict analyses), fewer than
`min_history` of them being too little to judge by.

The test is one exact one-sided rank-sum (Mann-Whitney) test of the candidate's values among
the baseline's: its p-value is the chance that N of the pooled runs drawn at random rank at
least as badly. For one run it is (k + 1) / (n + 1), k being the baseline runs at least as bad.
A Regression needs, as a periodic change does, a change of the median by at least the KPI's
threshold and by at least `MIN_EFFECT` noise spreads of the baseline, and significance: the
p-value at most `alpha`. A rank test on few runs cannot reach `alpha` (one run among 10 has a
p-value of at least 1/11); there, as the periodic check of the newest runs does (`tail`), the
candidate's runs must all lie beyond every baseline run and their median `tail_z` / sqrt(N)
noise spreads away. An Improvement is the same the other way.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.changepoints import (
    DEFAULT_ALPHA,
    DEFAULT_TAIL_Z,
    change_percent,
    detect_change_points,
)
from perftest_operator.analysis.effect import MIN_EFFECT
from perftest_operator.analysis.medians import median
from perftest_operator.analysis.ranktest import midranks
from perftest_operator.analysis.series import FloatArray, as_finite_series
from perftest_operator.analysis.tail import noise_spread
from perftest_operator.api.kpi import Direction
from perftest_operator.api.spec import AnalysisSettings


class CandidateResult(str, enum.Enum):
    PASS = "Pass"  # within the baseline's noise or below the threshold
    REGRESSION = "Regression"  # worse by at least the threshold, and significantly
    IMPROVEMENT = "Improvement"  # better by at least the threshold, and significantly
    INCONCLUSIVE = "Inconclusive"  # cannot be judged: see `InconclusiveReason`


class InconclusiveReason(str, enum.Enum):
    SHORT_BASELINE = "ShortBaseline"  # fewer than minHistory runs in the current level
    NO_CANDIDATE_VALUE = "NoCandidateValue"  # the candidate's runs gave no value of the KPI
    FAILED_RUN = "FailedRun"  # a repeat of the candidate failed
    NOT_FINITE = "NotFinite"  # a candidate value is NaN or infinite


@dataclass(frozen=True)
class Baseline:
    """The periodic runs a candidate is compared with: the current level, at most lookback."""

    start: int  # index in the history given of the baseline's first run
    values: FloatArray  # oldest first
    median: float
    spread: float  # `tail.noise_spread`: run-to-run noise as a normal sigma


@dataclass(frozen=True)
class CandidateVerdict:
    """One KPI of a candidate against its baseline."""

    result: CandidateResult
    reason: InconclusiveReason | None  # set exactly when the result is Inconclusive
    message: str  # one human line
    baseline_size: int
    baseline_median: float  # NaN when the baseline is empty
    baseline_spread: float  # NaN when the baseline is empty
    candidate_median: float  # NaN without a candidate value
    # (candidate - baseline median) / |baseline median| * 100, as a periodic change point's
    # changePercent (`changepoints.change_percent`: a lower throughput is negative; `result`
    # says whether that is worse); NaN if not judged
    change_percent: float
    # 1 - the one-sided p-value in the direction the median moved (0 when not judged)
    confidence: float


def current_baseline(
    history: Sequence[float],
    *,
    direction: Direction,
    threshold_percent: float,
    lookback: int,
    reported: Collection[int] = (),
) -> Baseline:
    """The runs since the last change point among the newest `lookback` of `history`.

    `history`: the KPI's periodic values, oldest first. The change points are those the
    periodic verdict finds (`verdict.evaluate_history` on the same window); `reported`: the
    indices in `history` of the change points the PerfTest's verdict names, so that a change
    the detector could place a run or two away starts the baseline where the status says.
    Raises AnalysisError naming the index of a NaN or infinite value.
    """
    series = as_finite_series(history)
    offset = max(0, series.size - lookback)
    window = series[offset:]
    points = detect_change_points(
        window,
        direction=direction,
        threshold_percent=threshold_percent,
        reported=[index - offset for index in reported if index >= offset],
    )
    start = points[-1].index if points else 0
    values = window[start:]
    empty = values.size == 0
    return Baseline(
        start=offset + start,
        values=values,
        median=math.nan if empty else median(values),
        spread=math.nan if empty else noise_spread(values),
    )


def rank_sum_p_values(baseline: FloatArray, candidate: FloatArray) -> tuple[float, float]:
    """Exact one-sided rank-sum p-values of `candidate` among `baseline`: (as high, as low).

    The chance that len(candidate) of the pooled runs drawn at random have a rank sum at least
    (at most) the candidate's, ties counted with midranks: a count of subsets by their sum,
    exact for any size (the sums of doubled midranks are small integers).
    """
    size = candidate.size
    doubled = np.rint(2.0 * midranks(np.concatenate((baseline, candidate)))).astype(np.int64)
    observed = int(doubled[-size:].sum())
    highest = int(np.sort(doubled)[-size:].sum())
    # ways[k, s]: subsets of k of the runs seen so far whose doubled ranks sum to s
    ways = np.zeros((size + 1, highest + 1), dtype=np.float64)
    ways[0, 0] = 1.0
    for rank in doubled.tolist():
        for k in range(size, 0, -1):
            ways[k, rank:] += ways[k - 1, : highest + 1 - rank]
    total = float(ways[size].sum())
    as_high = float(ways[size, observed:].sum()) / total
    as_low = float(ways[size, : observed + 1].sum()) / total
    return min(1.0, as_high), min(1.0, as_low)


def _significant(
    p_value: float, beyond_all: bool, spreads: float, pooled: int, size: int, alpha: float
) -> bool:
    """Whether a one-sided p-value counts; where no rank sum could reach alpha, the tail rule."""
    smallest = 1.0 / math.comb(pooled, size)
    if smallest <= alpha:
        return p_value <= alpha
    return beyond_all and spreads >= DEFAULT_TAIL_Z / math.sqrt(size)


def _inconclusive(
    reason: InconclusiveReason, message: str, baseline: Baseline | None
) -> CandidateVerdict:
    return CandidateVerdict(
        result=CandidateResult.INCONCLUSIVE,
        reason=reason,
        message=message,
        baseline_size=0 if baseline is None else baseline.values.size,
        baseline_median=math.nan if baseline is None else baseline.median,
        baseline_spread=math.nan if baseline is None else baseline.spread,
        candidate_median=math.nan,
        change_percent=math.nan,
        confidence=0.0,
    )


def judge_candidate(
    history: Sequence[float],
    candidate: Sequence[float],
    *,
    direction: Direction,
    threshold_percent: float,
    settings: AnalysisSettings,
    failed_runs: int = 0,
    alpha: float = DEFAULT_ALPHA,
    reported: Collection[int] = (),
) -> CandidateVerdict:
    """The verdict on one KPI of a candidate's runs (`candidate`, 1..N values) against `history`.

    `history`: the KPI's periodic values, oldest first; `failed_runs`: the candidate's repeats
    that failed (any makes it Inconclusive: the repeats that succeeded may be the lucky ones);
    `reported`: as for `current_baseline`.
    Raises AnalysisError naming the index of a NaN or infinite history value.
    """
    if failed_runs > 0:
        return _inconclusive(InconclusiveReason.FAILED_RUN, f"{failed_runs} run(s) failed", None)
    if not candidate:
        return _inconclusive(InconclusiveReason.NO_CANDIDATE_VALUE, "no candidate value", None)
    values = np.array(candidate, dtype=np.float64)
    if not np.isfinite(values).all():
        return _inconclusive(InconclusiveReason.NOT_FINITE, "a candidate value is not finite", None)
    baseline = current_baseline(
        history,
        direction=direction,
        threshold_percent=threshold_percent,
        lookback=settings.lookback,
        reported=reported,
    )
    runs = baseline.values
    if runs.size < settings.min_history or runs.size == 0:
        return _inconclusive(
            InconclusiveReason.SHORT_BASELINE,
            f"{runs.size} periodic runs since the last change, fewer than "
            f"minHistory {settings.min_history}",
            baseline,
        )
    centre = median(values)
    percent = change_percent(baseline.median, centre)
    worse_sign = 1.0 if direction is Direction.LOWER_IS_BETTER else -1.0
    as_high, as_low = rank_sum_p_values(runs, values)
    p_worse, p_better = (as_high, as_low) if worse_sign > 0 else (as_low, as_high)
    shift = (centre - baseline.median) * worse_sign  # > 0: worse
    spreads = math.inf if baseline.spread == 0.0 else abs(shift) / baseline.spread
    above, below = bool(np.all(values > runs.max())), bool(np.all(values < runs.min()))
    worse_beyond, better_beyond = (above, below) if worse_sign > 0 else (below, above)
    material = spreads >= MIN_EFFECT and abs(percent) >= threshold_percent
    pooled = runs.size + values.size
    result = CandidateResult.PASS
    if (
        material
        and shift > 0
        and _significant(p_worse, worse_beyond, spreads, pooled, values.size, alpha)
    ):
        result = CandidateResult.REGRESSION
    elif (
        material
        and shift < 0
        and _significant(p_better, better_beyond, spreads, pooled, values.size, alpha)
    ):
        result = CandidateResult.IMPROVEMENT
    p_value = p_worse if shift > 0 else p_better if shift < 0 else 1.0
    return CandidateVerdict(
        result=result,
        reason=None,
        message=(
            f"{result.value}: median {centre:.6g} vs baseline {baseline.median:.6g} "
            f"({runs.size} runs), {percent:+.1f}%, confidence {1.0 - p_value:.3f}"
        ),
        baseline_size=runs.size,
        baseline_median=baseline.median,
        baseline_spread=baseline.spread,
        candidate_median=centre,
        change_percent=percent,
        confidence=1.0 - p_value,
    )
