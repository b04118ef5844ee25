"""The kernel-regression story of DESIGN.md as replayable nightly runs, for tests and the demo."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from localstack.jobs import JobScript, Script
from localstack.prometheus import ReplayRun

# OpenShift 4.19 nightlies, January 2025: the worst read-only API p99 of a run (s), reported then
# as readOnlyAPICallsLatency max. Run 8 is the first bad one (RHCOS kernel 427 -> 570,
# madvise/MADV_RANDOM); the values then flip between ~3.9 s and ~19.9 s. In the replay it is the
# peak of the namespace-scoped read-only series, so max-ro-apicalls-latency-namespace reports
# exactly these values (localstack.prometheus.ReplayRun says what the other defaults report).
READ_ONLY_LATENCY = (
    0.984,
    0.984,
    0.984,
    0.976,
    0.984,
    0.984,
    0.9,
    3.98,
    19.9,
    19.9,
    3.94,
    19.6,
    28.6,
    3.86,
    3.74,
)
# Mutating calls were not affected: a steady ~0.3 s with a little noise.
MUTATING_LATENCY = (
    0.301,
    0.298,
    0.305,
    0.299,
    0.302,
    0.3,
    0.297,
    0.303,
    0.299,
    0.301,
    0.304,
    0.298,
    0.3,
    0.302,
    0.299,
)
FIRST_BAD_RUN = 8
# Which default KPIs carry the story. The replay's read-only series (GET pods, namespace scope;
# LIST configmaps, cluster scope) both follow the night's latency, as the kernel slowed every
# read-only call, so the four read-only KPIs (avg and max over time, per scope) all move at run
# 8 and the two mutating ones do not. STORY_KPI reports READ_ONLY_LATENCY exactly.
STORY_KPI = "max-ro-apicalls-latency-namespace"
STORY_KPIS = (
    "avg-ro-apicalls-latency-cluster",
    "avg-ro-apicalls-latency-namespace",
    "max-ro-apicalls-latency-cluster",
    "max-ro-apicalls-latency-namespace",
)
RUN_MINUTES = 20
# A 20 % step at night 10 that the newest-runs check first places at night 9 (1.043, already
# high) when night 10 arrives; on all 12 nights the series alone places it at night 10.
EARLY_STEP_LATENCY = (
    1.017,
    1.005,
    1.007,
    1.015,
    1.028,
    1.014,
    1.032,
    1.009,
    1.043,
    1.25,
    1.299,
    1.294,
)


def nightly_windows(
    count: int, *, last_night: datetime.datetime
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """One 20-minute window per night at 02:00 UTC, the newest on `last_night`'s date."""
    newest = last_night.astimezone(datetime.UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    starts = [newest - datetime.timedelta(days=count - 1 - i) for i in range(count)]
    return [(start, start + datetime.timedelta(minutes=RUN_MINUTES)) for start in starts]


def story_runs(
    *,
    now: datetime.datetime,
    read_only: Sequence[float] = READ_ONLY_LATENCY,
    mutating: Sequence[float] = MUTATING_LATENCY,
) -> list[ReplayRun]:
    """The replayed runs, the newest finished at least a day before `now`."""
    windows = nightly_windows(len(read_only), last_night=now - datetime.timedelta(days=1))
    return [
        ReplayRun(
            start=start, end=end, read_only_api_calls_latency=ro, mutating_api_calls_latency=mu
        )
        for (start, end), ro, mu in zip(windows, read_only, mutating, strict=True)
    ]


def run_number(job: Mapping[str, Any]) -> int | None:
    """The PerfRun number of a perftest Job, from the run label `<test>-<n>`."""
    run = ((job.get("metadata") or {}).get("labels") or {}).get("perftest.dev/run", "")
    tail = run.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def replay_script(runs: Sequence[ReplayRun], exit_codes: Mapping[int, int] | None = None) -> Script:
    """A Job script that gives run n the n-th replayed window (and an exit code, 0 by default)."""
    codes = dict(exit_codes or {})

    def script(job: Mapping[str, Any]) -> JobScript | None:
        number = run_number(job)
        if number is None or not 1 <= number <= len(runs):
            return None
        run = runs[number - 1]
        return JobScript(start=run.start, end=run.end, exit_code=codes.get(number, 0))

    return script
