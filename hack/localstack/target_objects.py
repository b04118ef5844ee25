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
    taints: tuple[dict[str, str], ...] = (),
) -> dict[str, Any]:
    all_labels = {"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}
    all_labels.update({f"node-role.kubernetes.io/{role}": "" for role in roles})
    all_labels.update(labels or {})
    spec: dict[str, Any] = {}
    if provider_id is not None:
        spec["providerID"] = provider_id
    if taints:
        spec["taints"] = [dict(taint) for taint in taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": spec,
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {
                "kernelVersion": kernel,
                "osImage": os_image,
                "kubeletVersion": kubelet,
                "containerRuntimeVersion": runtime,
                "architecture": "amd64",
                "operatingSystem": "linux",
                # Required by the client's schema; the operator never reads them.
                "bootID": f"boot-{name}",
                "machineID": f"machine-{name}",
                "systemUUID": f"uuid-{name}",
                "kubeProxyVersion": "",
            },
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


# Plain Kubernetes, as each provider's nodes show it: providerID prefix and a managed node pool's
# label (the ones target.platform reads), no role labels on the workers; kubeadm on bare metal
# labels and taints its control plane (kubernetes.io/docs/reference/labels-annotations-taints:
# node-role.kubernetes.io/control-plane, taint node-role.kubernetes.io/control-plane:NoSchedule).
PLAIN_KUBERNETES: dict[str, tuple[str | None, dict[str, str]]] = {
    "EKS": ("aws:///us-east-1a/i-0", {"eks.amazonaws.com/nodegroup": "perf"}),
    "GKE": (
        "gce://perf-project/us-central1-a/gke-perf-",
        {"cloud.google.com/gke-nodepool": "perf"},
    ),
    "AKS": (
        "azure:///subscriptions/0/resourceGroups/mc_perf/providers/Microsoft.Compute/virtualMachineScaleSets/aks-perf/virtualMachines/",
        {"kubernetes.azure.com/cluster": "mc_perf"},
    ),
    "IKS": (
        "ibm://account/us-south/us-south-1/kube-perf-",
        {"ibm-cloud.kubernetes.io/worker-id": "kube-perf"},
    ),
    "kubeadm": (None, {}),
}
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def plain_kubernetes_nodes(provider: str, workers: int = 3) -> list[dict[str, Any]]:
    """``workers`` Ready worker nodes of a plain Kubernetes provider (PLAIN_KUBERNETES), with the
    control plane a self-managed cluster shows (kubeadm's) and a managed one hides."""
    prefix, pool = PLAIN_KUBERNETES[provider]
    os_image = "Ubuntu 24.04.1 LTS"
    nodes = [
        node(
            f"{provider.lower()}-worker-{i}",
            provider_id=None if prefix is None else f"{prefix}{i}",
            roles=(),
            labels=pool,
            os_image=os_image,
            kernel="6.8.0-1021-aws",
            runtime="containerd://1.7.24",
        )
        for i in range(workers)
    ]
    if prefix is None:
        nodes.append(
            node(
                "kubeadm-control-plane-0",
                roles=("control-plane",),
                taints=(CONTROL_PLANE_TAINT,),
                os_image=os_image,
                runtime="containerd://1.7.24",
            )
        )
    return nodes


# The OpenShift and ARO resource types that platform detection reads, as minimal CRDs, so that
# an emulated target can serve them (a real OpenShift cluster has them built in).
_TARGET_TYPES = (
    ("config.openshift.io", "v1", "infrastructures", "Infrastructure"),
    ("config.openshift.io", "v1", "clusterversions", "ClusterVersion"),
    ("aro.openshift.io", "v1alpha1", "clusters", "Cluster"),
)


def preserving_crd(group: str, version: str, plural: str, kind: str, scope: str) -> dict[str, Any]:
    """A CRD that serves `plural` with any fields (the shape of an API the operator only reads)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": version,
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


def target_crds() -> list[dict[str, Any]]:
    """Cluster-scoped CRDs for Infrastructure, ClusterVersion and ARO's Cluster (any fields)."""
    return [preserving_crd(*names, "Cluster") for names in _TARGET_TYPES]


# OpenShift's Route, where thanos-querier's external address is published.
ROUTE_CRD = preserving_crd("route.openshift.io", "v1", "routes", "Route", "Namespaced")
