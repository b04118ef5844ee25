"""A workload's prerequisites judged against what the target holds, before any Job starts."""

from __future__ import annotations

from typing import Any

from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.load import load_contract
from perftest_operator.target.prerequisites import TargetState, object_key, unmet_prerequisites

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
    state = {"openshift": True, "objects": objects, "served": served}
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
        unmet_prerequisites(NODE_DENSITY, flags("node-density"), TargetState(True, nodes=[worker]))
        == []
    )
    (unmet,) = unmet_prerequisites(
        NODE_DENSITY, flags("node-density"), TargetState(True, nodes=[infra, plain])
    )
    assert "node-role.kubernetes.io/worker" in unmet and "has < 1 iterations" in unmet


def test_kube_burner_ocp_workloads_need_openshift() -> None:
    (unmet,) = unmet_prerequisites(
        NODE_DENSITY, flags("node-density"), TargetState(openshift=False)
    )
    assert "not OpenShift" in unmet and "custom configuration" in unmet
