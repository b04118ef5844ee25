"""The operator's metrics: names and labels, forgetting a PerfTest, the HTTP endpoint, the flag."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from perftest_operator.api.status import Reason, RunPhase
from perftest_operator.cli import build_parser, main
from perftest_operator.runner.outcome import OutcomeReason
from perftest_operator.telemetry.address import parse_listen_address
from perftest_operator.telemetry.metrics import OTHER_REASON, OperatorMetrics
from perftest_operator.telemetry.server import MetricsServer, serve_metrics

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "charts" / "perftest-operator" / "dashboards" / "perftest-operator.json"


def perftest(namespace: str, name: str) -> dict[str, object]:
    return {"metadata": {"namespace": namespace, "name": name}}


def exercised() -> OperatorMetrics:
    """Metrics with every kind of series set for two PerfTests."""
    metrics = OperatorMetrics()
    for namespace, test in (("perf", "nightly"), ("team-b", "api")):
        metrics.run_started(namespace, test)
        metrics.run_finished(
            namespace, test, RunPhase.SUCCEEDED, {"values": {"p99": 0.5, "max": 2.0}}
        )
        metrics.run_finished(namespace, test, RunPhase.FAILED, {"reason": "KubeBurnerTimeout"})
        metrics.regression_detected(perftest(namespace, test), "p99")
        metrics.prometheus_query_failed(namespace, test)
        with metrics.analysis_timer():
            pass
    return metrics


def series(metrics: OperatorMetrics) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """(sample name, labels) of every perftest_ sample in the registry."""
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name.startswith("perftest_")
    }


def sample_names_of_test(metrics: OperatorMetrics, test: str) -> set[str]:
    return {name for name, labels in series(metrics) if ("test", test) in labels}


def test_labels_are_only_namespace_test_metric_and_reason() -> None:
    names = {key for _, labels in series(exercised()) for key, _ in labels}
    assert names == {"namespace", "test", "metric", "reason", "le"}


def test_the_dashboard_plots_what_the_operator_exposes() -> None:
    """Every perftest_ name the Grafana dashboard queries exists, with the labels it selects by."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    wanted = {name for query in queries for name in re.findall(r"\b(perftest_[a-z_]+)\b", query)}
    exposed = {name for name, _ in series(exercised())}
    assert len(wanted) == 7 and wanted <= exposed
    labelled = {name: {k for k, _ in labels} for name, labels in series(exercised())}
    for query in queries:
        for name, selector in re.findall(r"\b(perftest_[a-z_]+)\{([^}]*)\}", query):
            used = set(re.findall(r"(\w+)\s*=~?", selector))
            assert used <= labelled[name], (name, used)


def test_a_failure_reason_outside_the_known_ones_is_other() -> None:
    metrics = OperatorMetrics()
    message = "Bearer abc123 leaked into a reason"
    metrics.run_finished("perf", "nightly", RunPhase.FAILED, {"reason": message})
    metrics.run_finished("perf", "nightly", RunPhase.FAILED, {"reason": None})
    metrics.run_finished(
        "perf", "nightly", RunPhase.FAILED, {"reason": OutcomeReason.OOM_KILLED.value}
    )
    metrics.run_finished("perf", "nightly", RunPhase.FAILED, {"reason": Reason.NO_METRICS.value})
    reasons = {
        dict(labels)["reason"]: metrics.registry.get_sample_value(name, dict(labels))
        for name, labels in series(metrics)
        if name == "perftest_runs_failed_total"
    }
    assert reasons == {OTHER_REASON: 2.0, "OOMKilled": 1.0, "NoMetrics": 1.0}


def test_kpi_values_are_the_newest_runs_only() -> None:
    metrics = OperatorMetrics()
    metrics.run_finished("perf", "nightly", RunPhase.SUCCEEDED, {"values": {"a": 1.0, "b": 2.0}})
    metrics.run_finished("perf", "nightly", RunPhase.SUCCEEDED, {"values": {"a": 3.0}})
    metrics.run_finished("perf", "nightly", RunPhase.RUNNING, {"values": {"a": 9.0}})
    kpis = {
        dict(labels)["metric"]: metrics.registry.get_sample_value(name, dict(labels))
        for name, labels in series(metrics)
        if name == "perftest_kpi_value"
    }
    assert kpis == {"a": 3.0}
    assert metrics.registry.get_sample_value(
        "perftest_runs_succeeded_total", {"namespace": "perf", "test": "nightly"}
    ) == (2.0)


def test_forget_test_removes_every_series_of_that_test_only() -> None:
    metrics = exercised()
    before = sample_names_of_test(metrics, "api")
    assert {
        "perftest_runs_started_total",
        "perftest_runs_succeeded_total",
        "perftest_runs_failed_total",
        "perftest_regressions_detected_total",
        "perftest_kpi_value",
        "perftest_prometheus_query_errors_total",
    } <= sample_names_of_test(metrics, "nightly")
    metrics.forget_test("perf", "nightly")
    assert sample_names_of_test(metrics, "nightly") == set()
    assert sample_names_of_test(metrics, "api") == before
    metrics.forget_test("perf", "nightly")  # again: nothing left, no error
    metrics.run_started("perf", "nightly")  # a new PerfTest of the same name starts from zero
    assert metrics.registry.get_sample_value(
        "perftest_runs_started_total", {"namespace": "perf", "test": "nightly"}
    ) == (1.0)


@pytest.fixture
def endpoint() -> Iterator[tuple[OperatorMetrics, MetricsServer]]:
    metrics = exercised()
    server = serve_metrics(metrics, "127.0.0.1", 0)
    try:
        yield metrics, server
    finally:
        server.close()


def scrape(server: MetricsServer) -> str:
    url = f"http://127.0.0.1:{server.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return str(response.read().decode())


def test_the_endpoint_serves_the_operators_registry(
    endpoint: tuple[OperatorMetrics, MetricsServer],
) -> None:
    metrics, server = endpoint
    assert server.port > 0
    families = {f.name: f for f in text_string_to_metric_families(scrape(server))}
    assert families["perftest_runs_started"].type == "counter"
    assert families["perftest_kpi_value"].type == "gauge"
    assert families["perftest_analysis_duration_seconds"].type == "histogram"
    kpi = {
        (s.labels["namespace"], s.labels["test"], s.labels["metric"]): s.value
        for s in families["perftest_kpi_value"].samples
    }
    assert kpi == {
        ("perf", "nightly", "p99"): 0.5,
        ("perf", "nightly", "max"): 2.0,
        ("team-b", "api", "p99"): 0.5,
        ("team-b", "api", "max"): 2.0,
    }
    # Its own registry: none of prometheus_client's default Python GC or platform collectors.
    assert "python_gc_objects_collected" not in families
    assert "python_info" not in families
    # What the endpoint serves follows the metrics as they change.
    metrics.forget_test("perf", "nightly")
    assert 'test="nightly"' not in scrape(server)


def test_listen_addresses() -> None:
    assert parse_listen_address("0.0.0.0:8081") == ("0.0.0.0", 8081)
    assert parse_listen_address("localhost:9") == ("localhost", 9)
    assert parse_listen_address("[::]:8081") == ("::", 8081)
    for bad in ("8081", ":8081", "host:", "host:0", "host:65536", "host:80a", "::1:8081", "[]:80"):
        with pytest.raises(ValueError):
            parse_listen_address(bad)


def test_the_run_command_serves_metrics_only_when_asked() -> None:
    assert build_parser().parse_args(["run"]).metrics_address is None
    args = build_parser().parse_args(["run", "--metrics-address", "0.0.0.0:8081"])
    assert args.metrics_address == ("0.0.0.0", 8081)


def test_a_bad_metrics_address_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--metrics-address", "8081"])
    assert exited.value.code == 1
    assert "--metrics-address" in capsys.readouterr().err
