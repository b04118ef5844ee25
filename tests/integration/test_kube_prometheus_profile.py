"""The default KPIs of the kube-prometheus profile, answered by a real Prometheus that holds the
API server's latency histograms labelled as kube-prometheus scrapes them (job="apiserver",
namespace, service, endpoint, instance; no apiserver label): the same values as OpenShift's
profile reads on OpenShift-shaped series, and OpenShift's queries find nothing there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from localstack.prometheus import PrometheusServer, ReplayRun, below, replayed_prometheus
from perftest_operator.api.default_kpis import DEFAULT_METRICS, MonitoringStack, default_metrics
from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.spec import PrometheusSettings
from perftest_operator.metrics.client import build_prometheus_client
from perftest_operator.metrics.window import MetricValue, RunWindow, collect_run_metrics

pytestmark = pytest.mark.prometheus

STEP = 30.0
FIRST_NIGHT = datetime(2025, 2, 3, 2, 0, tzinfo=UTC)
RUNS = [
    ReplayRun(
        start=FIRST_NIGHT + timedelta(days=night),
        end=FIRST_NIGHT + timedelta(days=night, minutes=30),
        read_only_api_calls_latency=read_only,
        mutating_api_calls_latency=mutating,
    )
    for night, (read_only, mutating) in enumerate([(0.98, 0.31), (3.98, 0.0123)])
]
KUBE_PROMETHEUS = tuple(
    m for m in default_metrics(MonitoringStack.KUBE_PROMETHEUS) if m.kube_burner is None
)
OPENSHIFT = tuple(m for m in DEFAULT_METRICS if m.kube_burner is None)


@pytest.fixture(scope="module")
def kube_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    with replayed_prometheus(
        RUNS, tmp_path_factory.mktemp("kube-prometheus"), monitoring="kube-prometheus"
    ) as server:
        yield server


def collect(server: PrometheusServer, metrics: tuple, run: ReplayRun) -> dict:
    client = build_prometheus_client(
        PrometheusSettings(url=server.url), bearer_token=None, ca_file=None
    )
    return collect_run_metrics(client, metrics, RunWindow(run.start, run.end), STEP)


@pytest.mark.parametrize("night", range(len(RUNS)))
def test_the_kube_prometheus_profile_reads_every_default_kpi(
    kube_prometheus: PrometheusServer, night: int
) -> None:
    run = RUNS[night]
    values = collect(kube_prometheus, KUBE_PROMETHEUS, run)
    assert list(values) == [m.name for m in KUBE_PROMETHEUS]
    read = {name: v for name, v in values.items() if isinstance(v, MetricValue)}
    assert read.keys() == values.keys(), values
    for name, expected in run.exact_kpis().items():
        assert read[name].value == pytest.approx(expected, rel=1e-6), name
    average = read["avg-ro-apicalls-latency-namespace"].value
    assert below(below(run.read_only_api_calls_latency)) < average
    assert average < read["max-ro-apicalls-latency-namespace"].value


def test_openshifts_queries_find_nothing_on_kube_prometheus(
    kube_prometheus: PrometheusServer,
) -> None:
    """Its apiserver="kube-apiserver" selector is OpenShift's own label (reality check #23)."""
    values = collect(kube_prometheus, OPENSHIFT, RUNS[0])
    assert all(isinstance(v, MetricMissing) for v in values.values()), values
