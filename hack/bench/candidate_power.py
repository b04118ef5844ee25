"""False alarms and power of the candidate verdict (`analysis/candidate.py`), per kind of KPI noise.

For each quiet kind of the held-out generator (`changepoint_kinds.labelled_series`: Gaussian,
flaky runs, heavy tails, two modes, quantised; levels and noise as CPT KPIs have them), a
series' first `n` runs are the periodic history and its next N runs the candidate: unchanged
(a false alarm if judged a Regression) or made 10, 20 or 50 % slower (power: judged a
Regression). LowerIsBetter, the default threshold (10 %), minHistory and lookback. Seeded.

    .venv/bin/python hack/bench/candidate_power.py [--series 400] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys

from changepoint_kinds import labelled_series

from perftest_operator.analysis.candidate import CandidateResult, judge_candidate
from perftest_operator.api.kpi import DEFAULT_THRESHOLD_PERCENT, Direction
from perftest_operator.api.spec import AnalysisSettings

QUIET_KINDS = ("stable", "outliers", "heavy", "bimodal", "quantised")
BASELINES = (10, 20)
REPEATS = (1, 3)
SLOWDOWNS = (0.0, 0.10, 0.20, 0.50)


def shares(
    kind: str, baseline: int, repeats: int, slowdown: float, args: argparse.Namespace
) -> tuple[float, float]:
    """The shares of `args.series` candidates of this kind judged a Regression, Inconclusive."""
    settings = AnalysisSettings()
    regressions = inconclusive = 0
    for number in range(args.series):
        values = labelled_series(args.seed * 1_000_000 + number, kind).values
        history = values[:baseline].tolist()
        candidate = (values[baseline : baseline + repeats] * (1.0 + slowdown)).tolist()
        verdict = judge_candidate(
            history,
            candidate,
            direction=Direction.LOWER_IS_BETTER,
            threshold_percent=DEFAULT_THRESHOLD_PERCENT,
            settings=settings,
        )
        regressions += verdict.result is CandidateResult.REGRESSION
        inconclusive += verdict.result is CandidateResult.INCONCLUSIVE
    return regressions / args.series, inconclusive / args.series


def main(argv: list[str]) -> int:
    """Print one row per kind, baseline size and repeats: % judged a Regression per slowdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=400, help="candidates per cell")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    header = "kind        n  N  false alarm %  power 10 %  power 20 %  power 50 %  inconclusive %"
    print(f"seed {args.seed}, {args.series} candidates per cell: % judged Regression")
    print(header)
    for kind in QUIET_KINDS:
        for baseline in BASELINES:
            for repeats in REPEATS:
                cells = [shares(kind, baseline, repeats, slow, args) for slow in SLOWDOWNS]
                row = "".join(f"{100.0 * regression:12.1f}" for regression, _ in cells)
                # too short a current level: the same runs whatever the candidate is
                short = 100.0 * cells[0][1]
                print(f"{kind:<10}{baseline:>3}{repeats:>3}  {row}{short:14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
