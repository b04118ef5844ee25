"""Reads what a workload's prerequisites need off the target and judges them (I/O orchestration)."""

from __future__ import annotations

from typing import Any

from perftest_operator.api.errors import PrerequisiteMissing
from perftest_operator.api.spec import Workload
from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.model import CheckKind
from perftest_operator.controller.targets import reaching_target
from perftest_operator.kube.api import KubeApi
from perftest_operator.runner.command import contract_of, run_command
from perftest_operator.target.prerequisites import TargetState, object_key, unmet_prerequisites


def read_target_state(
    api: KubeApi, workload: Any, flags: dict[str, str], *, openshift: bool
) -> TargetState:
    """The objects, APIs and nodes ``workload``'s prerequisites look at; TargetUnreachable if none."""
    objects: dict[tuple[str, str, str | None, str], dict[str, Any] | None] = {}
    served: dict[tuple[str, str, str], bool] = {}
    nodes: list[dict[str, Any]] = []
    if not openshift:
        return TargetState(openshift=False)
    with reaching_target():
        for prerequisite in workload.prerequisites:
            if not prerequisite.when.holds(flags):
                continue
            check = prerequisite.check
            if check is CheckKind.RESOURCE_SERVED:
                key = (prerequisite.group, prerequisite.version, prerequisite.resource)
                served[key] = api.resource_served(*key)
            elif check is CheckKind.WORKER_NODES:
                nodes = api.list_nodes()
            elif check in (CheckKind.DEPLOYMENT_AVAILABLE, CheckKind.OBJECT_FIELD):
                group, resource, namespace, name = object_key(prerequisite)
                version = "v1" if check is CheckKind.DEPLOYMENT_AVAILABLE else prerequisite.version
                objects[object_key(prerequisite)] = (
                    api.get_namespaced_object(group, version, namespace, resource, name)
                    if namespace is not None
                    else api.get_cluster_object(group, version, resource, name)
                )
    return TargetState(openshift=True, objects=objects, served=served, nodes=nodes)


def check_prerequisites(api: KubeApi, workload: Workload, *, openshift: bool) -> None:
    """Raise PrerequisiteMissing naming what the target lacks for the workload (custom: nothing)."""
    if workload.is_custom or workload.name is None:
        return
    contract = contract_of(workload)
    found = contract.workload(workload.name)
    if found is None:
        return
    command = run_command(workload, uuid="00000000-0000-0000-0000-000000000000")
    flags = resolve_flags(contract, found.name, command.argv[2:], openshift=openshift)
    state = read_target_state(api, found, flags, openshift=openshift)
    unmet = unmet_prerequisites(found, flags, state)
    if unmet:
        raise PrerequisiteMissing("; ".join(unmet))
