"""Whether a target has what a kube-burner-ocp workload needs before it creates anything (pure).

Each prerequisite comes from the contract of the workload's version, with kube-burner-ocp's own
words for the failure and the upstream source; ``unmet_prerequisites`` judges the objects the
operator read off the target (``TargetState``) against them. What kube-burner-ocp would find
an hour into a Job is said at reconcile instead, before any Job starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perftest_operator.api.fields import dig
from perftest_operator.contract.model import CheckKind, Prerequisite, Workload

# kube-burner-ocp counts worker nodes by these labels (go-commons ocp-metadata/types.go:27 and
# ocp-metadata.go:267-297 at v2.1.1): worker, and neither infra nor workload.
WORKER_LABEL = "node-role.kubernetes.io/worker"
NOT_WORKER_LABELS = ("node-role.kubernetes.io/infra", "node-role.kubernetes.io/workload")


@dataclass(frozen=True)
class TargetState:
    """What the operator read off the target for a workload's prerequisites.

    ``objects`` maps (group, resource, namespace, name) to the object, or None when absent;
    ``served`` maps (group, version, resource) to whether the API serves it.
    """

    openshift: bool
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


def _met(prerequisite: Prerequisite, state: TargetState) -> bool:
    check = prerequisite.check
    if check is CheckKind.RESOURCE_SERVED:
        key = (prerequisite.group, prerequisite.version, prerequisite.resource)
        return state.served.get(key, False)
    if check is CheckKind.WORKER_NODES:
        return _workers(state.nodes) > 0
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
    if not state.openshift:
        unmet.append(
            f"{workload.name} is a kube-burner-ocp workload and the target is not OpenShift "
            "(kube-burner-ocp lists ClusterOperators and reads OpenShift's configuration before "
            "it starts); run a custom configuration (plain kube-burner) on this target instead"
        )
        return unmet
    for prerequisite in workload.prerequisites:
        if prerequisite.when.holds(flags) and not _met(prerequisite, state):
            unmet.append(
                f"the target needs {prerequisite.describe()} "
                f"(else kube-burner-ocp stops: {prerequisite.message!r}; {prerequisite.source})"
            )
    return unmet
