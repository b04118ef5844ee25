"""Built-in knowledge of kube-burner-ocp: its workload names and its API latency metrics profile (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from perftest_operator.api.kpi import Aggregation, Direction, MetricSpec


@dataclass(frozen=True)
class ScaleFlag:
    """How a kube-burner-ocp workload is sized on its command line."""

    flag: str | None  # the flag that spec.workload.iterations becomes; None: the workload has none
    required: bool = False  # without it kube-burner-ocp refuses to start or creates nothing


_ITERATIONS = ScaleFlag("--iterations")
_ITERATIONS_REQUIRED = ScaleFlag("--iterations", required=True)
_PODS_PER_NODE = ScaleFlag("--pods-per-node")
_NONE = ScaleFlag(None)

SCALE_FLAGS: Mapping[str, ScaleFlag] = MappingProxyType(
    {
        "cluster-density-v2": _ITERATIONS_REQUIRED,  # MarkFlagRequired("iterations")
        "cluster-density-ms": _ITERATIONS_REQUIRED,
        "crd-scale": _ITERATIONS_REQUIRED,
        "egressip": _ITERATIONS_REQUIRED,  # also needs --external-server-ip (extraArgs)
        "udn-density-pods": _ITERATIONS_REQUIRED,
        "udn-bgp": _ITERATIONS_REQUIRED,  # also needs --frr-external-ip (extraArgs)
        "olm": _ITERATIONS_REQUIRED,
        "pvc-density": _ITERATIONS_REQUIRED,  # default 0: a job with no iterations is fatal
        "rds-core": _ITERATIONS_REQUIRED,  # default 0, same
        "network-policy": _ITERATIONS,  # default 10
        "whereabouts": _ITERATIONS,  # default 10
        "node-density": _PODS_PER_NODE,  # default 245 pods per worker node
        "node-density-cni": _PODS_PER_NODE,
        "node-density-heavy": _PODS_PER_NODE,
        "virt-density": ScaleFlag("--vms-per-node"),  # default 245
        "virt-capacity-benchmark": ScaleFlag("--max-iterations"),  # default 0: until failure
        "web-burner-init": _NONE,
        "web-burner-node-density": _NONE,
        "web-burner-cluster-density": _NONE,
    }
)


# Subcommands of kube-burner-ocp that run a workload (`kube-burner-ocp <name> ...`).
KUBE_BURNER_OCP_WORKLOADS: frozenset[str] = frozenset(SCALE_FLAGS)

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
