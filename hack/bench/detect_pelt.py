"""Bench driver: ruptures `Pelt(model="l2", jump=1)`, pen = 2·sigma²·ln n (run in the project's .venv).

sigma is the noise estimated from the median absolute deviation of the first differences, which a
level shift barely moves: sigma = 1.4826 · MAD(diff(x)) / sqrt(2) (a difference of two independent runs
has variance 2sigma²). `predict` returns segment ends; all but the last (n) are the first run after
a change.
"""

from __future__ import annotations

import math

import numpy as np
import ruptures
from timing_driver import driver_arguments, run_driver

MAD_TO_SIGMA = 1.4826


def noise_sigma(signal: np.ndarray) -> float:
    """A purely computational function with no side effects: sigma from the MAD of differences."""
    differences = np.diff(signal)
    mad = float(np.median(np.abs(differences - np.median(differences))))
    return MAD_TO_SIGMA * mad / math.sqrt(2.0)


def detect(values: list[float]) -> list[int]:
    signal = np.asarray(values, dtype=float)
    penalty = 2.0 * noise_sigma(signal) ** 2 * math.log(signal.size)
    ends = ruptures.Pelt(model="l2", jump=1).fit(signal).predict(pen=penalty)
    return [int(end) for end in ends[:-1]]


def main() -> None:
    args = driver_arguments(__doc__ or "").parse_args()
    call = 'Pelt(model="l2", jump=1).fit(x).predict(pen=2·sigma²·ln n), sigma=1.4826·MAD(diff x)/sqrt(2)'
    run_driver("pelt", detect, call, args)


if __name__ == "__main__":
    main()
