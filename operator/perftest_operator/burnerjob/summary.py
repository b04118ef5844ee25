"""A kube-burner run's summary: what the Job's termination message tells the operator (pure).

The runner image's entry point (``burnerjob.entrypoint``) builds it from what kube-burner wrote
with its local indexer and from its log, and leaves it in the container's termination message,
which the operator reads from the pod's status. Facts about kube-burner v1.17.2 (the library
inside kube-burner-ocp v1.7.3; kube-burner/kube-burner at 2d99d9b82d34) and go-commons v2.1.1
(cloud-bulldozer/go-commons at 717a8173a1b3):

- The local indexer writes each metric as ``<metricsDirectory>/<metricName>.json``, a JSON array
  of documents (go-commons ``indexers/local.go:48-57``). kube-burner-ocp's workloads name the
  directory ``collected-metrics-<uuid>``, relative to the working directory
  (kube-burner-ocp v1.7.3 ``cmd/config/cluster-density-v2/cluster-density-v2.yml:43-48``).
- ``jobSummary``: one document per executed job, with ``timestamp`` and ``endTimestamp`` (RFC
  3339), ``elapsedTime`` (seconds), ``churnStartTimestamp``/``churnEndTimestamp`` when the job
  churned, ``passed`` and ``executionErrors`` (kube-burner ``pkg/burner/metadata.go:28-42``).
  The start is taken after images are preloaded and the end after creation and churn, before
  kube-burner waits for garbage collection (``pkg/burner/job.go:90-95,178-186``): that window is
  the measured phase. With ``gcMetrics`` a document for the job ``garbage-collection`` is added
  (``job.go:57,231-240``); it is not part of the measured phase.
- ``<measurement>QuantilesMeasurement-<job>``, e.g. ``podLatencyQuantilesMeasurement-<job>``: one
  document per condition (``quantileName``: Ready, ContainersReady, ...), with ``P99``, ``P95``,
  ``P50``, ``min``, ``max``, ``avg`` as integer milliseconds
  (``pkg/measurements/metrics/metrics.go:29-42``, ``base_measurement.go:136``).
- A benchmark that outlives ``--timeout`` logs ``<timeout> timeout reached`` and exits 2
  (``job.go:270-274``); a benchmark that finished but whose garbage collection outlived
  ``gcTimeout`` exits 2 too, with ``garbage collection timeout reached`` (``job.go:293-297``),
  and its job summaries say ``passed: true``. A measurement over its threshold exits 4 and logs
  ``podLatency: P99 Ready latency (3.10s) higher than configured threshold: 2m0s``
  (``job.go:193-198``, ``pkg/measurements/metrics/metrics.go:57``).

The summary must fit in a termination message: the kubelet keeps at most 4096 bytes of it
(Kubernetes docs, "Customizing the termination message"). ``encode_summary`` drops detail
(the last log line, error texts, quantiles) until it fits; the window is never dropped.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SUMMARY_KIND = "perftest.dev/kube-burner-summary"
SUMMARY_VERSION = 1
TERMINATION_MESSAGE_LIMIT = 4096
GARBAGE_COLLECTION_JOB = "garbage-collection"
JOB_SUMMARY_METRIC = "jobSummary"
QUANTILES_SUFFIX = "QuantilesMeasurement"
QUANTILE_FIELDS = ("P99", "P95", "P50", "min", "max", "avg")
MAX_TEXT = 300

GC_TIMEOUT_TEXT = "garbage collection timeout reached"
THRESHOLD_TEXT = "higher than configured threshold"
_GO_DURATION = r"[0-9][0-9hmsµun.]*"  # time.Duration's String(), e.g. 1h0m0s, 2.5s, 300ms
_BENCHMARK_TIMEOUT = re.compile(r"\b" + _GO_DURATION + " timeout reached")
_THRESHOLD_MESSAGE = re.compile(
    r"[A-Za-z]+: \w+ \w+ latency \([0-9.]+s\) " + THRESHOLD_TEXT + ": " + _GO_DURATION
)


@dataclasses.dataclass(frozen=True)
class MeasuredJob:
    """One kube-burner job's measured phase, from its jobSummary document."""

    name: str
    start: datetime.datetime
    end: datetime.datetime
    passed: bool
    churn_start: datetime.datetime | None = None
    churn_end: datetime.datetime | None = None
    errors: str = ""


@dataclasses.dataclass(frozen=True)
class Quantiles:
    """One condition's latency quantiles of one measurement in one job, in milliseconds."""

    measurement: str  # e.g. podLatency
    job: str
    condition: str  # the document's quantileName, e.g. Ready
    values: Mapping[str, int]  # P99, P95, P50, min, max, avg


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What a kube-burner run left behind: exit code, measured phase, quantiles, what went wrong."""

    exit_code: int
    jobs: tuple[MeasuredJob, ...] = ()
    quantiles: tuple[Quantiles, ...] = ()
    benchmark_timeout: bool = False  # kube-burner's --timeout fired
    gc_timeout: bool = False  # garbage collection outlived gcTimeout after the benchmark
    thresholds_exceeded: tuple[str, ...] = ()  # kube-burner's own messages
    last_log_line: str = ""

    @property
    def measured_jobs(self) -> tuple[MeasuredJob, ...]:
        """The benchmark's jobs, without kube-burner's garbage-collection pseudo-job."""
        return tuple(job for job in self.jobs if job.name != GARBAGE_COLLECTION_JOB)

    @property
    def window(self) -> tuple[datetime.datetime, datetime.datetime] | None:
        """From the first measured job's start to the last one's end; None without any."""
        jobs = [job for job in self.measured_jobs if job.start < job.end]
        if not jobs:
            return None
        return min(job.start for job in jobs), max(job.end for job in jobs)

    @property
    def benchmark_completed(self) -> bool:
        """Whether every job ran to its end: kube-burner's exit 0, 4 or a late garbage collection.

        Exit 4 is a finished benchmark whose measurement is over its threshold (a result, not a
        lost run); exit 2 after a finished benchmark is only the garbage collection's timeout.
        """
        if self.window is None or self.benchmark_timeout:
            return False
        return self.exit_code in (0, 4) or (self.exit_code == 2 and self.gc_timeout)

    def quantile(self, measurement: str, condition: str, field: str) -> int | None:
        """The largest value of ``field`` for ``condition`` over the measured jobs, or None."""
        names = {job.name for job in self.measured_jobs}
        found = [
            q.values[field]
            for q in self.quantiles
            if q.measurement == measurement
            and q.condition == condition
            and field in q.values
            and (q.job in names or not names)
        ]
        return max(found) if found else None


def _time(value: Any, what: str) -> datetime.datetime:
    if not isinstance(value, str):
        raise ValueError(f"{what}: not a timestamp: {value!r}")
    # Go's RFC 3339 has nanoseconds; Python's fromisoformat takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{what}: {value!r} has no time zone")
    return moment.astimezone(datetime.UTC)


def _optional_time(value: Any, what: str) -> datetime.datetime | None:
    return None if value in (None, "") else _time(value, what)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def measured_job(document: Mapping[str, Any]) -> MeasuredJob:
    """A jobSummary document as kube-burner's local indexer wrote it."""
    config = document.get("jobConfig")
    name = config.get("name") if isinstance(config, Mapping) else None
    return MeasuredJob(
        name=str(name or ""),
        start=_time(document.get("timestamp"), "jobSummary.timestamp"),
        end=_time(document.get("endTimestamp"), "jobSummary.endTimestamp"),
        passed=document.get("passed") is True,
        churn_start=_optional_time(document.get("churnStartTimestamp"), "churnStartTimestamp"),
        churn_end=_optional_time(document.get("churnEndTimestamp"), "churnEndTimestamp"),
        errors=_short(str(document.get("executionErrors") or "")),
    )


def quantiles_from(measurement: str, documents: Iterable[Mapping[str, Any]]) -> list[Quantiles]:
    """The quantile documents of one ``<measurement>QuantilesMeasurement-<job>`` file."""
    found = []
    for document in documents:
        values = {
            key: int(document[key])
            for key in QUANTILE_FIELDS
            if isinstance(document.get(key), int | float) and not isinstance(document[key], bool)
        }
        condition = document.get("quantileName")
        if isinstance(condition, str) and values:
            found.append(
                Quantiles(
                    measurement=measurement,
                    job=str(document.get("jobName") or ""),
                    condition=condition,
                    values=values,
                )
            )
    return found


def quantiles_measurement(metric_name: str) -> str | None:
    """``podLatency`` for the file stem ``podLatencyQuantilesMeasurement-<job>``, else None."""
    head, found, _ = metric_name.partition(QUANTILES_SUFFIX + "-")
    return head if found and head else None


def summarize_run(
    exit_code: int,
    *,
    job_summaries: Sequence[Mapping[str, Any]],
    quantile_files: Mapping[str, Sequence[Mapping[str, Any]]],
    log_lines: Sequence[str],
) -> RunSummary:
    """The summary of one run from its outputs: a purely computational function.

    ``quantile_files`` maps a file stem (``podLatencyQuantilesMeasurement-<job>``) to its
    documents; ``log_lines`` are kube-burner's output lines (the entry point keeps the ones that
    matter and the last one).
    """
    jobs = tuple(measured_job(document) for document in job_summaries)
    quantiles: list[Quantiles] = []
    for stem, documents in sorted(quantile_files.items()):
        measurement = quantiles_measurement(stem)
        if measurement is not None:
            quantiles.extend(quantiles_from(measurement, documents))
    errors = [job.errors for job in jobs] + list(log_lines)
    thresholds: list[str] = []
    for line in log_lines:
        for match in _THRESHOLD_MESSAGE.finditer(line):
            if match.group(0) not in thresholds:
                thresholds.append(match.group(0))
    benchmark_timeout = any(_BENCHMARK_TIMEOUT.search(text) for text in errors)
    gc_timeout = exit_code == 2 and (
        any(GC_TIMEOUT_TEXT in line for line in log_lines)
        or (bool(jobs) and not benchmark_timeout and all(job.passed for job in jobs))
    )
    last = next((line.strip() for line in reversed(log_lines) if line.strip()), "")
    return RunSummary(
        exit_code=exit_code,
        jobs=jobs,
        quantiles=tuple(quantiles),
        benchmark_timeout=benchmark_timeout,
        gc_timeout=gc_timeout,
        thresholds_exceeded=tuple(thresholds),
        last_log_line=_short(last),
    )


def _format_time(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _job_document(job: MeasuredJob, *, with_errors: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": job.name,
        "start": _format_time(job.start),
        "end": _format_time(job.end),
        "passed": job.passed,
    }
    if job.churn_start is not None:
        document["churnStart"] = _format_time(job.churn_start)
    if job.churn_end is not None:
        document["churnEnd"] = _format_time(job.churn_end)
    if with_errors and job.errors:
        document["errors"] = job.errors
    return document


def _document(summary: RunSummary, *, detail: int) -> dict[str, Any]:
    """The summary as JSON; ``detail`` 3 is everything, each step down drops something."""
    document: dict[str, Any] = {
        "kind": SUMMARY_KIND,
        "version": SUMMARY_VERSION,
        "exitCode": summary.exit_code,
        "benchmarkTimeout": summary.benchmark_timeout,
        "gcTimeout": summary.gc_timeout,
        "jobs": [_job_document(job, with_errors=detail >= 2) for job in summary.jobs],
    }
    if detail >= 1:
        document["quantiles"] = [
            {"measurement": q.measurement, "job": q.job, "condition": q.condition, **q.values}
            for q in summary.quantiles
        ]
    document["thresholdsExceeded"] = list(summary.thresholds_exceeded if detail >= 1 else ())
    if detail >= 3 and summary.last_log_line:
        document["lastLogLine"] = summary.last_log_line
    return document


def encode_summary(summary: RunSummary, *, limit: int = TERMINATION_MESSAGE_LIMIT) -> str:
    """Compact JSON of ``summary`` in at most ``limit`` bytes, dropping detail when it must."""
    for detail in (3, 2, 1, 0):
        text = json.dumps(_document(summary, detail=detail), separators=(",", ":"))
        if len(text.encode("utf-8")) <= limit:
            return text
    raise ValueError(f"even the smallest summary is over {limit} bytes")


def summary_document(summary: RunSummary) -> dict[str, Any]:
    """The summary as the JSON document the termination message holds (PerfRun status too)."""
    loaded: dict[str, Any] = json.loads(encode_summary(summary))
    return loaded


def decode_summary(text: str) -> RunSummary | None:
    """The summary in a termination message; None for anything else (an image of another kind,
    a log tail the kubelet put there, a truncated message)."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return summary_from_document(document)


def summary_from_document(document: Any) -> RunSummary | None:
    """The summary in a decoded JSON document; None when it is not one."""
    if not isinstance(document, dict) or document.get("kind") != SUMMARY_KIND:
        return None
    try:
        jobs = tuple(
            MeasuredJob(
                name=str(job["name"]),
                start=_time(job["start"], "start"),
                end=_time(job["end"], "end"),
                passed=job.get("passed") is True,
                churn_start=_optional_time(job.get("churnStart"), "churnStart"),
                churn_end=_optional_time(job.get("churnEnd"), "churnEnd"),
                errors=str(job.get("errors") or ""),
            )
            for job in document.get("jobs") or []
        )
        quantiles = tuple(
            Quantiles(
                measurement=str(item["measurement"]),
                job=str(item.get("job") or ""),
                condition=str(item["condition"]),
                values={k: int(item[k]) for k in QUANTILE_FIELDS if k in item},
            )
            for item in document.get("quantiles") or []
        )
        exit_code = document["exitCode"]
        if not isinstance(exit_code, int) or isinstance(exit_code, bool):
            return None
        return RunSummary(
            exit_code=exit_code,
            jobs=jobs,
            quantiles=quantiles,
            benchmark_timeout=document.get("benchmarkTimeout") is True,
            gc_timeout=document.get("gcTimeout") is True,
            thresholds_exceeded=tuple(str(t) for t in document.get("thresholdsExceeded") or []),
            last_log_line=str(document.get("lastLogLine") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None
