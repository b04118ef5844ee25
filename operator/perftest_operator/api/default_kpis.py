"""The default KPIs: kube-burner-ocp's report profile's API latency, per monitoring stack (pure).

What kube-burner-ocp runs (workloads, flags, API calls) is its contract: perftest_operator.contract.
"""

from __future__ import annotations

import enum

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
_API_LATENCY = (
    "histogram_quantile(0.99, sum(irate(apiserver_request_duration_seconds_bucket"
    '{{{selector}, verb=~"{verbs}", '
    'subresource!~"log|exec|portforward|attach|proxy"}}[2m])) by (le, resource, verb, scope))'
)
_READ_ONLY_VERBS = "LIST|GET"
_MUTATING_VERBS = "POST|PUT|DELETE|PATCH"


class MonitoringStack(str, enum.Enum):
    """Which Prometheus setup the target's metrics come from, and how it labels the API server.

    OpenShift's ServiceMonitor for the kube-apiserver adds ``apiserver="kube-apiserver"``
    (openshift/cluster-kube-apiserver-operator, manifests/0000_90_kube-apiserver-operator_04_
    servicemonitor-apiserver.yaml lines 110-113 at c813e820bb94cf2af88a6343c8554624c334c04c),
    which kube-burner-ocp's queries select. kube-prometheus adds no such label: its ServiceMonitor
    (prometheus-operator/kube-prometheus v0.18.0, commit 4775d44d1aacfab7effa08293357521a3c603b87,
    manifests/kubernetesControlPlane-serviceMonitorApiserver.yaml lines 87-94) scrapes the
    ``default/kubernetes`` Service with ``jobLabel: component``, so every series carries
    ``job="apiserver"`` (prometheus-operator v0.92.0 pkg/prometheus/promcfg.go lines 2148-2161),
    the selector of kube-prometheus' own rules (jsonnet/kube-prometheus/components/
    k8s-control-plane.libsonnet line 22). Both keep the same histogram buckets up to 2 s (0.005,
    0.025, 0.05, 0.1, 0.2, 1, 2: the 0.4, 0.6 and 0.8 buckets are dropped by both, so a p99
    between 0.2 s and 1 s is interpolated on both alike).
    """

    OPENSHIFT = "OpenShift"
    KUBE_PROMETHEUS = "kube-prometheus"


API_SERVER_SELECTORS = {
    MonitoringStack.OPENSHIFT: 'apiserver="kube-apiserver"',
    MonitoringStack.KUBE_PROMETHEUS: 'job="apiserver"',
}


def api_latency_query(stack: MonitoringStack, verbs: str) -> str:
    """The p99 API latency by (resource, verb, scope) for ``verbs``, as ``stack`` labels it."""
    return _API_LATENCY.format(selector=API_SERVER_SELECTORS[stack], verbs=verbs)


READ_ONLY_API_CALLS_LATENCY = api_latency_query(MonitoringStack.OPENSHIFT, _READ_ONLY_VERBS)
MUTATING_API_CALLS_LATENCY = api_latency_query(MonitoringStack.OPENSHIFT, _MUTATING_VERBS)


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


def default_metrics(stack: MonitoringStack) -> tuple[MetricSpec, ...]:
    """The default KPIs with the API server selector of ``stack``; the same names on every stack."""
    read_only = api_latency_query(stack, _READ_ONLY_VERBS)
    mutating = api_latency_query(stack, _MUTATING_VERBS)
    return (
        _api_latency("avg-ro-apicalls-latency-namespace", read_only, OverTime.AVG, _NAMESPACE),
        _api_latency("max-ro-apicalls-latency-namespace", read_only, OverTime.MAX, _NAMESPACE),
        _api_latency("avg-ro-apicalls-latency-cluster", read_only, OverTime.AVG, _CLUSTER),
        _api_latency("max-ro-apicalls-latency-cluster", read_only, OverTime.MAX, _CLUSTER),
        _api_latency("avg-mutating-apicalls-latency", mutating, OverTime.AVG),
        _api_latency("max-mutating-apicalls-latency", mutating, OverTime.MAX),
        # kube-burner's own measurement of the run, read from its summary (no Prometheus): the
        # P99 of the time pods took to become Ready, as Orion compares it (cloud-bulldozer/orion
        # at f69572dd, examples/small-scale-cluster-density.yaml:20-25 `podReadyLatency`).
        # Workloads without pods (crd-scale, olm, k8s-api-intensive) have none; the run then
        # records it as missing.
        MetricSpec(
            name="podReadyLatency",
            query="",
            kube_burner=KubeBurnerQuantile("podLatencyQuantilesMeasurement", "Ready", "P99"),
            aggregation=Aggregation.MAX,
            direction=Direction.LOWER_IS_BETTER,
            unit="ms",
        ),
    )


# What a PerfTest without spec.metrics is parsed with; on a target whose stack is not OpenShift's
# the run reads default_metrics(its stack) instead (target.profiles.run_metrics).
DEFAULT_METRICS = default_metrics(MonitoringStack.OPENSHIFT)
