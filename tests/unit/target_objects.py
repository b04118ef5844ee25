"""Builders of the raw target objects (Infrastructure, ARO Cluster, Node) that tests feed to detection."""

from __future__ import annotations

from typing import Any


def infrastructure(
    platform_type: str,
    *,
    topology: str = "HighlyAvailable",
    tags: dict[str, str] | None = None,
    deprecated_platform: str | None = None,
) -> dict[str, Any]:
    platform_status: dict[str, Any] = {"type": platform_type}
    if tags is not None:
        platform_status["aws"] = {
            "region": "us-east-1",
            "resourceTags": [{"key": k, "value": v} for k, v in tags.items()],
        }
    status: dict[str, Any] = {
        "infrastructureName": "perf-x7k2p",
        "controlPlaneTopology": topology,
        "infrastructureTopology": "HighlyAvailable",
        "platformStatus": platform_status,
    }
    if deprecated_platform is not None:
        status["platform"] = deprecated_platform
        del status["platformStatus"]
    return {
        "apiVersion": "config.openshift.io/v1",
        "kind": "Infrastructure",
        "metadata": {"name": "cluster"},
        "status": status,
    }


ARO_CLUSTER: dict[str, Any] = {
    "apiVersion": "aro.openshift.io/v1alpha1",
    "kind": "Cluster",
    "metadata": {"name": "cluster"},
    "spec": {
        "resourceId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.RedHatOpenShift/openShiftClusters/z"
    },
}

CLUSTER_VERSION: dict[str, Any] = {
    "apiVersion": "config.openshift.io/v1",
    "kind": "ClusterVersion",
    "metadata": {"name": "version"},
    "status": {"desired": {"version": "4.19.0-0.nightly-2025-01-14-010203"}},
}


def node(
    name: str,
    *,
    provider_id: str | None = None,
    roles: tuple[str, ...] = ("worker",),
    labels: dict[str, str] | None = None,
    kernel: str = "5.14.0-427.50.1.el9_4.x86_64",
    os_image: str = "Red Hat Enterprise Linux CoreOS 419.94.202501140000-0",
    kubelet: str = "v1.32.0",
    runtime: str = "cri-o://1.32.0",
) -> dict[str, Any]:
    all_labels = {"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}
    all_labels.update({f"node-role.kubernetes.io/{role}": "" for role in roles})
    all_labels.update(labels or {})
    spec: dict[str, Any] = {}
    if provider_id is not None:
        spec["providerID"] = provider_id
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": spec,
        "status": {
            "nodeInfo": {
                "kernelVersion": kernel,
                "osImage": os_image,
                "kubeletVersion": kubelet,
                "containerRuntimeVersion": runtime,
                "architecture": "amd64",
            }
        },
    }


def cluster_nodes(provider: str | None, *, control_plane: bool = True) -> list[dict[str, Any]]:
    """Three control-plane, two infra and three worker nodes with ``provider``'s providerIDs."""

    def pid(i: int) -> str | None:
        return None if provider is None else f"{provider}node-{i}"

    nodes = []
    if control_plane:
        nodes += [
            node(f"master-{i}", provider_id=pid(i), roles=("control-plane", "master"))
            for i in range(3)
        ]
        nodes += [
            node(f"infra-{i}", provider_id=pid(10 + i), roles=("infra", "worker")) for i in range(2)
        ]
    nodes += [node(f"worker-{i}", provider_id=pid(20 + i)) for i in range(3)]
    return nodes
