"""Whether a target can run a workload and has what it needs before it creates anything (pure).

``platform_refusal`` says when the workload cannot run on the target's platform at all
(kube-burner-ocp's workloads off OpenShift). Each prerequisite comes from the contract of the
workload's version, with kube-burner's own words for the failure and the upstream source;
``unmet_prerequisites`` judges the objects the operator read off the target (``TargetState``)
against them. What kube-burner would find an hour into a Job is said at reconcile instead,
before any Job starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perftest_operator.api.fields import dig, labels, sequence
from perftest_operator.contract.model import CheckKind, Contract, Prerequisite, Workload
from perftest_operator.target.platform import DetectedPlatform

# kube-burner-ocp counts worker nodes by these labels (go-commons ocp-metadata/types.go:27 and
# ocp-metadata.go:267-297 at v2.1.1): worker, and neither infra nor workload.
WORKER_LABEL = "node-role.kubernetes.io/worker"
NOT_WORKER_LABELS = ("node-role.kubernetes.io/infra", "node-role.kubernetes.io/workload")
# Nodes that ordinary pods are kept off: control-plane and infra roles (kubeadm labels and taints
# control-plane nodes node-role.kubernetes.io/control-plane, older ones master), and taints
# that repel pods without a toleration.
NOT_SCHEDULABLE_ROLE_LABELS = (
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/infra",
)
REPELLING_TAINT_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@dataclass(frozen=True)
class TargetState:
    """What the operator read off the target for a workload's prerequisites.

    ``objects`` maps (group, resource, namespace, name) to the object, or None when absent;
    ``served`` maps (group, version, resource) to whether the API serves it.
    """

    objects: Mapping[tuple[str, str, str | None, str], Mapping[str, Any] | None] = field(
        default_factory=dict
    )
    served: Mapping[tuple[str, str, str], bool] = field(default_factory=dict)
    nodes: Sequence[Mapping[str, Any]] = ()


def object_key(prerequisite: Prerequisite) -> tuple[str, str, str | None, str]:
    group = "apps" if prerequisite.check is CheckKind.DEPLOYMENT_AVAILABLE else prerequisite.group
    resource = (
        "deployments"
        if prerequisite.check is CheckKind.DEPLOYMENT_AVAILABLE
        else prerequisite.resource
    )
    return group, resource, prerequisite.namespace, str(prerequisite.name or "")


def _workers(nodes: Sequence[Mapping[str, Any]]) -> int:
    count = 0
    for node in nodes:
        labels = dig(node, "metadata", "labels") or {}
        if WORKER_LABEL in labels and not any(label in labels for label in NOT_WORKER_LABELS):
            count += 1
    return count


def _ready(node: Mapping[str, Any]) -> bool:
    return any(
        dig(condition, "type") == "Ready" and dig(condition, "status") == "True"
        for condition in sequence(dig(node, "status", "conditions"))
    )


def schedulable_nodes(nodes: Sequence[Mapping[str, Any]]) -> int:
    """How many nodes take ordinary pods, found without role labels (a purely computational
    function with no side effects): Ready, schedulable, Linux, no control-plane, master or infra
    role, no NoSchedule or NoExecute taint. EKS, GKE and AKS label no node as a worker."""
    count = 0
    for node in nodes:
        node_labels = labels(node)
        taints = sequence(dig(node, "spec", "taints"))
        if (
            _ready(node)
            and not dig(node, "spec", "unschedulable")
            and node_labels.get("kubernetes.io/os", "linux") == "linux"
            and not any(label in node_labels for label in NOT_SCHEDULABLE_ROLE_LABELS)
            and not any(dig(taint, "effect") in REPELLING_TAINT_EFFECTS for taint in taints)
        ):
            count += 1
    return count


def platform_refusal(
    contract: Contract, workload: Workload, detected: DetectedPlatform
) -> str | None:
    """Why ``workload`` cannot run on the detected platform, or None when it can (pure)."""
    if not workload.openshift_only or detected.openshift:
        return None
    portable = ", ".join(contract.kubernetes_workloads)
    return (
        f"{workload.name} is a kube-burner-ocp workload and runs only on OpenShift (it lists "
        f"ClusterOperators and reads OpenShift's configuration before it starts); the target is "
        f"{detected.describe()}: run {portable} or a custom configuration there"
    )


def _met(prerequisite: Prerequisite, state: TargetState) -> bool:
    check = prerequisite.check
    if check is CheckKind.RESOURCE_SERVED:
        key = (prerequisite.group, prerequisite.version, prerequisite.resource)
        return state.served.get(key, False)
    if check is CheckKind.WORKER_NODES:
        return _workers(state.nodes) > 0
    if check is CheckKind.SCHEDULABLE_NODES:
        return schedulable_nodes(state.nodes) > 0
    if check is CheckKind.DEFAULT_STORAGE_CLASS:
        return True  # read by no workload the operator runs at its versions
    found = state.objects.get(object_key(prerequisite))
    if found is None:
        return False
    if check is CheckKind.DEPLOYMENT_AVAILABLE:
        available = dig(found, "status", "availableReplicas")
        return isinstance(available, int) and available > 0
    value = dig(found, *str(prerequisite.field or "").split("."))
    return value not in (None, "", [], {})


def unmet_prerequisites(
    workload: Workload, flags: Mapping[str, str], state: TargetState
) -> list[str]:
    """What the target lacks for ``workload`` under these flags, each with its source.

    A purely computational function with no side effects.
    """
    unmet = []
    tool = "kube-burner-ocp" if workload.openshift_only else "kube-burner"
    for prerequisite in workload.prerequisites:
        if prerequisite.when.holds(flags) and not _met(prerequisite, state):
            unmet.append(
                f"the target needs {prerequisite.describe()} "
                f"(else {tool} stops: {prerequisite.message!r}; {prerequisite.source})"
            )
    return unmet
