"""The ServiceAccount and RBAC that kube-burner works with on a remote target, as dicts (pure).

On a remote target the operator sets these up itself, with the target kubeconfig's identity
(an administrator of the target): a ServiceAccount in the run namespace, the cluster-wide
`perftest-kube-burner` ClusterRole (kube-burner-ocp's workloads create namespaces and the
objects in them, read nodes and, on OpenShift, the cluster's identity), a ClusterRoleBinding
of the two, and on OpenShift one to `cluster-monitoring-view` so that a token minted for the
ServiceAccount can query thanos-querier. On the hub the operator creates no RBAC (that would
make its own role far wider); there the Job runs as PERFTEST_JOB_SERVICE_ACCOUNT (by default
the same name), which the manifests (`manifests/kube-burner/`, included by the overlays) and the
chart ship with the same ClusterRole and bindings in the run namespace `perftest-runs`.
"""

from __future__ import annotations

from typing import Any

from perftest_operator.api.settings import DEFAULT_JOB_SERVICE_ACCOUNT
from perftest_operator.runner.manifests import MANAGED_BY_LABEL, MANAGER
from perftest_operator.runner.names import run_resource_name

SERVICE_ACCOUNT = DEFAULT_JOB_SERVICE_ACCOUNT
CLUSTER_ROLE = "perftest-kube-burner"
MONITORING_CLUSTER_ROLE = "cluster-monitoring-view"

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_READ_VERBS = ("get", "list", "watch")

# (API group, resources, verbs). What kube-burner-ocp's workloads create and clean up, and
# what it reads for its metadata and health checks. A custom workload that creates other
# kinds needs a ClusterRole of its own bound to the same ServiceAccount.
KUBE_BURNER_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "",
        (
            "namespaces",
            "pods",
            "services",
            "endpoints",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "replicationcontrollers",
            "persistentvolumeclaims",
        ),
        _ALL_VERBS,
    ),
    ("", ("nodes", "events", "pods/log"), _READ_VERBS),
    ("apps", ("deployments", "replicasets", "statefulsets", "daemonsets"), _ALL_VERBS),
    ("batch", ("jobs",), _ALL_VERBS),
    ("networking.k8s.io", ("networkpolicies", "ingresses"), _ALL_VERBS),
    ("policy", ("poddisruptionbudgets",), _ALL_VERBS),
    ("route.openshift.io", ("routes", "routes/custom-host"), _ALL_VERBS),
    ("build.openshift.io", ("builds", "buildconfigs"), _ALL_VERBS),
    ("image.openshift.io", ("imagestreams",), _ALL_VERBS),
    ("config.openshift.io", ("clusterversions", "infrastructures", "networks"), _READ_VERBS),
)


def _labels() -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGER}


def build_service_account(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": SERVICE_ACCOUNT, "namespace": namespace, "labels": _labels()},
    }


def build_cluster_role() -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CLUSTER_ROLE, "labels": _labels()},
        "rules": [
            {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}
            for group, resources, verbs in KUBE_BURNER_RULES
        ],
    }


def build_cluster_role_binding(namespace: str, cluster_role: str) -> dict[str, Any]:
    """Binds the run namespace's kube-burner ServiceAccount to `cluster_role` (one per pair)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        # Bindings are cluster-scoped: one per namespace, or two run namespaces would share one.
        "metadata": {
            "name": run_resource_name(f"{cluster_role}-{namespace}"),
            "labels": _labels(),
        },
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": cluster_role,
        },
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
    }


def build_target_rbac(namespace: str, *, openshift: bool) -> list[dict[str, Any]]:
    """Everything kube-burner's ServiceAccount needs on a remote target, in creation order."""
    objects = [
        build_service_account(namespace),
        build_cluster_role(),
        build_cluster_role_binding(namespace, CLUSTER_ROLE),
    ]
    if openshift:
        objects.append(build_cluster_role_binding(namespace, MONITORING_CLUSTER_ROLE))
    return objects
