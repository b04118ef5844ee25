"""Bench driver: perftest_operator.analysis.detect_change_points (run in the project's .venv)."""

from __future__ import annotations

from timing_driver import driver_arguments, run_driver

from perftest_operator.analysis import detect_change_points
from perftest_operator.api.kpi import Direction


def main() -> None:
    parser = driver_arguments(__doc__ or "")
    parser.add_argument("--threshold-percent", type=float, required=True)
    args = parser.parse_args()
    threshold = float(args.threshold_percent)

    def detect(values: list[float]) -> list[int]:
        change_points = detect_change_points(
            values, direction=Direction.LOWER_IS_BETTER, threshold_percent=threshold
        )
        return [change_point.index for change_point in change_points]

    call = f"detect_change_points(values, direction=LowerIsBetter, threshold_percent={threshold:g})"
    run_driver("ours", detect, call, args)


if __name__ == "__main__":
    main()
