"""The operator's own metrics: runs, regressions, newest KPI values, analysis time (in-memory state).

Labels are bounded: a PerfTest's namespace and name, a KPI name, a failure reason from a fixed
set. Never a run's name, uid, time or message: a label value per run would grow the series
without end, and messages may carry anything. The series of a deleted PerfTest go with
`forget_test`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.process_collector import ProcessCollector

from perftest_operator.api.status import Reason, RunPhase
from perftest_operator.runner.outcome import OutcomeReason

# A failed run's status.reason as a label: a known reason, or this (never the raw text).
OTHER_REASON = "Other"
FAILURE_REASONS = frozenset(r.value for r in Reason) | frozenset(r.value for r in OutcomeReason)

# Analysis takes milliseconds per metric; a long history of many KPIs may take seconds.
ANALYSIS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

TestKey = tuple[str, str]


def failure_reason_label(reason: object) -> str:
    """The reason label of a failed run: the status reason if it is a known one, else Other.

    A purely computational function with no side effects.
    """
    return reason if isinstance(reason, str) and reason in FAILURE_REASONS else OTHER_REASON


class OperatorMetrics:
    """The operator's metrics in a registry of their own (plus the process collector)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        test_labels = ("namespace", "test")
        self._runs_started = Counter(
            "perftest_runs_started",
            "PerfRuns whose kube-burner Job was created",
            test_labels,
            registry=self.registry,
        )
        self._runs_succeeded = Counter(
            "perftest_runs_succeeded",
            "PerfRuns that finished with their metrics read and analysed",
            test_labels,
            registry=self.registry,
        )
        self._runs_failed = Counter(
            "perftest_runs_failed",
            "PerfRuns that failed, by the reason in their status",
            (*test_labels, "reason"),
            registry=self.registry,
        )
        self._regressions = Counter(
            "perftest_regressions_detected",
            "Regressions announced (one per change point, as the RegressionDetected Event)",
            (*test_labels, "metric"),
            registry=self.registry,
        )
        self._kpi = Gauge(
            "perftest_kpi_value",
            "The KPI's value in the newest succeeded PerfRun of the PerfTest",
            (*test_labels, "metric"),
            registry=self.registry,
        )
        self._analysis = Histogram(
            "perftest_analysis_duration_seconds",
            "Time to evaluate a PerfTest's history (change points of every KPI) for one run",
            buckets=ANALYSIS_BUCKETS,
            registry=self.registry,
        )
        self._query_errors = Counter(
            "perftest_prometheus_query_errors",
            "Failed reads of a run's KPIs from Prometheus (unavailable, or a query refused)",
            test_labels,
            registry=self.registry,
        )
        # Label values in use per PerfTest, so that forget_test removes exactly those.
        self._series: dict[TestKey, set[tuple[MetricWrapperBase, tuple[str, ...]]]] = {}
        self._lock = threading.Lock()  # kopf runs sync handlers in a thread pool

    def _child(self, metric: MetricWrapperBase, key: TestKey, *extra: str) -> Any:
        values = (*key, *extra)
        with self._lock:
            self._series.setdefault(key, set()).add((metric, values))
            return metric.labels(*values)

    def run_started(self, namespace: str, test: str) -> None:
        self._child(self._runs_started, (namespace, test)).inc()

    def run_finished(
        self, namespace: str, test: str, phase: RunPhase, status: Mapping[str, Any]
    ) -> None:
        """A run reached a terminal phase: count it; on success its values become the KPIs."""
        key = (namespace, test)
        if phase is RunPhase.FAILED:
            reason = failure_reason_label(status.get("reason"))
            self._child(self._runs_failed, key, reason).inc()
            return
        if phase is not RunPhase.SUCCEEDED:
            return
        self._child(self._runs_succeeded, key).inc()
        values = {
            str(name): float(value)
            for name, value in (status.get("values") or {}).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        with self._lock:
            # The newest run's values: a KPI this run has no value for has no series now.
            for metric, labels in list(self._series.get(key, ())):
                if metric is self._kpi and labels[2] not in values:
                    self._kpi.remove(*labels)
                    self._series[key].discard((metric, labels))
        for name, value in values.items():
            self._child(self._kpi, key, name).set(value)

    def regression_detected(self, test: Mapping[str, Any], metric: str) -> None:
        """A regression of `metric` was announced on the PerfTest `test` (its body)."""
        key = (str(test["metadata"]["namespace"]), str(test["metadata"]["name"]))
        self._child(self._regressions, key, metric).inc()

    def prometheus_query_failed(self, namespace: str, test: str) -> None:
        self._child(self._query_errors, (namespace, test)).inc()

    @contextlib.contextmanager
    def analysis_timer(self) -> Iterator[None]:
        """Observe how long the body takes in the analysis duration histogram."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self._analysis.observe(time.perf_counter() - start)

    def forget_test(self, namespace: str, test: str) -> None:
        """Remove every series of a PerfTest (call it when the PerfTest is deleted)."""
        with self._lock:
            for metric, labels in self._series.pop((namespace, test), set()):
                with contextlib.suppress(KeyError):
                    metric.remove(*labels)
