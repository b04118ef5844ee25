"""Bench driver: Apache Otava 0.8.0 `compute_change_points` with its defaults (.venv-bench-otava).

Defaults as installed (otava/analysis.py): window_len=50, max_pvalue=0.001, min_magnitude=0.0,
new_data=None, old_weak_cp=None. It returns (change points, weak change points); a change
point's `index` is the first run after the change.
"""

from __future__ import annotations

from otava.analysis import compute_change_points
from timing_driver import driver_arguments, run_driver


def detect(values: list[float]) -> list[int]:
    change_points, _weak = compute_change_points(values)
    return [int(change_point.index) for change_point in change_points]


def main() -> None:
    args = driver_arguments(__doc__ or "").parse_args()
    run_driver("otava", detect, "otava.analysis.compute_change_points(values)", args)


if __name__ == "__main__":
    main()
