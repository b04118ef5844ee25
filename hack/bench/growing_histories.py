"""Histories as the operator sees them, grown one run at a time: how late, how stable, how quiet.

Prints, for the issue's growing-history case (a 10 % step on 2 % noise, `ten_percent_step`),
how many steps were first reported more than two runs after they happened and in how many
series the reported index changed after it was first reported: once with each call on its own
(as `perftest analyze` runs), once with each call given the answer before it (as the operator
passes its last verdict). Then, for the held-out series without a change, grown with the
operator's defaults (threshold and lookback), how many verdicts on the way showed a change:
the newest run alone (a provisional flag, withdrawn when the next run is back), or more.

    .venv/bin/python hack/bench/growing_histories.py [--step-seeds 160:1160] [--quiet-seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Sequence

import numpy as np
from changepoint_kinds import grown_step_report, held_out_set

from perftest_operator.analysis import detect_change_points
from perftest_operator.api.kpi import DEFAULT_THRESHOLD_PERCENT, Direction
from perftest_operator.api.spec import DEFAULT_LOOKBACK

STEP_THRESHOLD_PERCENT = 5.0  # as the unit tests grow it: the 10 % step is well above it
QUIET_FROM = 10  # runs a quiet history has when its verdicts start being counted


def _step_detector(values: np.ndarray, reported: Sequence[int]) -> list[int]:
    points = detect_change_points(
        values,
        direction=Direction.LOWER_IS_BETTER,
        threshold_percent=STEP_THRESHOLD_PERCENT,
        reported=reported,
    )
    return [p.index for p in points]


def report_steps(seeds: range) -> None:
    print(f"10 % step on 2 % noise, seeds {seeds.start}-{seeds.stop - 1}, grown one run at a time")
    for keep, label in ((False, "each call on its own"), (True, "given the answer before")):
        started = time.perf_counter()
        report = grown_step_report(seeds, _step_detector, keep=keep)
        seconds = time.perf_counter() - started
        print(
            f"  {label:26s} more than 2 runs late: {len(report.late):3d}   "
            f"index changed after first report: {len(report.moved_seeds):3d} series   "
            f"({seconds:.0f} s)"
        )


def report_quiet(seeds: Sequence[int]) -> None:
    print(
        f"held-out series without a change, seeds {', '.join(map(str, seeds))}, grown from "
        f"{QUIET_FROM} runs; threshold {DEFAULT_THRESHOLD_PERCENT:g} %, lookback {DEFAULT_LOOKBACK}"
    )
    verdicts: collections.Counter[str] = collections.Counter()
    newest_alone: collections.Counter[str] = collections.Counter()
    more: collections.Counter[str] = collections.Counter()
    series: collections.Counter[str] = collections.Counter()
    series_more: collections.Counter[str] = collections.Counter()
    for seed in seeds:
        for one in held_out_set(seed):
            if one.changes:
                continue
            series[one.kind] += 1
            flagged = False
            for length in range(QUIET_FROM, one.values.size + 1):
                window = one.values[max(0, length - DEFAULT_LOOKBACK) : length]
                found = [
                    p.index
                    for p in detect_change_points(
                        window,
                        direction=Direction.LOWER_IS_BETTER,
                        threshold_percent=DEFAULT_THRESHOLD_PERCENT,
                    )
                ]
                verdicts[one.kind] += 1
                if found == [window.size - 1]:
                    newest_alone[one.kind] += 1
                elif found:
                    more[one.kind] += 1
                    flagged = True
            series_more[one.kind] += flagged
    print(
        f"  {'kind':10s} {'verdicts':>9s} {'newest run alone':>17s} {'more':>5s}   series with more"
    )
    for kind in sorted(series):
        print(
            f"  {kind:10s} {verdicts[kind]:9d} {newest_alone[kind]:17d} {more[kind]:5d}   "
            f"{series_more[kind]:3d} of {series[kind]}"
        )
    print(
        f"  {'all':10s} {sum(verdicts.values()):9d} {sum(newest_alone.values()):17d} "
        f"{sum(more.values()):5d}   {sum(series_more.values()):3d} of {sum(series.values())}"
    )


def _seed_range(text: str) -> range:
    start, _, stop = text.partition(":")
    return range(int(start), int(stop))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-seeds", type=_seed_range, default=range(160, 1160))
    parser.add_argument(
        "--quiet-seeds", type=lambda t: [int(s) for s in t.split(",")], default=[1, 2, 3]
    )
    args = parser.parse_args(argv)
    report_steps(args.step_seeds)
    report_quiet(args.quiet_seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
