"""An API (the emulator) made to look like an OpenShift 4.19 cluster to kube-burner-ocp (I/O).

``seed_openshift`` creates what kube-burner-ocp v1.7.3 reads before it creates anything and the
API types its workloads create: a CustomResourceDefinition for every group and resource the
contract's calls and objects name that the server does not serve yet (generated from the
contract, so a workload the contract gains is covered), then the objects its startup and the
workloads' prerequisites read: ClusterOperators that are Available, the Infrastructure and
ClusterVersion, the cluster network's configuration and operator, the install-config in
kube-system/cluster-config-v1, the image registry's Deployment with an available replica, the
default IngressController with its domain, catalogd's Deployment, and Ready worker nodes. The
shapes are the fields kube-burner-ocp and go-commons read (the contract's sources; GCM
ocp-metadata/ocp-metadata.go:54-382, KBO cluster_health.go:45-119). Parts can be left out
(``parts``), for tests whose own objects play them (nodes, Infrastructure).

``bind_workload_role`` gives a ServiceAccount a workload's generated ClusterRole
(``runner.rbac``), as the operator's manifests and remote targets do.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import kubernetes

from localstack.target_objects import CLUSTER_VERSION, infrastructure, node, preserving_crd
from perftest_operator.contract.model import Contract
from perftest_operator.runner.rbac import (
    Rule,
    build_cluster_role,
    build_cluster_role_binding,
    build_service_account,
    cluster_role_name,
    role_rules,
    workload_calls,
)

OCP_VERSION = "4.19.0-0.nightly-2025-01-14-010203"
INGRESS_DOMAIN = "apps.perf.example.com"
# What a lab spec passes in extraArgs where kube-burner-ocp marks a flag required and no spec
# field sets it (egressip's --external-server-ip: KBO cmd/config/egressip.go:175, v1.7.3); the
# operator refuses the spec without it (runner.command.check_required_flags).
REQUIRED_EXTRA_ARGS: dict[str, list[str]] = {"egressip": ["--external-server-ip=10.0.0.9"]}
# Kinds and scopes of the OpenShift and KubeVirt resources the contract only reads (it names no
# object of them): from the openshift/api and kubevirt.io/api type definitions.
READ_ONLY_KINDS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("config.openshift.io", "clusteroperators"): ("v1", "ClusterOperator", False),
    ("config.openshift.io", "infrastructures"): ("v1", "Infrastructure", False),
    ("config.openshift.io", "clusterversions"): ("v1", "ClusterVersion", False),
    ("config.openshift.io", "networks"): ("v1", "Network", False),
    ("operator.openshift.io", "networks"): ("v1", "Network", False),
    ("operator.openshift.io", "ingresscontrollers"): ("v1", "IngressController", True),
    ("route.openshift.io", "routes"): ("v1", "Route", True),
    ("kubevirt.io", "virtualmachineinstances"): ("v1", "VirtualMachineInstance", True),
}
# Namespaces of OpenShift and of the operators whose objects the workloads read or create in.
NAMESPACES = (
    "openshift-monitoring",
    "openshift-image-registry",
    "openshift-ingress-operator",
    "openshift-catalogd",
    "openshift-cnv",
    "openshift-sriov-network-operator",
    "metallb-system",
)
ALL_PARTS = frozenset({"crds", "namespaces", "openshift", "infrastructure", "nodes"})


def request(
    api_client: kubernetes.client.ApiClient, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """A raw request with the client's (administrator's) credentials: (status, decoded body)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    token = api_client.configuration.api_key.get("authorization")
    if token:
        headers["Authorization"] = token
    response = api_client.rest_client.request(
        method, api_client.configuration.host + path, headers=headers, body=body
    )
    data = response.read()
    try:
        return int(response.status), json.loads(data) if data else None
    except ValueError:
        return int(response.status), data


def _path(api_version: str, plural: str, namespace: str | None, name: str | None = None) -> str:
    group, _, version = api_version.rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    return f"{base}/{plural}" + (f"/{name}" if name else "")


def ensure(api_client: kubernetes.client.ApiClient, plural: str, body: Mapping[str, Any]) -> None:
    """Create ``body`` (already there is fine), then write its status, as controllers would."""
    meta = body["metadata"]
    path = _path(body["apiVersion"], plural, meta.get("namespace"))
    status, answer = request(api_client, "POST", path, dict(body))
    if status not in (200, 201, 409):
        raise RuntimeError(f"cannot create {plural} {meta['name']}: {status} {answer}")
    if "status" in body:
        target = _path(body["apiVersion"], plural, meta.get("namespace"), meta["name"])
        status, answer = request(
            api_client, "PATCH", target + "/status", {"status": body["status"]}
        )
        if status == 404:  # a CRD without the status subresource takes it with the object
            status, answer = request(api_client, "PATCH", target, {"status": body["status"]})
        if status >= 300:
            raise RuntimeError(f"cannot write the status of {plural} {meta['name']}: {answer}")


def served(api_client: kubernetes.client.ApiClient) -> set[tuple[str, str]]:
    """(group, plural) of every resource the server serves."""
    found = set()
    _, core = request(api_client, "GET", "/api/v1")
    found |= {("", r["name"]) for r in (core or {}).get("resources") or []}
    _, groups = request(api_client, "GET", "/apis")
    for group in (groups or {}).get("groups") or []:
        for version in group.get("versions") or []:
            _, listing = request(api_client, "GET", f"/apis/{version['groupVersion']}")
            found |= {(group["name"], r["name"]) for r in (listing or {}).get("resources") or []}
    return found


def contract_types(contract: Contract) -> dict[tuple[str, str], tuple[str, str, bool] | None]:
    """(group, plural) -> (version, kind, namespaced) of every type the contract names; None
    for a type it only reads and whose kind ``READ_ONLY_KINDS`` does not know."""
    types: dict[tuple[str, str], tuple[str, str, bool] | None] = {}
    for workload in contract.workloads.values():
        for job in workload.jobs:
            for kind in job.objects:
                types[(kind.group, kind.resource)] = (kind.version, kind.kind, kind.namespaced)
    runnable = [name for name, w in contract.workloads.items() if w.refused is None]
    for name in runnable:
        for call in workload_calls(contract, name):
            key = (call.group, call.resource.split("/")[0])
            types.setdefault(key, READ_ONLY_KINDS.get(key))
    return types


def contract_crds(contract: Contract, already: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """CRDs, with any fields, for the contract's types the server does not serve."""
    have = set(already)
    crds = []
    for (group, plural), known in sorted(contract_types(contract).items()):
        if (group, plural) in have:
            continue
        if known is None or not group:
            raise KeyError(
                f"the server does not serve {plural}.{group}, and no kind is known for it"
            )
        version, kind, namespaced = known
        # Without a status subresource, as target_objects' CRDs: objects keep the status they
        # are created with (tests write Infrastructures that way).
        scope = "Namespaced" if namespaced else "Cluster"
        crds.append(preserving_crd(group, version, plural, kind, scope))
    return crds


def _condition(kind: str, status: str = "True") -> dict[str, str]:
    return {"type": kind, "status": status, "lastTransitionTime": "2025-01-14T00:00:00Z"}


def _deployment(namespace: str, name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "registry.example/x:1"}]},
            },
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
    }


INSTALL_CONFIG = """apiVersion: v1
baseDomain: example.com
metadata:
  name: perf
publish: External
fips: false
controlPlane:
  name: master
  architecture: amd64
  replicas: 3
compute:
- name: worker
  architecture: amd64
  replicas: 3
platform:
  aws:
    region: us-east-1
"""


def openshift_objects() -> list[tuple[str, dict[str, Any]]]:
    """(plural, body) of the objects kube-burner-ocp's startup and prerequisites read."""
    operators = [
        (
            "clusteroperators",
            {
                "apiVersion": "config.openshift.io/v1",
                "kind": "ClusterOperator",
                "metadata": {"name": name},
                "status": {
                    "conditions": [
                        _condition("Available"),
                        _condition("Progressing", "False"),
                        _condition("Degraded", "False"),
                    ]
                },
            },
        )
        for name in ("kube-apiserver", "network", "ingress", "image-registry")
    ]
    return [
        *operators,
        (
            "networks",
            {
                "apiVersion": "config.openshift.io/v1",
                "kind": "Network",
                "metadata": {"name": "cluster"},
                "status": {"networkType": "OVNKubernetes"},
            },
        ),
        (
            "networks",
            {
                "apiVersion": "operator.openshift.io/v1",
                "kind": "Network",
                "metadata": {"name": "cluster"},
                "spec": {"defaultNetwork": {"type": "OVNKubernetes", "ovnKubernetesConfig": {}}},
            },
        ),
        (
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cluster-config-v1", "namespace": "kube-system"},
                "data": {"install-config": INSTALL_CONFIG},
            },
        ),
        ("deployments", _deployment("openshift-image-registry", "image-registry")),
        ("deployments", _deployment("openshift-catalogd", "catalogd-controller-manager")),
        ("deployments", _deployment("openshift-cnv", "virt-operator")),
        (
            "ingresscontrollers",
            {
                "apiVersion": "operator.openshift.io/v1",
                "kind": "IngressController",
                "metadata": {"name": "default", "namespace": "openshift-ingress-operator"},
                "status": {"domain": INGRESS_DOMAIN},
            },
        ),
    ]


def ready_nodes() -> list[dict[str, Any]]:
    """Three control-plane and three worker nodes, Ready (KB pkg/util/cluster_health.go:21-44)."""
    nodes = [node(f"master-{i}", roles=("control-plane", "master")) for i in range(3)]
    nodes += [node(f"worker-{i}") for i in range(3)]
    for body in nodes:
        body["status"]["conditions"] = [
            _condition("Ready"),
            _condition("MemoryPressure", "False"),
            _condition("DiskPressure", "False"),
        ]
    return nodes


def seed_openshift(
    api_client: kubernetes.client.ApiClient,
    contract: Contract,
    *,
    parts: Iterable[str] = ALL_PARTS,
) -> None:
    """Make the API look like an OpenShift 4.19 cluster to kube-burner-ocp (idempotent)."""
    wanted = set(parts)
    if "crds" in wanted:
        for crd in contract_crds(contract, served(api_client)):
            ensure(api_client, "customresourcedefinitions", crd)
    if "namespaces" in wanted:
        for name in NAMESPACES:
            ensure(
                api_client,
                "namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
    if "openshift" in wanted:
        for plural, body in openshift_objects():
            ensure(api_client, plural, body)
    if "infrastructure" in wanted:
        infra = infrastructure("AWS", tags={})
        ensure(api_client, "infrastructures", infra)
        version = json.loads(json.dumps(CLUSTER_VERSION))
        version["status"]["history"] = [{"state": "Completed", "version": OCP_VERSION}]
        ensure(api_client, "clusterversions", version)
    if "nodes" in wanted:
        for body in ready_nodes():
            ensure(api_client, "nodes", body)


def bind_workload_role(
    api_client: kubernetes.client.ApiClient,
    contract: Contract,
    namespace: str,
    workload: str | None,
    *,
    rules: Sequence[Rule] | None = None,
) -> dict[str, Any]:
    """The ServiceAccount kube-burner runs as in ``namespace``, bound to the workload's
    ClusterRole (``rules`` replaces the generated ones, for tests that take one away)."""
    role = build_cluster_role(
        cluster_role_name(workload), role_rules(contract, workload) if rules is None else rules
    )
    path = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    status, current = request(api_client, "GET", f"{path}/{role['metadata']['name']}")
    if status == 200:
        role["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        request(api_client, "PUT", f"{path}/{role['metadata']['name']}", role)
    else:
        ensure(api_client, "clusterroles", role)
    ensure(api_client, "serviceaccounts", build_service_account(namespace))
    ensure(
        api_client,
        "clusterrolebindings",
        build_cluster_role_binding(namespace, role["metadata"]["name"]),
    )
    return role


def delete_quietly(api_client: kubernetes.client.ApiClient, path: str) -> None:
    with contextlib.suppress(Exception):
        request(api_client, "DELETE", path)
