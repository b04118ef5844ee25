"""Turn a KPI history into a checked one-dimensional float array (a purely computational module)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perftest_operator.api.errors import AnalysisError

FloatArray = npt.NDArray[np.float64]


def sorted_copy(values: FloatArray) -> FloatArray:
    """`np.sort(values)` without its dispatch: a copy sorted in place, by the same algorithm."""
    ordered = values.copy()
    ordered.sort()
    return ordered


def as_finite_series(values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    """A new float64 copy of `values`; AnalysisError if not 1-D or if any value is NaN/Inf."""
    try:
        series = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"a series must hold numbers only: {exc}") from None
    if series.ndim != 1:
        raise AnalysisError(f"a series must be one-dimensional, got shape {series.shape}")
    not_finite = np.flatnonzero(~np.isfinite(series))
    if not_finite.size:
        index = int(not_finite[0])
        raise AnalysisError(f"value at index {index} is not a finite number: {series[index]!r}")
    return series
