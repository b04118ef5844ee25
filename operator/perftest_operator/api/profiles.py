"""Built-in knowledge of kube-burner-ocp: its workload names and its API latency metrics profile (pure)."""

from __future__ import annotations

from perftest_operator.api.kpi import Aggregation, Direction, MetricSpec

# Subcommands of kube-burner-ocp that run a workload (`kube-burner-ocp <name> --iterations ...`).
KUBE_BURNER_OCP_WORKLOADS: frozenset[str] = frozenset(
    {
        "cluster-density-v2",
        "cluster-density-ms",
        "node-density",
        "node-density-cni",
        "node-density-heavy",
        "networkpolicy",
        "crd-scale",
        "pvc-density",
        "egressip",
        "udn-density-pods",
        "udn-bgp",
        "virt-density",
        "virt-capacity-benchmark",
        "whereabouts",
        "web-burner-init",
        "web-burner-node-density",
        "web-burner-cluster-density",
        "rds-core",
        "olm",
        "index",
    }
)

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
