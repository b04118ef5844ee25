"""A workload's prerequisites judged against what the target holds, before any Job starts."""

from __future__ import annotations

from typing import Any

import pytest

from perftest_operator.api.spec import Platform
from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.load import load_contract
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.prerequisites import (
    TargetState,
    object_key,
    platform_refusal,
    schedulable_nodes,
    unmet_prerequisites,
)

CONTRACT = load_contract()
CLUSTER_DENSITY = CONTRACT.workloads["cluster-density-v2"]
NODE_DENSITY = CONTRACT.workloads["node-density"]


def flags(workload: str) -> dict[str, str]:
    return resolve_flags(CONTRACT, workload, ["--alerting=false"])


def registry(available: int) -> dict[str, Any]:
    return {"metadata": {"name": "image-registry"}, "status": {"availableReplicas": available}}


INGRESS = {"metadata": {"name": "default"}, "status": {"domain": "apps.perf.example.com"}}


def cluster_density_state(**changes: Any) -> TargetState:
    objects: dict[Any, Any] = {}
    for prerequisite in CLUSTER_DENSITY.prerequisites:
        if prerequisite.resource == "ingresscontrollers":
            objects[object_key(prerequisite)] = INGRESS
        elif prerequisite.name == "image-registry":
            objects[object_key(prerequisite)] = registry(1)
    served = {
        (p.group, p.version, p.resource): True
        for p in CLUSTER_DENSITY.prerequisites
        if p.check.value == "resourceServed"
    }
    state = {"objects": objects, "served": served}
    state.update(changes)
    return TargetState(**state)


def test_an_openshift_cluster_with_a_registry_and_an_ingress_domain_has_it_all() -> None:
    assert (
        unmet_prerequisites(CLUSTER_DENSITY, flags("cluster-density-v2"), cluster_density_state())
        == []
    )


def test_a_removed_image_registry_is_named_with_kube_burner_ocps_words() -> None:
    state = cluster_density_state()
    objects = dict(state.objects)
    (key,) = [k for k in objects if k[3] == "image-registry"]
    objects[key] = registry(0)
    (unmet,) = unmet_prerequisites(
        CLUSTER_DENSITY, flags("cluster-density-v2"), cluster_density_state(objects=objects)
    )
    assert "Deployment openshift-image-registry/image-registry with an available replica" in unmet
    assert "doesn't have available replicas" in unmet  # kube-burner-ocp's own message
    assert "cluster_health.go" in unmet  # and where it says it
    objects[key] = None  # the registry is Removed altogether
    assert unmet_prerequisites(
        CLUSTER_DENSITY, flags("cluster-density-v2"), cluster_density_state(objects=objects)
    )


def test_an_api_that_is_not_served_is_named() -> None:
    state = cluster_density_state()
    served = {key: key[2] != "builds" for key in state.served}  # the Build capability is off
    (unmet,) = unmet_prerequisites(
        CLUSTER_DENSITY, flags("cluster-density-v2"), cluster_density_state(served=served)
    )
    assert "builds.build.openshift.io" in unmet


def test_node_density_needs_worker_labelled_nodes() -> None:
    worker = {"metadata": {"labels": {"node-role.kubernetes.io/worker": ""}}}
    infra = {
        "metadata": {
            "labels": {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": ""}
        }
    }
    plain = {"metadata": {"labels": {"kubernetes.io/os": "linux"}}}
    assert (
        unmet_prerequisites(NODE_DENSITY, flags("node-density"), TargetState(nodes=[worker])) == []
    )
    (unmet,) = unmet_prerequisites(
        NODE_DENSITY, flags("node-density"), TargetState(nodes=[infra, plain])
    )
    assert "node-role.kubernetes.io/worker" in unmet and "has < 1 iterations" in unmet


def test_kube_burner_ocp_workloads_need_openshift_and_say_what_runs_instead() -> None:
    eks = DetectedPlatform(Platform.AWS, False, True, True, "managed Kubernetes: EKS")
    refusal = platform_refusal(CONTRACT, NODE_DENSITY, eks)
    assert refusal is not None
    assert "runs only on OpenShift" in refusal
    assert "plain Kubernetes on AWS (managed control plane)" in refusal
    assert "k8s-node-density, k8s-cluster-density, k8s-api-intensive" in refusal
    openshift = DetectedPlatform(Platform.AWS, True, False, False, "Infrastructure")
    assert platform_refusal(CONTRACT, NODE_DENSITY, openshift) is None


@pytest.mark.parametrize("name", ["k8s-node-density", "k8s-cluster-density", "k8s-api-intensive"])
@pytest.mark.parametrize("openshift", [True, False])
def test_the_projects_configurations_run_on_any_platform(name: str, openshift: bool) -> None:
    target = DetectedPlatform(Platform.BARE_METAL, openshift, False, False, "")
    workload = CONTRACT.kubernetes_workloads[name]
    assert platform_refusal(CONTRACT, workload, target) is None


def node(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    ready: str = "True",
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {"kubernetes.io/os": "linux"}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def test_schedulable_nodes_are_found_without_role_labels() -> None:
    nodes = [
        node("eks-1", labels={"eks.amazonaws.com/nodegroup": "ng", "kubernetes.io/os": "linux"}),
        node("gke-1"),  # no role label at all: a worker
        node("cp", labels={"node-role.kubernetes.io/control-plane": ""}),
        node("old-master", labels={"node-role.kubernetes.io/master": ""}),
        node("infra", labels={"node-role.kubernetes.io/infra": ""}),
        node("tainted", taints=[{"key": "dedicated", "effect": "NoSchedule"}]),
        node("evicting", taints=[{"key": "x", "effect": "NoExecute"}]),
        node("prefer-not", taints=[{"key": "x", "effect": "PreferNoSchedule"}]),
        node("cordoned", unschedulable=True),
        node("not-ready", ready="False"),
        node("windows", labels={"kubernetes.io/os": "windows"}),
    ]
    assert schedulable_nodes(nodes) == 3  # eks-1, gke-1, prefer-not


def test_k8s_node_density_needs_a_schedulable_node() -> None:
    workload = CONTRACT.kubernetes_workloads["k8s-node-density"]
    none = resolve_flags(CONTRACT, "k8s-node-density", [])
    (unmet,) = unmet_prerequisites(workload, none, TargetState(nodes=[node("cp", ready="False")]))
    assert "schedulable Linux node" in unmet and "kube-burner stops" in unmet
    assert "has < 1 iterations" in unmet
    assert unmet_prerequisites(workload, none, TargetState(nodes=[node("w")])) == []
