"""The controller on an in-memory hub: the operator's metrics as it counts them (PerfRuns
driven through advance_run), and what a run-now reads.

The hub is an in-memory fake of KubeApi (the reads and writes one run makes on its own
cluster); Prometheus is a small HTTP server on 127.0.0.1 that answers range queries, so the
run's bearer token really goes out in the query. The tests play the Job controller.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from fake_kube import FakeKube
from local_server import serving

from perftest_operator.api.conditions import TRUE, format_time, set_condition
from perftest_operator.api.perfrun import Trigger, build_perfrun
from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import Settings
from perftest_operator.api.status import Reason, RunCondition, RunPhase
from perftest_operator.controller.context import Context
from perftest_operator.controller.perfruns import advance_run
from perftest_operator.controller.perftests import reconcile_test
from perftest_operator.telemetry.metrics import OperatorMetrics

NAMESPACE = "perf"
KPI = "readOnlyAPICallsLatency"
TOKEN = "prom-token-7f3a9c-do-not-show"
KUBECONFIG_TOKEN = "kubeconfig-token-51d2e8-do-not-show"
T0 = datetime.datetime(2025, 1, 1, 3, 0, tzinfo=datetime.UTC)


class FakeHub(FakeKube):
    """The operator's own cluster: an OpenShift cluster of worker nodes (kube-burner-ocp's
    workloads need one), the Job account as shipped; the tests play the Job controller."""

    def __init__(self) -> None:
        super().__init__()
        self.service_accounts.add((NAMESPACE, "perftest-kube-burner"))  # as shipped
        self.allowed_accounts.add((NAMESPACE, "perftest-kube-burner"))  # bound as shipped
        self.nodes.append(WORKER)
        infrastructure = {
            "metadata": {"name": "cluster"},
            "status": {"platformStatus": {"type": "AWS"}},
        }
        self.objects[("config.openshift.io", "infrastructures", "", "cluster")] = infrastructure

    @property
    def perftests(self) -> dict[str, dict[str, Any]]:
        """The PerfTests of NAMESPACE by name (the stored objects themselves)."""
        return {name: obj for (ns, name), obj in self.kinds["PerfTest"].items() if ns == NAMESPACE}

    @property
    def perfruns(self) -> dict[str, dict[str, Any]]:
        """The PerfRuns of NAMESPACE by name (the stored objects themselves)."""
        return {name: obj for (ns, name), obj in self.kinds["PerfRun"].items() if ns == NAMESPACE}

    # the tests play the Job controller
    def finish_jobs(self, *, succeeded: bool) -> None:
        for job in self.kinds["Job"].values():
            if job.get("status"):
                continue
            start, end = T0, T0 + datetime.timedelta(minutes=20)
            condition = "Complete" if succeeded else "Failed"
            job["status"] = {
                "startTime": format_time(start),
                "conditions": [
                    {
                        "type": condition,
                        "status": "True",
                        "lastTransitionTime": format_time(end),
                    }
                ],
            }
            if succeeded:
                job["status"]["completionTime"] = format_time(end)


class FakePrometheus(http.server.ThreadingHTTPServer):
    """Answers /api/v1/query_range with one series of `value` (and the probe's instant query), or
    with `failure` (an HTTP status)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PrometheusHandler)
        self.value = 1.0
        self.failure: int | None = None
        self.authorizations: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _PrometheusHandler(http.server.BaseHTTPRequestHandler):
    server: FakePrometheus

    def _answer(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        query = urllib.parse.urlparse(self.path).query
        if self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            query = self.rfile.read(length).decode()
        params = urllib.parse.parse_qs(query)
        if self.server.failure is not None:
            body = {"status": "error", "errorType": "bad_data", "error": "refused"}
            self._send(self.server.failure, body)
            return
        if not urllib.parse.urlparse(self.path).path.endswith("/query_range"):
            # The instant query with which a PerfTest's check probes Prometheus.
            sample = {"metric": {}, "value": [0, "1"]}
            self._send(
                200, {"status": "success", "data": {"resultType": "vector", "result": [sample]}}
            )
            return
        start, end = float(params["start"][0]), float(params["end"][0])
        value = str(self.server.value)
        series = {"metric": {}, "values": [[start, value], [end, value]]}
        self._send(200, {"status": "success", "data": {"resultType": "matrix", "result": [series]}})

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with serving(FakePrometheus()) as server:
        yield server


WORKER = {"metadata": {"name": "w1", "labels": {"node-role.kubernetes.io/worker": ""}}}


def perftest(name: str, prometheus_url: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "perftest.dev/v1alpha1",
        "kind": "PerfTest",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-{name}", "generation": 1},
        "spec": {
            "workload": {"name": "node-density"},
            "prometheus": {
                "url": prometheus_url,
                "bearerTokenSecretRef": {"name": "prom", "key": "token"},
            },
            "metrics": [{"name": KPI, "query": "max(apiserver_latency)", "aggregation": "max"}],
            **spec,
        },
    }


def hub_with(*tests: dict[str, Any]) -> FakeHub:
    hub = FakeHub()
    hub.secrets[(NAMESPACE, "prom")] = {"token": TOKEN}
    for test in tests:
        hub.stored("PerfTest", test)
    return hub


def context(hub: FakeHub) -> Context:
    settings = Settings(
        collect_backoff_seconds=0.001,
        collect_backoff_max_seconds=0.001,
        policy=RunPolicy(local_runs=True),
    )
    return Context(api=hub, settings=settings, telemetry=OperatorMetrics())


def new_run(hub: FakeHub, test: str, number: int) -> str:
    body = build_perfrun(hub.perftests[test], number, Trigger.MANUAL, f"manual-{number}")
    run, _ = hub.create_perfrun(body)
    return str(run["metadata"]["name"])


def collected_run(hub: FakeHub, test: str, number: int, value: float) -> None:
    """A finished run of the past, with its KPI collected (history for the analysis)."""
    name = new_run(hub, test, number)
    start = T0 - datetime.timedelta(days=30 - number)
    conditions: list[dict[str, Any]] = []
    for condition in (RunCondition.JOB_COMPLETED, RunCondition.METRICS_COLLECTED):
        conditions = set_condition(
            conditions, condition.value, TRUE, "Done", "done", generation=1, now=start
        )
    conditions = set_condition(
        conditions, RunCondition.ANALYZED.value, TRUE, "Pass", "ok", generation=1, now=start
    )
    hub.perfruns[name]["status"] = {
        "startTime": format_time(start),
        "completionTime": format_time(start + datetime.timedelta(minutes=20)),
        "values": {KPI: value},
        "conditions": conditions,
        "phase": RunPhase.SUCCEEDED.value,
    }


def sample(ctx: Context, name: str, **labels: str) -> float | None:
    value = ctx.telemetry.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


def drive(ctx: Context, hub: FakeHub, name: str, *, succeeded: bool = True) -> RunPhase | None:
    """Advance the run until it waits for its Job, finish the Job, advance it to the end."""
    assert advance_run(ctx, NAMESPACE, name) is RunPhase.RUNNING
    hub.finish_jobs(succeeded=succeeded)
    return advance_run(ctx, NAMESPACE, name)


def test_a_succeeded_run_counts_started_succeeded_and_sets_the_kpi(
    prometheus: FakePrometheus,
) -> None:
    hub = hub_with(perftest("nightly", prometheus.url))
    ctx = context(hub)
    prometheus.value = 0.98
    name = new_run(hub, "nightly", 1)
    assert drive(ctx, hub, name) is RunPhase.SUCCEEDED
    labels = {"namespace": NAMESPACE, "test": "nightly"}
    assert sample(ctx, "perftest_runs_started_total", **labels) == 1.0
    assert sample(ctx, "perftest_runs_succeeded_total", **labels) == 1.0
    assert sample(ctx, "perftest_kpi_value", **labels, metric=KPI) == 0.98
    assert sample(ctx, "perftest_analysis_duration_seconds_count") == 1.0
    assert sample(ctx, "perftest_runs_failed_total", **labels, reason="JobFailed") is None
    assert prometheus.authorizations == [f"Bearer {TOKEN}"]  # the token did go out
    # A second run: the gauge holds the newest run's value, the counters add up.
    prometheus.value = 3.98
    second = new_run(hub, "nightly", 2)
    assert drive(ctx, hub, second) is RunPhase.SUCCEEDED
    assert sample(ctx, "perftest_runs_started_total", **labels) == 2.0
    assert sample(ctx, "perftest_runs_succeeded_total", **labels) == 2.0
    assert sample(ctx, "perftest_kpi_value", **labels, metric=KPI) == 3.98


def test_a_failed_job_counts_a_failure_with_the_runs_reason(prometheus: FakePrometheus) -> None:
    hub = hub_with(perftest("nightly", prometheus.url))
    ctx = context(hub)
    name = new_run(hub, "nightly", 1)
    assert drive(ctx, hub, name, succeeded=False) is RunPhase.FAILED
    reason = hub.perfruns[name]["status"]["reason"]
    labels = {"namespace": NAMESPACE, "test": "nightly"}
    assert sample(ctx, "perftest_runs_failed_total", **labels, reason=reason) == 1.0
    assert sample(ctx, "perftest_runs_started_total", **labels) == 1.0
    assert sample(ctx, "perftest_runs_succeeded_total", **labels) is None
    assert sample(ctx, "perftest_kpi_value", **labels, metric=KPI) is None
    assert prometheus.authorizations == []  # nothing to read after a failed Job


def test_a_run_that_stays_where_it_is_is_counted_once(prometheus: FakePrometheus) -> None:
    hub = hub_with(perftest("nightly", prometheus.url))
    ctx = context(hub)
    name = new_run(hub, "nightly", 1)
    assert drive(ctx, hub, name) is RunPhase.SUCCEEDED
    for _ in range(3):  # kopf's timer may still tick on a finished run
        assert advance_run(ctx, NAMESPACE, name) is RunPhase.SUCCEEDED
    labels = {"namespace": NAMESPACE, "test": "nightly"}
    assert sample(ctx, "perftest_runs_started_total", **labels) == 1.0
    assert sample(ctx, "perftest_runs_succeeded_total", **labels) == 1.0


def test_prometheus_errors_are_counted_per_test(prometheus: FakePrometheus) -> None:
    hub = hub_with(perftest("nightly", prometheus.url))
    ctx = context(hub)
    name = new_run(hub, "nightly", 1)
    prometheus.failure = 503  # unavailable: retried later
    assert drive(ctx, hub, name) is RunPhase.COLLECTING
    labels = {"namespace": NAMESPACE, "test": "nightly"}
    assert sample(ctx, "perftest_prometheus_query_errors_total", **labels) == 1.0
    prometheus.failure = 400  # the query is refused: the run fails
    assert advance_run(ctx, NAMESPACE, name) is RunPhase.FAILED
    assert sample(ctx, "perftest_prometheus_query_errors_total", **labels) == 2.0
    failed = {**labels, "reason": Reason.INVALID_QUERY.value}
    assert sample(ctx, "perftest_runs_failed_total", **failed) == 1.0


def test_a_regression_is_counted_once_per_change_point(prometheus: FakePrometheus) -> None:
    hub = hub_with(perftest("nightly", prometheus.url))
    ctx = context(hub)
    for number, value in enumerate([0.98, 0.97, 0.99, 0.98, 0.96, 0.99, 0.98, 0.97], start=1):
        collected_run(hub, "nightly", number, value)
    prometheus.value = 3.98  # the story's bad nightly
    first_bad = new_run(hub, "nightly", 9)
    assert drive(ctx, hub, first_bad) is RunPhase.SUCCEEDED
    labels = {"namespace": NAMESPACE, "test": "nightly", "metric": KPI}
    warnings = [e for e in hub.events if e["reason"] == Reason.REGRESSION_DETECTED.value]
    assert warnings, hub.perfruns[first_bad]["status"]["message"]
    assert sample(ctx, "perftest_regressions_detected_total", **labels) == 1.0
    # The next bad run still shows the same change point: no second alarm, no second count.
    prometheus.value = 19.9
    assert drive(ctx, hub, new_run(hub, "nightly", 10)) is RunPhase.SUCCEEDED
    assert sample(ctx, "perftest_regressions_detected_total", **labels) == 1.0
    assert sample(ctx, "perftest_kpi_value", **labels) == 19.9


def unsafe_kubeconfig() -> str:
    """A kubeconfig with a token and an exec plugin, which the operator refuses to use."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
            "users": [
                {
                    "name": "u",
                    "user": {
                        "token": KUBECONFIG_TOKEN,
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1",
                            "command": f"/bin/echo {KUBECONFIG_TOKEN}",
                        },
                    },
                }
            ],
        }
    )


def test_metrics_never_show_tokens_or_kubeconfigs(prometheus: FakePrometheus) -> None:
    remote = perftest(
        "remote", prometheus.url, target={"kubeconfigSecretRef": {"name": "target", "key": "kc"}}
    )
    hub = hub_with(perftest("nightly", prometheus.url), remote)
    hub.secrets[(NAMESPACE, "target")] = {"kc": unsafe_kubeconfig()}
    ctx = context(hub)
    # Through every hook: started, collected with the token, regression, a Prometheus error,
    # a failure with the kubeconfig Secret.
    for number, value in enumerate([1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01], start=1):
        collected_run(hub, "nightly", number, value)
    prometheus.value = 4.0
    assert drive(ctx, hub, new_run(hub, "nightly", 9)) is RunPhase.SUCCEEDED
    prometheus.failure = 503
    assert drive(ctx, hub, new_run(hub, "nightly", 10)) is RunPhase.COLLECTING
    failed = new_run(hub, "remote", 1)
    assert advance_run(ctx, NAMESPACE, failed) is RunPhase.FAILED
    assert Reason.TARGET_CONFIG_INVALID.value == hub.perfruns[failed]["status"]["reason"]
    assert f"Bearer {TOKEN}" in prometheus.authorizations

    from prometheus_client import generate_latest

    exposed = generate_latest(ctx.telemetry.registry).decode()
    for name in ("started", "succeeded", "failed"):
        assert f"perftest_runs_{name}_total{{" in exposed
    assert "perftest_regressions_detected_total{" in exposed
    assert "perftest_prometheus_query_errors_total{" in exposed
    for secret in (TOKEN, KUBECONFIG_TOKEN, base64.b64encode(TOKEN.encode()).decode()):
        assert secret not in exposed
    assert "kubeconfig" not in exposed.lower() and "bearer" not in exposed.lower()
    # Run names never become labels either.
    assert not [run for run in hub.perfruns if f'"{run}"' in exposed]


def test_a_run_now_on_a_test_ready_for_its_spec_starts_a_run_without_reading_the_target(
    prometheus: FakePrometheus,
) -> None:
    # Allow: the first run is still pending when the run-nows come
    hub = hub_with(perftest("nightly", prometheus.url, concurrencyPolicy="Allow"))
    target_reads: list[str] = []

    def list_nodes() -> list[dict[str, Any]]:
        target_reads.append("nodes")
        return [WORKER]

    hub.list_nodes = list_nodes  # type: ignore[method-assign]
    ctx = context(hub)
    created = hub.get_perftest(NAMESPACE, "nightly")
    assert created is not None
    assert reconcile_test(ctx, created, Trigger.CREATED) is None
    assert target_reads == ["nodes"]  # checked once for this spec
    assert len(hub.perfruns) == 1

    ready = hub.get_perftest(NAMESPACE, "nightly")
    assert ready is not None
    ready["metadata"]["annotations"] = {"perftest.dev/run-now": "again"}
    assert reconcile_test(ctx, ready, Trigger.RUN_NOW) is None
    assert target_reads == ["nodes"]  # not again: the run reads the target when it starts
    assert len(hub.perfruns) == 2

    ready["metadata"]["generation"] = 2  # a new spec is checked again
    ready["metadata"]["annotations"] = {"perftest.dev/run-now": "once-more"}
    assert reconcile_test(ctx, ready, Trigger.RUN_NOW) is None
    assert target_reads == ["nodes", "nodes"]
    assert len(hub.perfruns) == 3
