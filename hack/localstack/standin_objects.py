"""The objects the stand-in creates: minimal but valid bodies, with kube-burner's labels; pure.

kube-burner renders each object template and adds its labels before it creates the object
(KB v1.17.2 pkg/burner/create.go:134-142,211-227, pkg/burner/utils.go:44-104): every object gets
``kube-burner-uuid``, ``kube-burner-job``, ``kube-burner-index`` (the object's position in the
job), ``kube-burner-runid``, ``kube-burner.io/job-iteration`` and ``kube-burner.io/replica``; the
pod templates of Deployments, DaemonSets, ReplicaSets, StatefulSets and VirtualMachines get them
too. Namespaces get ``kube-burner-job``, ``kube-burner-uuid`` and ``kube-burner-runid``
(create.go:91-101). The bodies here are not kube-burner-ocp's templates: they are the smallest
objects of each kind an API server accepts, since what the stand-in proves is which requests
are made and allowed, not what the cluster does with the objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.contract.model import GrantedRule

PAUSE_IMAGE = "registry.k8s.io/pause:3.1"  # kube-burner's preload DaemonSet's (pre_load.go:175)
JOB_ITERATION_LABEL = "kube-burner.io/job-iteration"  # KB pkg/config/types.go:253-256
REPLICA_LABEL = "kube-burner.io/replica"
PRELOAD_NAMESPACE = "preload-kube-burner"  # KB pkg/burner/pre_load.go:36
PRELOAD_LABEL = "kube-burner-preload"
# Kinds whose pod template carries the object's labels (KB pkg/burner/utils.go:44-104).
RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})
_TEMPLATED = frozenset({"Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "VirtualMachine"})
_CONTAINER = {"name": "standin", "image": PAUSE_IMAGE}


def namespace_labels(job: str, uuid: str, runid: str) -> dict[str, str]:
    return {"kube-burner-job": job, "kube-burner-uuid": uuid, "kube-burner-runid": runid}


def object_labels(
    *, job: str, uuid: str, runid: str, index: int, iteration: int, replica: int
) -> dict[str, str]:
    return {
        "kube-burner-uuid": uuid,
        "kube-burner-job": job,
        "kube-burner-index": str(index),
        "kube-burner-runid": runid,
        JOB_ITERATION_LABEL: str(iteration),
        REPLICA_LABEL: str(replica),
    }


def namespace_body(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels)},
    }


def object_name(kind: str, job: int, index: int, iteration: int, replica: int) -> str:
    """Unique within a run, whether its jobs and iterations share a namespace or not."""
    return f"{kind.lower()}-{job}-{index}-{iteration}-{replica}"


def _pod_spec() -> dict[str, Any]:
    return {"containers": [dict(_CONTAINER)]}


def _spec(kind: str, name: str, labels: Mapping[str, str]) -> dict[str, Any] | None:
    selector = {"app": name}
    template = {"metadata": {"labels": {**labels, **selector}}, "spec": _pod_spec()}
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        return {"replicas": 1, "selector": {"matchLabels": selector}, "template": template}
    if kind == "DaemonSet":
        return {"selector": {"matchLabels": selector}, "template": template}
    if kind == "Pod":
        return _pod_spec()
    if kind == "Service":
        return {"selector": selector, "ports": [{"port": 8080, "targetPort": 8080}]}
    if kind == "Route":
        return {"to": {"kind": "Service", "name": name}}
    if kind == "NetworkPolicy":
        return {"podSelector": {}, "policyTypes": ["Ingress"]}
    if kind == "PersistentVolumeClaim":
        return {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if kind == "Build":
        return {"strategy": {"type": "Docker"}, "source": {"dockerfile": "FROM scratch"}}
    if kind == "VirtualMachine":
        return {"runStrategy": "Always", "template": template}
    if kind in ("Secret", "ConfigMap", "StorageClass", "CustomResourceDefinition"):
        return None
    return {}


def _crd(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """A CustomResourceDefinition (crd-scale), valid for the API server's validation."""
    plural = name.replace("-", "")
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.standin.kube-burner.io", "labels": dict(labels)},
        "spec": {
            "group": "standin.kube-burner.io",
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural, "kind": "Standin" + plural.title()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def object_body(
    api_version: str,
    kind: str,
    name: str,
    labels: Mapping[str, str],
    namespace: str | None,
    *,
    grants: Sequence[GrantedRule] = (),
    role_ref: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The smallest valid object of ``kind``, named and labelled as kube-burner labels it.

    A Role or ClusterRole carries the rules its template grants (``grants``); a binding refers
    to ``role_ref`` (kind, name), the role its job created before it, as the templates do.
    """
    if kind == "CustomResourceDefinition":
        return _crd(name, labels)
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace:
        metadata["namespace"] = namespace
    body: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    if kind in ROLE_KINDS:
        body["rules"] = [_rule(granted) for granted in grants]
        return body
    if kind in BINDING_KINDS:
        role_kind, role_name = role_ref or ("ClusterRole", "view")
        body["roleRef"] = {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role_name}
        body["subjects"] = []
        return body
    spec = _spec(kind, name, labels if kind in _TEMPLATED else {})
    if spec is not None:
        body["spec"] = spec
    if kind == "Secret":
        body["stringData"] = {"standin": name}
    elif kind == "ConfigMap":
        body["data"] = {"standin": name}
    elif kind == "StorageClass":
        body["provisioner"] = "kubernetes.io/no-provisioner"
    return body


def _rule(granted: GrantedRule) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "apiGroups": list(granted.api_groups),
        "resources": list(granted.resources),
        "verbs": list(granted.verbs),
    }
    if granted.resource_names:
        rule["resourceNames"] = list(granted.resource_names)
    return rule


def preload_daemonset(images: list[str]) -> dict[str, Any]:
    """kube-burner's image preloading DaemonSet (KB pkg/burner/pre_load.go:150-200)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"generateName": "preload"},
        "spec": {
            "selector": {"matchLabels": {"app": "preload"}},
            "template": {
                "metadata": {"labels": {"app": "preload"}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "initContainers": [
                        {
                            "name": f"container-{i}",
                            "image": image,
                            "imagePullPolicy": "Always",
                            "command": ["echo", f"init container-{i} completed"],
                        }
                        for i, image in enumerate(images)
                    ],
                    "containers": [
                        {"name": "sleep", "image": PAUSE_IMAGE, "imagePullPolicy": "Always"}
                    ],
                },
            },
        },
    }


def pod_body(name: str, namespace: str, image: str) -> dict[str, Any]:
    """A measurement's helper pod (svc-checker, network-policy-proxy; KB measurements/common.go)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"containers": [{"name": name, "image": image}]},
    }


def token_request(seconds: int) -> dict[str, Any]:
    return {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": seconds},
    }
