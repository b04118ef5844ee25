"""Per-platform defaults: where the Job may run, which Prometheus to ask, which metrics exist (pure).

A profile is chosen from a DetectedPlatform (``profile_for``) and carries plain data; the
pod-spec fragment it produces is a fresh dict on every call, so a caller may change it.

- Scheduling: kube-burner is the load generator and must not share a node with the
  components it measures. On managed services (ROSA, ARO, OpenShift Dedicated, hosted control
  planes, EKS/GKE/AKS/IKS) the control-plane and infra nodes belong to the provider: the Job
  is required to stay off them. Elsewhere it prefers to stay off control-plane nodes (a
  compact three-node cluster has nothing else) and tolerates no control-plane taint.
- Prometheus: on OpenShift the cluster monitoring stack's thanos-querier, authenticated with
  a service account token and verified with the service CA; on plain Kubernetes none, so the
  PerfTest has to give ``spec.prometheus.url``.
- Metrics: with a hosted control plane, the kube-apiserver, etcd, scheduler and controller
  manager run outside the cluster and the cluster's Prometheus has none of their metrics
  (openshift/api: "its components are not visible within the cluster"); on managed
  Kubernetes the API server's metrics are served but etcd's own are not.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from perftest_operator.api.default_kpis import MonitoringStack, default_metrics
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.api.spec import PerfTestSpec, Platform
from perftest_operator.target.platform import DetectedPlatform

MASTER_ROLE_LABEL = "node-role.kubernetes.io/master"
CONTROL_PLANE_ROLE_LABEL = "node-role.kubernetes.io/control-plane"
INFRA_ROLE_LABEL = "node-role.kubernetes.io/infra"
OS_LABEL = "kubernetes.io/os"

OPENSHIFT_PROMETHEUS_URL = "https://thanos-querier.openshift-monitoring.svc:9091"
# Reached from another cluster (the hub), the service name above does not resolve: the
# Route of the same name in openshift-monitoring is thanos-querier's external address.
OPENSHIFT_PROMETHEUS_ROUTE = ("openshift-monitoring", "thanos-querier")
# OpenShift's service CA bundle, injected into this ConfigMap in every namespace.
OPENSHIFT_SERVICE_CA_CONFIG_MAP = ("openshift-service-ca.crt", "service-ca.crt")


class PrometheusAuth(str, enum.Enum):
    """How the operator authenticates to the profile's default Prometheus."""

    SERVICE_ACCOUNT_TOKEN = "ServiceAccountToken"  # a token of the target's ServiceAccount
    NONE = "None"  # no default endpoint: the PerfTest's own settings decide


@dataclass(frozen=True)
class Scheduling:
    """Where the kube-burner pod may run, as label rules; ``pod_spec_fields`` renders them."""

    node_selector: tuple[tuple[str, str], ...] = ((OS_LABEL, "linux"),)
    required_absent_labels: tuple[str, ...] = ()  # never on nodes with any of these labels
    preferred_absent_labels: tuple[str, ...] = ()  # rather not on nodes with these labels
    tolerations: tuple[tuple[tuple[str, str], ...], ...] = ()  # each toleration's fields

    def pod_spec_fields(self) -> dict[str, Any]:
        """``nodeSelector``, ``affinity`` and ``tolerations`` for a pod spec (a new dict)."""
        fields: dict[str, Any] = {"nodeSelector": dict(self.node_selector)}
        node_affinity: dict[str, Any] = {}
        if self.required_absent_labels:
            expressions = [
                {"key": label, "operator": "DoesNotExist"} for label in self.required_absent_labels
            ]
            node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
                "nodeSelectorTerms": [{"matchExpressions": expressions}]
            }
        if self.preferred_absent_labels:
            node_affinity["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [
                            {"key": label, "operator": "DoesNotExist"}
                            for label in self.preferred_absent_labels
                        ]
                    },
                }
            ]
        if node_affinity:
            fields["affinity"] = {"nodeAffinity": node_affinity}
        fields["tolerations"] = [dict(toleration) for toleration in self.tolerations]
        return fields


MANAGED_SCHEDULING = Scheduling(
    required_absent_labels=(MASTER_ROLE_LABEL, CONTROL_PLANE_ROLE_LABEL, INFRA_ROLE_LABEL)
)
SELF_MANAGED_SCHEDULING = Scheduling(
    preferred_absent_labels=(MASTER_ROLE_LABEL, CONTROL_PLANE_ROLE_LABEL)
)


@dataclass(frozen=True)
class MissingMetrics:
    """Metrics that a platform's Prometheus does not have, and the note that says why."""

    name_prefixes: tuple[str, ...]  # metric names starting with one of these
    namespaces: tuple[str, ...]  # label values naming one of these namespaces
    reason: str


# Control-plane components outside the cluster: their namespaces do not exist in it.
_HOSTED_COMPONENT_NAMESPACES = (
    "openshift-etcd",
    "openshift-kube-apiserver",
    "openshift-kube-controller-manager",
    "openshift-kube-scheduler",
    "openshift-apiserver",
    "openshift-oauth-apiserver",
)
HOSTED_CONTROL_PLANE_MISSING = MissingMetrics(
    name_prefixes=("apiserver_", "etcd_", "scheduler_", "kube_apiserver_"),
    namespaces=_HOSTED_COMPONENT_NAMESPACES,
    reason=(
        "the control plane is hosted outside the cluster: its API server, etcd, scheduler "
        "and controller manager metrics are not in the cluster's Prometheus"
    ),
)
# etcd's own server metrics; the API server's etcd_request_* client metrics are served.
MANAGED_KUBERNETES_MISSING = MissingMetrics(
    name_prefixes=("etcd_disk_", "etcd_server_", "etcd_mvcc_", "etcd_network_", "etcd_debugging_"),
    namespaces=(),
    reason="the provider runs etcd: its metrics are not exposed to the cluster",
)


@dataclass(frozen=True)
class PlatformProfile:
    """Defaults for one kind of target: scheduling, default Prometheus, missing metrics."""

    platform: Platform
    openshift: bool
    managed: bool
    hosted_control_plane: bool
    scheduling: Scheduling
    prometheus_url: str | None
    prometheus_auth: PrometheusAuth
    prometheus_route: tuple[str, str] | None  # (namespace, name) of the Route, from elsewhere
    prometheus_ca_config_map: tuple[str, str] | None  # (name, key) in the Job's namespace
    missing_metrics: MissingMetrics | None
    monitoring: MonitoringStack = MonitoringStack.OPENSHIFT
    description: str = ""  # DetectedPlatform.describe()


def profile_for(detected: DetectedPlatform) -> PlatformProfile:
    """The profile of a detected platform. A purely computational function with no side effects."""
    if detected.hosted_control_plane:
        missing = HOSTED_CONTROL_PLANE_MISSING if detected.openshift else MANAGED_KUBERNETES_MISSING
    else:
        missing = None
    return PlatformProfile(
        platform=detected.platform,
        openshift=detected.openshift,
        managed=detected.managed,
        hosted_control_plane=detected.hosted_control_plane,
        scheduling=MANAGED_SCHEDULING if detected.managed else SELF_MANAGED_SCHEDULING,
        prometheus_url=OPENSHIFT_PROMETHEUS_URL if detected.openshift else None,
        prometheus_auth=(
            PrometheusAuth.SERVICE_ACCOUNT_TOKEN if detected.openshift else PrometheusAuth.NONE
        ),
        prometheus_route=OPENSHIFT_PROMETHEUS_ROUTE if detected.openshift else None,
        prometheus_ca_config_map=OPENSHIFT_SERVICE_CA_CONFIG_MAP if detected.openshift else None,
        missing_metrics=missing,
        monitoring=MonitoringStack.OPENSHIFT
        if detected.openshift
        else MonitoringStack.KUBE_PROMETHEUS,
        description=detected.describe(),
    )


def run_metrics(spec: PerfTestSpec, profile: PlatformProfile | None) -> tuple[MetricSpec, ...]:
    """The KPIs a run reads: the spec's own, or the defaults as the target's stack labels them.

    A purely computational function with no side effects. Without a profile (a run recorded
    before the platform was), the spec's.
    """
    if spec.default_metrics and profile is not None:
        return default_metrics(profile.monitoring)
    return spec.metrics


def no_series_note(metric: MetricSpec, profile: PlatformProfile | None) -> str:
    """What a KPI without samples says in its MetricMissing condition: the query and the platform."""
    where = (
        "" if profile is None else f" on {profile.description} ({profile.monitoring.value} profile)"
    )
    return f"{metric.name}: no samples in the run window for {metric.query!r}{where}"


@dataclass(frozen=True)
class MetricAvailability:
    """Whether a metric can be read on a platform; false ones carry the note for status."""

    available: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.available


_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _names_and_strings(query: str) -> tuple[set[str], list[str]]:
    strings = [literal[1:-1] for literal in _STRING_LITERAL.findall(query)]
    names = set(_IDENTIFIER.findall(_STRING_LITERAL.sub(" ", query)))
    return names, strings


def metric_available(profile: PlatformProfile, metric: MetricSpec) -> MetricAvailability:
    """Whether ``metric``'s query reads metrics the profile's Prometheus has (else why not).

    The query's metric names (identifiers outside string literals) are matched by prefix, and
    its string literals are matched against the namespaces of components that are not in the
    cluster. A purely computational function with no side effects.
    """
    missing = profile.missing_metrics
    if missing is None:
        return MetricAvailability(True)
    names, strings = _names_and_strings(metric.query)
    for name in sorted(names):
        if name.startswith(missing.name_prefixes):
            return MetricAvailability(False, f"{metric.name} skipped: {missing.reason} ({name})")
    for literal in strings:
        for namespace in missing.namespaces:
            if re.search(rf"(?<![\w-]){re.escape(namespace)}(?![\w-])", literal):
                return MetricAvailability(
                    False, f"{metric.name} skipped: {missing.reason} (namespace {namespace})"
                )
    return MetricAvailability(True)
