"""Rank-based scan test: where a segment most likely splits in two and how surprising that split is.

A purely computational module with no side effects; its permutations come from a generator seeded
by the caller, so the same input always gives the same answer. Ranks make the test blind to the
scale of the values and robust to outliers and to runs that flip between two modes. The split
test also scans other centred scores with permutations (the clipped values of `shortscan`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.series import FloatArray

# Permutations are drawn in batches that start small and double up to this size: a clearly
# insignificant segment stops after a few dozen permutations.
PERMUTATION_BATCH = 100
FIRST_PERMUTATION_BATCH = 16
# A permutation p-value near alpha carries Monte Carlo error (at 499 permutations, a split whose
# exact p-value is 0.007 is missed about one time in four), so the split test draws more, up to
# MONTE_CARLO_EXTENSION times as many, until its count of permutations at least as strong is
# implausible (chance at most MONTE_CARLO_RISK) for a p-value on the other side of alpha: a
# sequential Monte Carlo test with a bounded resampling risk (after Gandy, JASA 2009).
MONTE_CARLO_EXTENSION = 10
MONTE_CARLO_RISK = 1e-3
# The analytic scan p-value is used from this many values on, when ties keep at least this share
# of the untied rank variance; shorter or heavily tied segments are permuted. Below 40 values the
# analytic tails (conservative by design) miss clear changes of short segments: a new level of
# nine runs that are the top nine of 21 has an exact chance of 13 / C(21, 9) = 4e-5, but an
# interior p-value of 3e-3 by Kuiper's tail. Permuting costs little there.
ANALYTIC_MIN_LENGTH = 40
ANALYTIC_MIN_TIE_FACTOR = 0.8
# Overshoot correction argument scale, calibrated against permutations for n = 20..1,000 so that
# the approximation is slightly conservative at p = 0.1, 0.01 and 0.002.
OVERSHOOT_SCALE = 1.5
KUIPER_CORRECTION = 0.6


@dataclass(frozen=True)
class Split:
    """The most likely split of a segment: `index` is the first position of the right part."""

    index: int
    # standardised CUSUM of the scores at the split (of ranks: Mann-Whitney's z); > 0 when the
    # right part scores higher
    z: float
    p_value: float  # chance of a split at least this strong anywhere in the segment by luck


# Draws a generator only when a test first needs one (most segments draw no permutation).
GeneratorSource = Callable[[], np.random.Generator]


def midranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n of `values`; tied values share the mean of their ranks."""
    length = values.size
    order = values.argsort()
    ordered = values[order]
    first_of_group = np.empty(length, dtype=bool)
    first_of_group[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first_of_group[1:])
    ranks: FloatArray = np.empty(length, dtype=np.float64)
    if first_of_group.all():  # no ties: the ranks are 1..n
        ranks[order] = np.arange(1.0, length + 1.0)
        return ranks
    starts = first_of_group.nonzero()[0]
    ends = np.concatenate((starts[1:], [length]))
    counts = ends - starts
    group_rank = ends.astype(np.float64) - (counts - 1) / 2.0
    ranks[order] = group_rank.repeat(counts)
    return ranks


def centred_ranks(values: FloatArray) -> FloatArray:
    """`midranks` minus their mean (n + 1) / 2: what both scan tests of a segment work on."""
    centered: FloatArray = midranks(values) - (values.size + 1) / 2.0
    return centered


@functools.lru_cache(maxsize=256)
def _left_sizes(length: int, min_size: int) -> tuple[FloatArray, FloatArray]:
    """Sizes k of the left part at each allowed split, and k (n - k); read-only, per length."""
    left = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    products = left * (length - left)
    left.flags.writeable = False
    products.flags.writeable = False
    return left, products


@functools.lru_cache(maxsize=256)
def _scan_weights(length: int, min_size: int) -> tuple[FloatArray, FloatArray]:
    """Siegmund's weights w_k = n / (k (n - k)) and their square roots; read-only, per length.

    Symmetric: w_k and w_(n-k) are the same float (k (n - k) is an exact integer product).
    """
    weights = length / _left_sizes(length, min_size)[1]
    roots = np.sqrt(weights)
    weights.flags.writeable = False
    roots.flags.writeable = False
    return weights, roots


def _batch_size(done: int) -> int:
    """How many permutations to draw next after `done` of them (doubling, capped)."""
    return min(PERMUTATION_BATCH, max(FIRST_PERMUTATION_BATCH, done))


def _split_scales(length: int, square_sum: float, min_size: int) -> FloatArray:
    """Standard deviation, under exchangeability, of the left part's rank sum at each split.

    `square_sum` is the sum of the squared centred ranks.
    """
    spread = square_sum / (length * (length - 1))
    scales: FloatArray = np.sqrt(_left_sizes(length, min_size)[1] * spread)
    return scales


def _max_abs_z(centered: FloatArray, scales: FloatArray, min_size: int) -> FloatArray:
    """Largest |z| over the allowed splits, for each row of `centered` (one ordering per row)."""
    length = centered.shape[-1]
    sums = np.cumsum(centered, axis=-1)[..., min_size - 1 : length - min_size]
    strongest: FloatArray = np.max(np.abs(sums) / scales, axis=-1)
    return strongest


def hoeffding_bound(centered: FloatArray, scales: FloatArray, z: float, min_size: int) -> float:
    """An upper bound on the scan p-value that holds for any ties (no normal approximation).

    The left part's sum at a split is drawn without replacement from the centred scores (ranks
    or values), so Hoeffding's inequality bounds each split's two-sided tail; a union bound
    adds the splits up. Loose, but tiny for the obvious changes of long series.
    """
    length = centered.size
    spread = float(np.max(centered) - np.min(centered))
    left = _left_sizes(length, min_size)[0]
    smaller_side = np.minimum(left, length - left)
    exponents = 2.0 * (z * scales) ** 2 / (smaller_side * spread**2)
    return min(1.0, float(np.sum(2.0 * np.exp(-exponents))))


_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
# Abramowitz and Stegun 7.1.26 (erf to within 1.5e-7): p and a1..a5
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _overshoot(x: FloatArray) -> FloatArray:
    """Siegmund's approximation of the overshoot factor nu(x) of a discretely sampled process.

    nu(x) = (2 / x) (Phi(x / 2) - 1/2) / ((x / 2) Phi(x / 2) + phi(x / 2)) for x > 0, with the
    normal distribution function Phi by Abramowitz and Stegun 7.1.26, which shares its
    exponential with the density phi (and needs no sign, x being positive).
    """
    half = x / 2.0
    gaussian = np.exp(half * half * -0.5)
    t = 1.0 / (1.0 + _ERF_P * half / _SQRT_2)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    cdf = 0.5 * (1.0 + (1.0 - poly * gaussian))
    nu: FloatArray = (2.0 / x) * (cdf - 0.5) / (half * cdf + gaussian / _SQRT_2PI)
    return nu


def analytic_scan_p_value(z: float, length: int, min_size: int) -> float:
    """Approximate chance that the largest |z| over all allowed splits reaches `z` by luck.

    Under exchangeability the standardised rank-sum process is close to a standardised Brownian
    bridge; Siegmund's tail approximation for its maximum, b phi(b) sum_k w_k nu(c b sqrt(w_k))
    with w_k = n / (k (n - k)), adds one term per allowed split and corrects for sampling the
    bridge at n points (`OVERSHOOT_SCALE` is c). O(n), no randomness. The weights of splits k
    and n - k are equal, so each term is computed once for the first half and mirrored.
    """
    b = abs(z)
    weights, roots = _scan_weights(length, min_size)
    count = weights.size
    half = (count + 1) // 2
    first_terms = weights[:half] * _overshoot(OVERSHOOT_SCALE * b * roots[:half])
    terms = np.concatenate((first_terms, first_terms[: count - half][::-1]))
    density = math.exp(-(b**2) / 2.0) / math.sqrt(2.0 * math.pi)
    total = b * density * float(np.add.reduce(terms))
    return min(1.0, total)


def _ties_are_mild(length: int, square_sum: float) -> bool:
    """Whether ties keep enough rank variance (`square_sum` of centred ranks) for the analytic
    p-values."""
    untied = length * (length**2 - 1) / 12.0
    return square_sum >= ANALYTIC_MIN_TIE_FACTOR * untied


@dataclass(frozen=True)
class Interior:
    """An interior run of values that ranks apart from the values on both sides of it."""

    start: int  # first position of the interior part
    end: int  # first position after it
    p_value: float


_KUIPER_SQUARES = np.arange(1, 101, dtype=np.float64) ** 2  # k^2 of the series' first 100 terms


def kuiper_p_value(statistic: float) -> float:
    """Chance that the range of a standard Brownian bridge exceeds `statistic` (Kuiper)."""
    squares = _KUIPER_SQUARES
    terms = (4.0 * squares * statistic**2 - 1.0) * np.exp(-2.0 * squares * statistic**2)
    return min(1.0, max(0.0, 2.0 * float(np.add.reduce(terms))))


def interior_segment(
    values: FloatArray, *, min_size: int, alpha: float, rng: np.random.Generator
) -> Interior | None:
    """The interior part that departs most from the rest, by the range of the rank CUSUM.

    A part in the middle that returns to the old level leaves no strong single split, but the
    cumulative sum of centred ranks climbs (or falls) across it: the range max - min of that
    sum, scaled to a Brownian bridge, is Kuiper's statistic and has an analytic tail. The
    finite-sample factor 1 + KUIPER_CORRECTION / sqrt(n) is calibrated against permutations
    (conservative for n >= 20); shorter or heavily tied segments get a permutation p-value of
    the range (enough permutations to reach `alpha`, stopping once it cannot be reached).
    None when the extremes do not leave three parts of at least `min_size` values.
    """
    return interior_of_ranks(centred_ranks(values), min_size=min_size, alpha=alpha, rng=lambda: rng)


def interior_of_ranks(
    centered: FloatArray, *, min_size: int, alpha: float, rng: GeneratorSource
) -> Interior | None:
    """`interior_segment` of the values whose `centred_ranks` are `centered`."""
    length = centered.size
    if length < 3 * min_size:
        return None
    if not centered.any():
        return None
    walk = np.concatenate(([0.0], centered.cumsum()))
    lowest, highest = int(walk.argmin()), int(walk.argmax())
    low, high = sorted((lowest, highest))
    if low < min_size or high - low < min_size or length - high < min_size:
        return None
    observed = float(walk[highest] - walk[lowest])
    square_sum = float((centered**2).sum())
    if length >= ANALYTIC_MIN_LENGTH and _ties_are_mild(length, square_sum):
        spread = math.sqrt(square_sum / (length - 1))
        scaled = (
            observed / (spread * math.sqrt(length)) * (1.0 + KUIPER_CORRECTION / math.sqrt(length))
        )
        return Interior(start=low, end=high, p_value=kuiper_p_value(scaled))
    permutations = math.ceil(2.0 / alpha)
    exceed = done = 0
    while done < permutations and (exceed + 1) / (permutations + 1) <= alpha:
        batch = min(_batch_size(done), permutations - done)
        walks = np.cumsum(
            rng().permuted(np.broadcast_to(centered, (batch, length)), axis=1), axis=1
        )
        ranges = np.maximum(walks.max(axis=1), 0.0) - np.minimum(walks.min(axis=1), 0.0)
        exceed += int(np.count_nonzero(ranges >= observed * (1.0 - 1e-12)))
        done += batch
    return Interior(start=low, end=high, p_value=(exceed + 1) / (done + 1))


def best_split(
    values: FloatArray,
    *,
    min_size: int,
    alpha: float,
    permutations: int,
    rng: np.random.Generator,
) -> Split | None:
    """The strongest split of `values` with at least `min_size` values on each side, or None.

    The p-value is a permutation p-value of the largest standardised rank statistic over all
    allowed splits, so scanning many split positions is already paid for. At least
    `permutations` are drawn before a split is called significant, and up to
    `MONTE_CARLO_EXTENSION` times as many while the count of permutations at least as strong
    leaves it open which side of `alpha` the p-value lies on; permuting stops early once that
    count settles it (the p-value reported is the one seen so far). When `hoeffding_bound` is
    already smaller than the smallest p-value the permutations could show, that bound is the
    p-value and no permutation is drawn: an obvious change in a long series costs O(n).
    """
    return split_of_scores(
        centred_ranks(values),
        min_size=min_size,
        alpha=alpha,
        permutations=permutations,
        rng=lambda: rng,
    )


def split_of_scores(
    centered: FloatArray,
    *,
    min_size: int,
    alpha: float,
    permutations: int,
    rng: GeneratorSource,
    ranked: bool = True,
) -> Split | None:
    """`best_split` of the values whose `centred_ranks` are `centered`, or of other centred
    scores (`ranked` False: clipped values, `shortscan`).

    The statistic is the largest |z| of the standardised CUSUM of the scores over all allowed
    splits (for centred values, the largest two-sample t statistic: t^2 = (n - 2) u / (Q - u)
    grows with the squared z u, and the total sum of squares Q is the same in every ordering).
    The analytic tail is for ranks of a long, mildly tied segment; any other scores get a
    permutation p-value (`hoeffding_bound` holds for any scores drawn without replacement).
    """
    length = centered.size
    if length < 2 * min_size or not centered.any():
        return None  # too short, or all values equal
    square_sum = float((centered**2).sum())
    scales = _split_scales(length, square_sum, min_size)
    sums = centered.cumsum()[min_size - 1 : length - min_size]
    z_all = sums / scales
    best = int(np.abs(z_all).argmax())
    # cumsum of the left part's scores: z > 0 means the left part scores high, so flip the sign
    z = -float(z_all[best])
    if ranked and length >= ANALYTIC_MIN_LENGTH and _ties_are_mild(length, square_sum):
        p_value = analytic_scan_p_value(z, length, min_size)
    else:
        p_value = _permuted_p_value(
            centered, scales, abs(z), min_size, alpha=alpha, permutations=permutations, rng=rng
        )
    return Split(index=best + min_size, z=z, p_value=p_value)


def _permuted_p_value(
    centered: FloatArray,
    scales: FloatArray,
    observed_z: float,
    min_size: int,
    *,
    alpha: float,
    permutations: int,
    rng: GeneratorSource,
) -> float:
    """The sequential permutation p-value of a scan whose largest |z| is `observed_z` (see
    `best_split`), or `hoeffding_bound` when that is already below what permutations can show."""
    bound = hoeffding_bound(centered, scales, observed_z, min_size)
    if bound <= 1.0 / (permutations + 1):
        return bound
    length = centered.size
    # ties with the observed value count as "at least as strong"
    observed = observed_z * (1.0 - 1e-12)
    exceed = 0
    done = 0
    most = permutations * MONTE_CARLO_EXTENSION
    while done < most:
        batch = min(_batch_size(done), most - done)
        shuffled = rng().permuted(np.broadcast_to(centered, (batch, length)), axis=1)
        exceed += int(np.count_nonzero(_max_abs_z(shuffled, scales, min_size) >= observed))
        done += batch
        if (exceed + 1) / (most + 1) > alpha:
            break  # the p-value can no longer fall to alpha
        below, above = binomial_tails(exceed, done, alpha)
        if above <= MONTE_CARLO_RISK or (done >= permutations and below <= MONTE_CARLO_RISK):
            break  # settled: that many exceedances are implausible on the other side of alpha
    return (exceed + 1) / (done + 1)


def binomial_tails(count: int, trials: int, share: float) -> tuple[float, float]:
    """P(X <= count) and P(X >= count) for X binomial with `trials` draws of chance `share`."""
    if not 0.0 < share < 1.0:  # X is certain: 0 or `trials`
        certain = trials if share >= 1.0 else 0
        return float(certain <= count), float(certain >= count)
    log_share, log_rest = math.log(share), math.log1p(-share)
    pmf = np.exp(
        [
            math.lgamma(trials + 1)
            - math.lgamma(k + 1)
            - math.lgamma(trials - k + 1)
            + k * log_share
            + (trials - k) * log_rest
            for k in range(count + 1)
        ]
    )
    at_most = min(1.0, float(pmf.sum()))
    return at_most, min(1.0, max(0.0, 1.0 - at_most + float(pmf[-1])))
