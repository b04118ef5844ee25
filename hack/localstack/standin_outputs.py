"""What the stand-in leaves behind, in kube-burner's formats, and the scenario it plays; pure.

The scenario is what a test asks of a run, through environment variables the simulated Job
controller sets from its JobScript (``scenario_env``): the measured window, the pod-ready P99, and
how the run ends. The endings are kube-burner's (KB v1.17.2 pkg/burner/job.go:192-299,
/work/research/runtime.yaml ``exitCodes``):

- ``completed``: exit 0, or 4 when the P99 Ready latency is over the run's threshold;
- ``benchmark-timeout``: ``--timeout`` fires while the last job waits: ``<timeout> timeout
  reached``, exit 2, every jobSummary ``passed: false`` with the timeout in
  ``executionErrors``, no garbage collection of the running job (job.go:266-284);
- ``gc-timeout``: the benchmark completes (``passed: true``), then its namespaces outlive
  gcTimeout: ``garbage collection timeout reached``, exit 2 (job.go:286-297);
- ``wait-timeout``: the pods never become ready and a waiter's maxWaitTimeout runs out first:
  ``Timeout occurred while waiting for objects in namespace <ns>``, log.Fatalf, exit 1, no
  jobSummary (KB pkg/burner/waiters.go:120-126);
- ``threshold``: ``completed`` with the P99 Ready latency over the threshold (exit 4).

Formats: logrus' TextFormatter as kube-burner configures it (``time="2006-01-02 15:04:05"
level=info msg="..." file="job.go:90"``, KB pkg/util/cmd.go:58-75); jobSummary documents as
pkg/burner/metadata.go:28-67 writes them (keys sorted, as the map they go through encodes them,
durations of jobConfig in nanoseconds); pod-latency quantiles as
pkg/measurements/metrics/metrics.go:28-42 (milliseconds, one document per condition).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from localstack.standin_flags import go_quote

ENV_PREFIX = "KUBE_BURNER_STANDIN_"
START_ENV = ENV_PREFIX + "START"
END_ENV = ENV_PREFIX + "END"
ENDING_ENV = ENV_PREFIX + "ENDING"
P99_ENV = ENV_PREFIX + "POD_READY_P99_MS"
MAX_ITERATIONS_ENV = ENV_PREFIX + "MAX_ITERATIONS"
# The P99 Ready latency of a scenario that does not give one: well under every threshold.
DEFAULT_P99_MS = 3_100
# The conditions a podLatency quantile file holds (KB pkg/measurements/pod_latency.go:294-303;
# PodReadyToStartContainers is never measured and stays 0, pod_latency.go:237-292).
POD_CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")
UNMEASURED_CONDITION = "PodReadyToStartContainers"


class Ending(str, enum.Enum):
    COMPLETED = "completed"
    BENCHMARK_TIMEOUT = "benchmark-timeout"
    GC_TIMEOUT = "gc-timeout"
    WAIT_TIMEOUT = "wait-timeout"
    THRESHOLD = "threshold"


@dataclasses.dataclass(frozen=True)
class Scenario:
    """How a run plays out beyond its API requests."""

    start: datetime.datetime | None = None  # the measured window; None: the run's own clock
    end: datetime.datetime | None = None
    ending: Ending = Ending.COMPLETED
    pod_ready_p99_ms: int | None = None
    max_iterations: int | None = None  # at most this many iterations per job (fewer requests)


def _moment(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def scenario_from(env: Mapping[str, str]) -> Scenario:
    """The scenario in the environment; ValueError for one that cannot be read."""
    p99 = env.get(P99_ENV)
    cap = env.get(MAX_ITERATIONS_ENV)
    return Scenario(
        start=_moment(env.get(START_ENV)),
        end=_moment(env.get(END_ENV)),
        ending=Ending(env.get(ENDING_ENV) or Ending.COMPLETED.value),
        pod_ready_p99_ms=int(p99) if p99 else None,
        max_iterations=int(cap) if cap else None,
    )


def scenario_env(scenario: Scenario) -> dict[str, str]:
    """The environment that gives a stand-in run ``scenario``."""
    env = {ENDING_ENV: scenario.ending.value}
    for name, moment in ((START_ENV, scenario.start), (END_ENV, scenario.end)):
        if moment is not None:
            env[name] = moment.astimezone(datetime.UTC).isoformat()
    if scenario.pod_ready_p99_ms is not None:
        env[P99_ENV] = str(scenario.pod_ready_p99_ms)
    if scenario.max_iterations is not None:
        env[MAX_ITERATIONS_ENV] = str(scenario.max_iterations)
    return env


def log_line(moment: datetime.datetime, level: str, message: str, where: str) -> str:
    """One logrus line; ``where`` is the Go file and line kube-burner logs from."""
    stamp = moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f'time="{stamp}" level={level} msg={go_quote(message)} file="{where}"\n'


def go_time(moment: datetime.datetime) -> str:
    """time.Time's JSON: RFC 3339 with the nanoseconds it has, in UTC."""
    text = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One executed job, as kube-burner's executedJobs keeps it (KB pkg/prometheus Job)."""

    config: Mapping[str, Any]  # jobConfig as config.Job marshals it
    start: datetime.datetime
    end: datetime.datetime
    churn_start: datetime.datetime | None = None
    churn_end: datetime.datetime | None = None
    object_operations: int = 0


def job_summary(
    record: JobRecord,
    *,
    uuid: str,
    version: str,
    passed: bool,
    execution_errors: str,
    metadata: Mapping[str, Any],
    timed_out: bool = False,
) -> dict[str, Any]:
    """One jobSummary document (KB pkg/burner/metadata.go:28-67, job.go:315-343)."""
    elapsed = (record.end - record.start).total_seconds()
    document: dict[str, Any] = {
        "timestamp": go_time(record.start),
        "endTimestamp": go_time(record.end),
        "elapsedTime": round(elapsed),
        "uuid": uuid,
        "metricName": "jobSummary",
        "jobConfig": dict(record.config),
        "version": version,
        "passed": passed,
    }
    if record.churn_start is not None:
        document["churnStartTimestamp"] = go_time(record.churn_start)
    if record.churn_end is not None:
        document["churnEndTimestamp"] = go_time(record.churn_end)
    if record.object_operations and elapsed > 0 and not timed_out:
        document["achievedQps"] = round(record.object_operations / elapsed, 3)
    if execution_errors:
        document["executionErrors"] = execution_errors
    document.update({k: v for k, v in metadata.items() if v not in (None, "", 0)})
    return dict(sorted(document.items()))


def pod_latency_quantiles(
    p99_ms: int, *, job: str, uuid: str, moment: datetime.datetime
) -> list[dict[str, Any]]:
    """A podLatencyQuantilesMeasurement file's documents, from the scenario's P99 Ready."""
    shares = {"PodScheduled": 0.02, "Initialized": 0.05, "ContainersReady": 0.97, "Ready": 1.0}
    documents = []
    for condition in (*POD_CONDITIONS, UNMEASURED_CONDITION):
        p99 = round(p99_ms * shares.get(condition, 0.0))
        documents.append(
            {
                "quantileName": condition,
                "uuid": uuid,
                "P99": p99,
                "P95": round(p99 * 0.9),
                "P50": round(p99 * 0.5),
                "min": round(p99 * 0.2),
                "max": round(p99 * 1.1),
                "avg": round(p99 * 0.55),
                "timestamp": go_time(moment),
                "metricName": "podLatencyQuantilesMeasurement",
                "jobName": job,
            }
        )
    return documents


def pod_latencies(
    pods: Sequence[tuple[str, str]], p99_ms: int, *, job: str, uuid: str, moment: datetime.datetime
) -> list[dict[str, Any]]:
    """A podLatencyMeasurement file's documents, one per (namespace, pod) (pod_latency.go:52-73)."""
    return [
        {
            "timestamp": go_time(moment),
            "schedulingLatency": round(p99_ms * 0.02),
            "initializedLatency": round(p99_ms * 0.05),
            "containersReadyLatency": round(p99_ms * 0.97),
            "podReadyLatency": p99_ms,
            "readyToStartContainersLatency": 0,
            "metricName": "podLatencyMeasurement",
            "uuid": uuid,
            "jobName": job,
            "namespace": namespace,
            "podName": name,
        }
        for namespace, name in pods
    ]


def threshold_message(p99_ms: int, threshold: str) -> str:
    """pkg/measurements/metrics/metrics.go:54-57 (the prefix is podLatency: for every kind)."""
    return (
        f"podLatency: P99 Ready latency ({p99_ms / 1000:.2f}s) higher than configured "
        f"threshold: {threshold}"
    )
