"""Reads what a workload's prerequisites need off the target and judges them (I/O orchestration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.api.errors import PrerequisiteMissing, WorkloadNotForPlatform
from perftest_operator.api.spec import Workload
from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.model import CheckKind
from perftest_operator.contract.model import Workload as WorkloadContract
from perftest_operator.controller.target_access import reaching_target
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.runner.command import contract_of, run_command
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.prerequisites import (
    TargetState,
    object_key,
    platform_refusal,
    unmet_prerequisites,
)


def read_target_state(
    api: KubeApi,
    workload: WorkloadContract,
    flags: dict[str, str],
    *,
    nodes: Sequence[Mapping[str, Any]],
) -> TargetState:
    """The objects and APIs ``workload``'s prerequisites look at (the nodes were read already
    with the target's facts); TargetUnreachable when the target does not answer."""
    objects: dict[tuple[str, str, str | None, str], Mapping[str, Any] | None] = {}
    served: dict[tuple[str, str, str], bool] = {}
    with reaching_target():
        for prerequisite in workload.prerequisites:
            if not prerequisite.when.holds(flags):
                continue
            check = prerequisite.check
            if check is CheckKind.RESOURCE_SERVED:
                key = (prerequisite.group, prerequisite.version, prerequisite.resource)
                served[key] = api.resource_served(*key)
            elif check in (CheckKind.DEPLOYMENT_AVAILABLE, CheckKind.OBJECT_FIELD):
                group, resource, namespace, name = object_key(prerequisite)
                version = "v1" if check is CheckKind.DEPLOYMENT_AVAILABLE else prerequisite.version
                objects[object_key(prerequisite)] = api.get_object(
                    group, version, resource, namespace, name
                )
    return TargetState(objects=objects, served=served, nodes=nodes)


def check_prerequisites(
    api: KubeApi,
    workload: Workload,
    *,
    platform: DetectedPlatform,
    nodes: Sequence[Mapping[str, Any]],
) -> None:
    """Raise WorkloadNotForPlatform when the workload cannot run on the target's platform, and
    PrerequisiteMissing naming what the target lacks for it (custom: nothing)."""
    if workload.is_custom or workload.name is None:
        return
    contract = contract_of(workload)
    found = contract.workload(workload.name)
    if found is None:
        return
    refusal = platform_refusal(contract, found, platform)
    if refusal is not None:
        raise WorkloadNotForPlatform("spec.workload.name", refusal)
    command = run_command(workload, uuid="00000000-0000-0000-0000-000000000000")
    flags = resolve_flags(contract, found.name, command.argv[2:], openshift=platform.openshift)
    state = read_target_state(api, found, flags, nodes=nodes)
    unmet = unmet_prerequisites(found, flags, state)
    if unmet:
        raise PrerequisiteMissing("; ".join(unmet))
