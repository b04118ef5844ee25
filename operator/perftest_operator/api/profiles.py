"""kube-burner-ocp's API latency metrics profile as the default KPIs (pure).

What kube-burner-ocp runs (workloads, flags, API calls) is its contract: perftest_operator.contract.
"""

from __future__ import annotations

from perftest_operator.api.kpi import Aggregation, Direction, MetricSpec

_NON_STREAMING = 'subresource!~"log|exec|portforward|attach|proxy"'

# The same PromQL as kube-burner-ocp's metrics profile (cmd/config/metrics-profiles/metrics.yml).
READ_ONLY_API_CALLS_LATENCY = (
    "histogram_quantile(0.99, sum(irate(apiserver_request_duration_seconds_bucket"
    f'{{apiserver="kube-apiserver", verb=~"LIST|GET", {_NON_STREAMING}}}[2m])) '
    "by (le, resource, verb, scope)) > 0"
)
MUTATING_API_CALLS_LATENCY = (
    "histogram_quantile(0.99, sum(irate(apiserver_request_duration_seconds_bucket"
    f'{{apiserver="kube-apiserver", verb=~"POST|PUT|DELETE|PATCH", {_NON_STREAMING}}}[2m])) '
    "by (le, resource, verb, scope)) > 0"
)


DEFAULT_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name="readOnlyAPICallsLatency",
        query=READ_ONLY_API_CALLS_LATENCY,
        aggregation=Aggregation.MAX,
        direction=Direction.LOWER_IS_BETTER,
        unit="s",
    ),
    MetricSpec(
        name="mutatingAPICallsLatency",
        query=MUTATING_API_CALLS_LATENCY,
        aggregation=Aggregation.MAX,
        direction=Direction.LOWER_IS_BETTER,
        unit="s",
    ),
)
