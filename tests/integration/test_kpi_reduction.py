"""Two-stage KPIs on a real Prometheus: upstream's over_time numbers, one range query per PromQL.

The claim under test (api/default_kpis.py): reducing each series of a range query over the run
window, then across series, gives what kube-burner-ocp's report profile and Orion compute,
``avg(avg_over_time(EXPR[Ns:STEP]))`` and the like, evaluated by the same Prometheus at the
window's end. The windows start on a multiple of the step, so the subquery's points (multiples
of its step) are the range query's points (start, start + step, ... end).
"""

from __future__ import annotations

import json
import math
import statistics
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localstack.prometheus import (
    HeaderRecordingProxy,
    PrometheusServer,
    ReplayRun,
    backfill_openmetrics,
    gauge_openmetrics,
    replayed_prometheus,
)
from perftest_operator.api.default_kpis import DEFAULT_METRICS as ALL_DEFAULTS
from perftest_operator.api.errors import MetricMissing, PrometheusUnavailable, QueryError
from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime
from perftest_operator.api.spec import PrometheusSettings
from perftest_operator.metrics.client import build_prometheus_client
from perftest_operator.metrics.window import (
    MetricValue,
    RunWindow,
    collect_run_metrics,
    query_window,
)

pytestmark = pytest.mark.prometheus

STEP = 30.0
RUN_MINUTES = 40
FIRST_NIGHT = datetime(2025, 2, 3, 2, 0, tzinfo=UTC)  # a multiple of STEP
RUNS = [
    ReplayRun(
        start=FIRST_NIGHT + timedelta(days=night),
        end=FIRST_NIGHT + timedelta(days=night, minutes=RUN_MINUTES),
        read_only_api_calls_latency=read_only,
        mutating_api_calls_latency=mutating,
    )
    for night, (read_only, mutating) in enumerate([(0.98, 0.31), (3.98, 0.2)])
]
WINDOW = RunWindow(RUNS[0].start, RUNS[0].end)
# The subquery's range: half a step longer than the window, so that its first point is the
# window's start whether Prometheus takes the range's start as included (2.x) or not (3.x).
SUBQUERY = f"[{int(WINDOW.duration_seconds + STEP / 2)}s:{STEP:g}s]"
# The defaults read from Prometheus (podReadyLatency comes from the run's own summary).
DEFAULT_METRICS = tuple(metric for metric in ALL_DEFAULTS if metric.kube_burner is None)
READ_ONLY_QUERY = DEFAULT_METRICS[0].query
MUTATING_QUERY = DEFAULT_METRICS[-1].query

GAUGE = "perftest_replayed_latency"
GAPS = "perftest_replayed_gaps"
SCRAPE = 15  # seconds between the gauges' samples: a range query at 30 s sees every other one


def points(first: int, last: int, value: Any) -> list[tuple[datetime, float]]:
    """Samples every SCRAPE seconds over WINDOW from sample `first` to `last`, value(i)."""
    return [
        (WINDOW.start + timedelta(seconds=SCRAPE * i), float(value(i)))
        for i in range(first, last + 1)
    ]


SAMPLES = RUN_MINUTES * 60 // SCRAPE  # index of the sample at the window's end
# Three series of unequal length and level, so that an average of per-series averages differs
# from a pooled average and every reduction has something to choose between.
GAUGE_SERIES = [
    ({"scope": "namespace", "resource": "pods"}, points(0, SAMPLES, lambda i: i % 7 + 1)),
    ({"scope": "namespace", "resource": "secrets"}, points(SAMPLES // 2, SAMPLES, lambda i: 10 + i % 3)),
    ({"scope": "cluster", "resource": "nodes"}, points(0, SAMPLES, lambda i: 0.5 * i)),
]  # fmt: skip
# One series that is NaN at every tenth scrape: a p99 over buckets that did not move.
GAP_SERIES = points(0, SAMPLES, lambda i: math.nan if i % 10 == 0 else 1 + i % 4)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    data_dir = tmp_path_factory.mktemp("prometheus")
    for labels, samples in GAUGE_SERIES:
        backfill_openmetrics(gauge_openmetrics(GAUGE, samples, labels), data_dir)
    backfill_openmetrics(gauge_openmetrics(GAPS, GAP_SERIES, {"job": "replay"}), data_dir)
    with replayed_prometheus(RUNS, data_dir) as server:
        yield server


def client_for(url: str) -> Any:
    return build_prometheus_client(PrometheusSettings(url=url), bearer_token=None, ca_file=None)


def instant(url: str, query: str, at: datetime) -> list[tuple[dict[str, str], float]]:
    """An instant query, as kube-burner runs its report profile at the job's end."""
    address = f"{url}/api/v1/query?" + urllib.parse.urlencode(
        {"query": query, "time": repr(at.timestamp())}
    )
    with urllib.request.urlopen(address, timeout=10) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]


def window_of(run: ReplayRun) -> RunWindow:
    return RunWindow(run.start, run.end)


# --- the defaults against kube-burner-ocp's report profile and Orion --------------------------


@pytest.mark.parametrize("night", range(len(RUNS)))
@pytest.mark.parametrize("metric", DEFAULT_METRICS, ids=lambda metric: metric.name)
def test_each_default_is_the_report_profiles_query_averaged_as_orion_does(
    prometheus: PrometheusServer, metric: MetricSpec, night: int
) -> None:
    window = window_of(RUNS[night])
    ours = query_window(client_for(prometheus.url), metric, window, STEP)

    # metrics-report.yml's query with {{.elapsed}} rendered and the step made explicit, one
    # document per series; Orion keeps the documents of the KPI's scope and averages them.
    function = {OverTime.AVG: "avg_over_time", OverTime.MAX: "max_over_time"}[metric.over_time]
    documents = instant(prometheus.url, f"{function}({metric.query}{SUBQUERY}) > 0", window.end)
    chosen = [value for labels, value in documents if set(metric.labels) <= set(labels.items())]

    assert metric.aggregation is Aggregation.AVG
    assert len(chosen) == ours.series_count >= 1
    assert ours.value == pytest.approx(statistics.fmean(chosen), rel=1e-9)


@pytest.mark.parametrize("function", ["avg_over_time", "max_over_time"])
def test_an_unsplit_kpi_is_avg_of_over_time_evaluated_by_prometheus(
    prometheus: PrometheusServer, function: str
) -> None:
    [metric] = [m for m in DEFAULT_METRICS if m.name == f"{function[:3]}-mutating-apicalls-latency"]
    ours = query_window(client_for(prometheus.url), metric, WINDOW, STEP).value
    [(_, theirs)] = instant(
        prometheus.url, f"avg({function}({metric.query}{SUBQUERY}))", WINDOW.end
    )
    assert ours == pytest.approx(theirs, rel=1e-9)


# --- every reduction against its PromQL ---------------------------------------------------------

# (overTime, aggregation) and the PromQL that computes the same from a subquery over the window
PROMQL = [
    (OverTime.AVG, Aggregation.AVG, "avg(avg_over_time({q}))"),
    (OverTime.MAX, Aggregation.AVG, "avg(max_over_time({q}))"),
    (OverTime.MAX, Aggregation.MAX, "max(max_over_time({q}))"),
    (OverTime.MIN, Aggregation.MIN, "min(min_over_time({q}))"),
    (OverTime.AVG, Aggregation.MAX, "max(avg_over_time({q}))"),
    (OverTime.LAST, Aggregation.MAX, "max(last_over_time({q}))"),
    (OverTime.P95, Aggregation.AVG, "avg(quantile_over_time(0.95, {q}))"),
    (OverTime.AVG, Aggregation.P50, "quantile(0.5, avg_over_time({q}))"),
    (OverTime.MIN, Aggregation.P99, "quantile(0.99, min_over_time({q}))"),
]


@pytest.mark.parametrize(("over_time", "aggregation", "promql"), PROMQL)
@pytest.mark.parametrize("scope", [None, "namespace"])
def test_each_reduction_equals_its_promql_over_a_subquery(
    prometheus: PrometheusServer,
    over_time: OverTime,
    aggregation: Aggregation,
    promql: str,
    scope: str | None,
) -> None:
    labels = () if scope is None else (("scope", scope),)
    metric = MetricSpec(
        name="latency", query=GAUGE, over_time=over_time, aggregation=aggregation, labels=labels
    )
    ours = query_window(client_for(prometheus.url), metric, WINDOW, STEP)
    selector = GAUGE if scope is None else f'{GAUGE}{{scope="{scope}"}}'
    [(_, theirs)] = instant(prometheus.url, promql.format(q=selector + SUBQUERY), WINDOW.end)
    assert ours.value == pytest.approx(theirs, rel=1e-12)
    assert ours.series_count == (3 if scope is None else 2)


def test_avg_of_avgs_is_not_the_pooled_average(prometheus: PrometheusServer) -> None:
    """The point of two stages: each series counts once, however many samples it has."""
    both = MetricSpec(
        name="latency",
        query=GAUGE,
        over_time=OverTime.AVG,
        aggregation=Aggregation.AVG,
        labels=(("scope", "namespace"),),
    )
    ours = query_window(client_for(prometheus.url), both, WINDOW, STEP).value
    # every sample of both series pooled: their sum over the steps / their count over the steps
    pooled_query = (
        f'avg_over_time(sum({GAUGE}{{scope="namespace"}}){SUBQUERY})'
        f' / avg_over_time(count({GAUGE}{{scope="namespace"}}){SUBQUERY})'
    )
    [(_, pooled)] = instant(prometheus.url, pooled_query, WINDOW.end)
    assert abs(ours - pooled) > 0.5


# --- where the reduction knowingly differs from upstream --------------------------------------


def test_a_series_with_nan_steps_keeps_its_other_steps_where_upstream_drops_it(
    prometheus: PrometheusServer,
) -> None:
    """A NaN at one step makes avg_over_time NaN, and the profile's `> 0` drops the series.

    Here NaN samples are dropped one by one (api/default_kpis.py says why); max_over_time skips
    NaN itself, so the max KPIs agree with upstream even then.
    """
    client = client_for(prometheus.url)
    average = MetricSpec(
        name="gaps", query=GAPS, over_time=OverTime.AVG, aggregation=Aggregation.AVG
    )
    maximum = MetricSpec(
        name="gaps", query=GAPS, over_time=OverTime.MAX, aggregation=Aggregation.AVG
    )

    seen = [value for moment, value in GAP_SERIES if (moment - WINDOW.start).seconds % STEP == 0]
    assert sum(math.isnan(value) for value in seen) == 17  # scrapes 0, 10, ..., 160: on the steps
    finite = [value for value in seen if not math.isnan(value)]
    assert query_window(client, average, WINDOW, STEP).value == pytest.approx(
        statistics.fmean(finite)
    )
    assert instant(prometheus.url, f"avg_over_time({GAPS}{SUBQUERY}) > 0", WINDOW.end) == []

    [(_, upstream_max)] = instant(
        prometheus.url, f"max_over_time({GAPS}{SUBQUERY}) > 0", WINDOW.end
    )
    assert query_window(client, maximum, WINDOW, STEP).value == upstream_max == max(finite)


# --- one range query per distinct PromQL ------------------------------------------------------


def range_queries(proxy: HeaderRecordingProxy) -> list[str]:
    sent = [urllib.parse.urlsplit(request.path) for request in proxy.requests]
    assert {url.path for url in sent} == {"/api/v1/query_range"}
    return [dict(urllib.parse.parse_qsl(url.query))["query"] for url in sent]


def test_the_six_defaults_are_read_with_two_range_queries(prometheus: PrometheusServer) -> None:
    with HeaderRecordingProxy(prometheus.url) as proxy:
        values = collect_run_metrics(client_for(proxy.url), DEFAULT_METRICS, WINDOW, STEP)

    assert range_queries(proxy) == [READ_ONLY_QUERY, MUTATING_QUERY]
    assert list(values) == [metric.name for metric in DEFAULT_METRICS]
    # each KPI has the value that a query of its own gives
    client = client_for(prometheus.url)
    for metric in DEFAULT_METRICS:
        value = values[metric.name]
        assert isinstance(value, MetricValue)
        assert value == query_window(client, metric, WINDOW, STEP)


def test_a_kpi_that_no_series_carries_is_missing_and_its_query_still_serves_the_others(
    prometheus: PrometheusServer,
) -> None:
    nowhere = MetricSpec(
        name="ro-resource-scope",
        query=READ_ONLY_QUERY,
        over_time=OverTime.AVG,
        aggregation=Aggregation.AVG,
        labels=(("scope", "resource"),),
    )
    with HeaderRecordingProxy(prometheus.url) as proxy:
        values = collect_run_metrics(
            client_for(proxy.url), [*DEFAULT_METRICS[:2], nowhere], WINDOW, STEP
        )

    assert range_queries(proxy) == [READ_ONLY_QUERY]
    missing = values["ro-resource-scope"]
    assert isinstance(missing, MetricMissing)
    assert missing.metric == "ro-resource-scope"
    assert "scope='resource'" in str(missing)
    assert all(isinstance(values[m.name], MetricValue) for m in DEFAULT_METRICS[:2])


def test_a_rejected_shared_query_is_one_query_error_naming_every_kpi(
    prometheus: PrometheusServer,
) -> None:
    broken = "sum(rate(apiserver_request_duration_seconds_count[5m])"
    first = MetricSpec(name="first", query=broken)
    second = MetricSpec(name="second", query=broken, over_time=OverTime.AVG)
    with (
        HeaderRecordingProxy(prometheus.url) as proxy,
        pytest.raises(QueryError, match="bad_data") as caught,
    ):
        collect_run_metrics(client_for(proxy.url), [first, second], WINDOW, STEP)
    assert len(proxy.requests) == 1
    assert (caught.value.metric, caught.value.also) == ("first", ("second",))
    assert "'first'" in str(caught.value) and "'second'" in str(caught.value)


@pytest.mark.timeout(60)
def test_an_unreachable_prometheus_names_every_kpi_of_the_query() -> None:
    shared = [MetricSpec(name="first", query="up"), MetricSpec(name="second", query="up")]
    with pytest.raises(PrometheusUnavailable, match=r"^metrics 'first', 'second': .*unreachable"):
        collect_run_metrics(client_for("http://127.0.0.1:9"), shared, WINDOW, STEP)
