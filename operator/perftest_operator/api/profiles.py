"""kube-burner-ocp's report profile's API latency KPIs, the default KPIs (pure).

What kube-burner-ocp runs (workloads, flags, API calls) is its contract: perftest_operator.contract.
"""

from __future__ import annotations

from perftest_operator.api.kpi import (
    Aggregation,
    Direction,
    KubeBurnerQuantile,
    MetricSpec,
    OverTime,
)

# --- The default KPIs -------------------------------------------------------------------------
#
# kube-burner-ocp's report profile (kube-burner/kube-burner-ocp v1.7.3, commit
# 3ae6efe5b0f975b7b8a7402bfe831b88bfdb144b, cmd/config/metrics-profiles/metrics-report.yml
# lines 3-17) reads the API latency as instant queries at the job's end:
#
#     avg_over_time(EXPR[{{.elapsed}}:]) > 0     metricName: avg-ro-apicalls-latency   (line 3)
#     max_over_time(EXPR[{{.elapsed}}:]) > 0     metricName: max-ro-apicalls-latency   (line 7)
#
# and the same for mutating calls (lines 11, 15), EXPR being the p99 by (le, resource, verb,
# scope) below. Every series (one per resource, verb and scope) becomes one document. Orion
# (cloud-bulldozer/orion, commit f69572dd468047cafff99b5c7371075d53926cb5,
# examples/small-scale-cluster-density-report.yaml lines 62-95) then takes, per run, the
# average of those documents (`agg: {agg_type: avg}`), for read-only calls once per
# `labels.scope`: namespace and cluster.
#
# Here each KPI runs EXPR as a range query over the run window and reduces it in two stages:
# overTime per series (avg or max), then aggregation across series (avg), `labels` choosing the
# scope. A subquery `EXPR[Ns:]` evaluates EXPR at every multiple of its step within the last N
# seconds, the step being the server's global evaluation_interval when none is given
# (Prometheus docs, querying/basics, "Subquery"); a range query evaluates it at start,
# start + step, ... end. When spec.prometheus.step (30s by default) equals that interval, both
# see the same number of evaluations of the same expression, shifted by less than one step (a
# subquery's points are multiples of the step, a range query's count from the window's start):
# avg and max over them are the same numbers up to that alignment, and exactly the same when
# the window starts on a multiple of the step (tests/integration/test_prometheus_window.py
# checks this against Prometheus' own avg_over_time and max_over_time). The evaluation interval
# of OpenShift's platform Prometheus is not settled here: set spec.prometheus.step to it.
# Where the two differ by design: a NaN sample (a p99 over buckets that did not move in the
# irate window) makes avg_over_time NaN and `> 0` then drops the whole series; here NaN and
# infinite samples are dropped one by one, so a series idle at some steps takes part with its
# other steps. The `> 0` filters nothing else: a p99 of a histogram with observations is > 0.
READ_ONLY_API_CALLS_LATENCY = (
    "histogram_quantile(0.99, sum(irate(apiserver_request_duration_seconds_bucket"
    '{apiserver="kube-apiserver", verb=~"LIST|GET", '
    'subresource!~"log|exec|portforward|attach|proxy"}[2m])) by (le, resource, verb, scope))'
)
MUTATING_API_CALLS_LATENCY = (
    "histogram_quantile(0.99, sum(irate(apiserver_request_duration_seconds_bucket"
    '{apiserver="kube-apiserver", verb=~"POST|PUT|DELETE|PATCH", '
    'subresource!~"log|exec|portforward|attach|proxy"}[2m])) by (le, resource, verb, scope))'
)


def _api_latency(
    name: str, query: str, over_time: OverTime, labels: tuple[tuple[str, str], ...] = ()
) -> MetricSpec:
    return MetricSpec(
        name=name,
        query=query,
        over_time=over_time,
        aggregation=Aggregation.AVG,
        labels=labels,
        direction=Direction.LOWER_IS_BETTER,
        unit="s",
    )


_NAMESPACE = (("scope", "namespace"),)
_CLUSTER = (("scope", "cluster"),)

# Named as the report profile's metricName, with the scope Orion splits by: the six API latency
# KPIs of Orion's cluster-density report configs. One range query each for read-only and
# mutating calls serves all of them (metrics.window.collect_run_metrics).
DEFAULT_METRICS: tuple[MetricSpec, ...] = (
    _api_latency(
        "avg-ro-apicalls-latency-namespace", READ_ONLY_API_CALLS_LATENCY, OverTime.AVG, _NAMESPACE
    ),
    _api_latency(
        "max-ro-apicalls-latency-namespace", READ_ONLY_API_CALLS_LATENCY, OverTime.MAX, _NAMESPACE
    ),
    _api_latency(
        "avg-ro-apicalls-latency-cluster", READ_ONLY_API_CALLS_LATENCY, OverTime.AVG, _CLUSTER
    ),
    _api_latency(
        "max-ro-apicalls-latency-cluster", READ_ONLY_API_CALLS_LATENCY, OverTime.MAX, _CLUSTER
    ),
    _api_latency("avg-mutating-apicalls-latency", MUTATING_API_CALLS_LATENCY, OverTime.AVG),
    _api_latency("max-mutating-apicalls-latency", MUTATING_API_CALLS_LATENCY, OverTime.MAX),
    # kube-burner's own measurement of the run, read from its summary (no Prometheus): the P99
    # of the time pods took to become Ready, as Orion compares it (cloud-bulldozer/orion at
    # f69572dd, examples/small-scale-cluster-density.yaml:20-25 `podReadyLatency`). Workloads
    # without pods (crd-scale, olm) have none; the run then records it as missing.
    MetricSpec(
        name="podReadyLatency",
        query="",
        kube_burner=KubeBurnerQuantile("podLatencyQuantilesMeasurement", "Ready", "P99"),
        aggregation=Aggregation.MAX,
        direction=Direction.LOWER_IS_BETTER,
        unit="ms",
    ),
)
