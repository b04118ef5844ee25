"""Which platform a target cluster runs on, from objects read off the target (pure).

A purely computational function with no side effects: the caller reads the objects (with the
target's client) and passes them in as plain dicts; a missing object is None or an empty list.

Evidence, strongest first (sources in the comments next to each constant):

1. OpenShift's ``infrastructures.config.openshift.io/cluster``: ``status.platformStatus.type``
   (the deprecated ``status.platform`` when the former is empty) names the cloud, and
   ``status.controlPlaneTopology: External`` means a hosted control plane (HyperShift: ROSA
   with hosted control planes, and any other HostedCluster).
2. ROSA: the AWS resource tag ``red-hat-clustertype: rosa`` in the same object's
   ``status.platformStatus.aws.resourceTags`` (``osd``: OpenShift Dedicated, managed, not ROSA).
3. ARO: an object of ``clusters.aro.openshift.io`` (kind Cluster, named ``cluster``), created
   by the ARO operator on every Azure Red Hat OpenShift cluster.
4. Plain Kubernetes: node ``spec.providerID`` prefixes; labels of managed node pools (EKS,
   GKE, AKS, IKS) say that the control plane is the provider's.

Where evidence disagrees, the Infrastructure object wins (the installer and HyperShift write
it; a stray object or label does not outrank it) and ``evidence`` names the disagreement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from perftest_operator.api.fields import dig, labels, mapping, sequence, text
from perftest_operator.api.spec import Platform

# openshift/api config/v1 types_infrastructure.go, TopologyMode "External": "the control plane
# is hosted externally to the cluster and ... its components are not visible within the
# cluster". HyperShift's support/globalconfig/infrastructure.go (ReconcileInfrastructure) sets
# it on every hosted cluster and copies the HostedCluster's AWS resource tags into
# status.platformStatus.aws.resourceTags.
EXTERNAL_TOPOLOGY = "External"

# The tag OCM puts on ROSA (classic and hosted control planes) and OSD clusters; read by
# cloud-bulldozer/go-commons ocp-metadata (ClusterType, default "self-managed") for
# kube-burner-ocp's metadata, and matched on by HyperShift's own ROSA checks.
CLUSTER_TYPE_TAG = "red-hat-clustertype"
ROSA_CLUSTER_TYPE = "rosa"
OSD_CLUSTER_TYPE = "osd"

# Azure/ARO-RP: CustomResourceDefinition clusters.aro.openshift.io (group aro.openshift.io,
# version v1alpha1, kind Cluster, cluster-scoped), the singleton named "cluster".
ARO_CLUSTER_RESOURCE = "clusters.aro.openshift.io"

# Label of the nodes of a HyperShift NodePool (supporting evidence when the Infrastructure
# object cannot be read).
HYPERSHIFT_NODE_POOL_LABEL = "hypershift.openshift.io/nodePool"

# status.platformStatus.type -> profile. Platforms without a profile of their own (vSphere,
# OpenStack, Nutanix, KubeVirt, External, ...) get the generic self-managed one: BareMetal.
OPENSHIFT_PLATFORM_TYPES: Mapping[str, Platform] = MappingProxyType(
    {
        "AWS": Platform.AWS,
        "Azure": Platform.AZURE,
        "GCP": Platform.GCP,
        "IBMCloud": Platform.IBM_CLOUD,
        "PowerVS": Platform.IBM_CLOUD,  # IBM Power Virtual Server runs in IBM Cloud
        "BareMetal": Platform.BARE_METAL,
        "None": Platform.BARE_METAL,  # installed without a cloud integration
    }
)

# node spec.providerID prefixes set by each cloud's controller manager.
PROVIDER_ID_PREFIXES: tuple[tuple[str, Platform], ...] = (
    ("aws://", Platform.AWS),
    ("azure://", Platform.AZURE),
    ("gce://", Platform.GCP),
    ("ibm://", Platform.IBM_CLOUD),
)

# Node labels that only a provider's managed Kubernetes puts on its node pools.
MANAGED_KUBERNETES_NODE_LABELS: tuple[tuple[str, str], ...] = (
    ("eks.amazonaws.com/nodegroup", "EKS"),
    ("eks.amazonaws.com/compute-type", "EKS"),
    ("cloud.google.com/gke-nodepool", "GKE"),
    ("kubernetes.azure.com/cluster", "AKS"),
    ("ibm-cloud.kubernetes.io/worker-id", "IKS"),
)


# The cloud that the nodes of a platform's clusters name in their providerIDs.
_NODE_CLOUD: Mapping[Platform, Platform | None] = MappingProxyType(
    {Platform.ROSA: Platform.AWS, Platform.ARO: Platform.AZURE, Platform.BARE_METAL: None}
)


@dataclass(frozen=True)
class DetectedPlatform:
    """What the target is. ``platform`` is never Auto; ``evidence`` says what decided it."""

    platform: Platform
    openshift: bool
    hosted_control_plane: bool
    managed: bool  # the control plane (and infra nodes) belong to a service provider
    evidence: str

    def describe(self) -> str:
        """As a person names it: "OpenShift on AWS", "plain Kubernetes on GCP (managed ...)"."""
        kind = "OpenShift" if self.openshift else "plain Kubernetes"
        managed = " (managed control plane)" if self.managed and not self.openshift else ""
        return f"{kind} on {self.platform.value}{managed}"


def _tags(platform_status: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for section, field in (("aws", "resourceTags"), ("gcp", "resourceLabels")):
        for tag in sequence(dig(platform_status, section, field)):
            key, value = text(mapping(tag).get("key")), mapping(tag).get("value")
            if key is not None and isinstance(value, str):
                found[key] = value
    return found


def _cloud_from_nodes(nodes: Sequence[Mapping[str, Any]]) -> tuple[Platform | None, str]:
    """The cloud that the nodes' providerIDs name (most nodes win) and a note on the count."""
    counts: Counter[Platform] = Counter()
    for node in nodes:
        provider_id = text(dig(node, "spec", "providerID")) or ""
        for prefix, platform in PROVIDER_ID_PREFIXES:
            if provider_id.startswith(prefix):
                counts[platform] += 1
                break
    if not counts:
        return None, f"no cloud providerID on {len(nodes)} node(s)"
    order = [platform for _, platform in PROVIDER_ID_PREFIXES]
    ranked = sorted(counts, key=lambda p: (-counts[p], order.index(p)))
    note = ", ".join(f"{p.value} on {counts[p]}" for p in ranked)
    if len(ranked) > 1:
        return ranked[0], f"node providerIDs conflict: {note} of {len(nodes)} node(s)"
    return ranked[0], f"node providerIDs: {note} of {len(nodes)} node(s)"


def _managed_kubernetes(nodes: Sequence[Mapping[str, Any]]) -> str | None:
    for node in nodes:
        node_labels = labels(node)
        for label, service in MANAGED_KUBERNETES_NODE_LABELS:
            if label in node_labels:
                return f"{service} (node label {label})"
    return None


def _hypershift_nodes(nodes: Sequence[Mapping[str, Any]]) -> bool:
    return any(HYPERSHIFT_NODE_POOL_LABEL in labels(node) for node in nodes)


def _detect_openshift(
    infrastructure: Mapping[str, Any],
    aro_clusters: Sequence[Mapping[str, Any]],
    nodes: Sequence[Mapping[str, Any]],
) -> DetectedPlatform:
    status = mapping(infrastructure.get("status"))
    platform_status = mapping(status.get("platformStatus"))
    type_name = text(platform_status.get("type")) or text(status.get("platform")) or "None"
    topology = text(status.get("controlPlaneTopology"))
    hosted = topology == EXTERNAL_TOPOLOGY
    evidence = [f"Infrastructure cluster: platformStatus.type={type_name}"]
    if topology is not None:
        evidence.append(f"controlPlaneTopology={topology}")
    if hosted is False and _hypershift_nodes(nodes):
        evidence.append(
            f"nodes carry {HYPERSHIFT_NODE_POOL_LABEL} but the Infrastructure object wins"
        )

    platform = OPENSHIFT_PLATFORM_TYPES.get(type_name)
    if platform is None:
        platform = Platform.BARE_METAL
        evidence.append(f"no profile for {type_name}: treated as BareMetal (self-managed)")
    managed = hosted

    cluster_type = _tags(platform_status).get(CLUSTER_TYPE_TAG)
    if cluster_type is not None:
        evidence.append(f"tag {CLUSTER_TYPE_TAG}={cluster_type}")
        if cluster_type == ROSA_CLUSTER_TYPE and platform is Platform.AWS:
            platform, managed = Platform.ROSA, True
        elif cluster_type == ROSA_CLUSTER_TYPE:
            evidence.append(f"ignored: ROSA runs on AWS, not {type_name}")
        elif cluster_type == OSD_CLUSTER_TYPE:
            managed = True
            evidence.append("OpenShift Dedicated: managed")

    if aro_clusters:
        if type_name == "Azure" and platform is Platform.AZURE:
            platform, managed = Platform.ARO, True
            evidence.append(f"{ARO_CLUSTER_RESOURCE} object present")
        else:
            evidence.append(f"{ARO_CLUSTER_RESOURCE} object ignored: ARO runs on Azure")

    cloud, note = _cloud_from_nodes(nodes)
    if cloud is not None and cloud is not _NODE_CLOUD.get(platform, platform):
        evidence.append(f"{note}, but the Infrastructure object wins")
    return DetectedPlatform(platform, True, hosted, managed, "; ".join(evidence))


def _detect_without_infrastructure(
    *,
    openshift: bool,
    aro_clusters: Sequence[Mapping[str, Any]],
    nodes: Sequence[Mapping[str, Any]],
) -> DetectedPlatform:
    evidence = (
        ["ClusterVersion present but no Infrastructure object"]
        if openshift
        else ["no Infrastructure or ClusterVersion: plain Kubernetes"]
    )
    cloud, note = _cloud_from_nodes(nodes)
    evidence.append(note)
    platform = cloud or Platform.BARE_METAL
    hosted = managed = False
    if aro_clusters:
        if cloud in (None, Platform.AZURE):
            platform, openshift, managed = Platform.ARO, True, True
            evidence.append(f"{ARO_CLUSTER_RESOURCE} object present")
        else:
            evidence.append(f"{ARO_CLUSTER_RESOURCE} object ignored: nodes are on {cloud.value}")
    if openshift and _hypershift_nodes(nodes):
        hosted = managed = True
        evidence.append(f"nodes carry {HYPERSHIFT_NODE_POOL_LABEL}: hosted control plane")
    service = None if openshift else _managed_kubernetes(nodes)
    if service is not None:
        hosted = managed = True
        evidence.append(f"managed Kubernetes: {service}")
    return DetectedPlatform(platform, openshift, hosted, managed, "; ".join(evidence))


def detect_platform(
    *,
    infrastructure: Mapping[str, Any] | None,
    aro_clusters: Sequence[Mapping[str, Any]],
    cluster_version: Mapping[str, Any] | None,
    nodes: Sequence[Mapping[str, Any]],
) -> DetectedPlatform:
    """The target's platform from its Infrastructure, ARO Cluster objects, ClusterVersion and nodes.

    ``infrastructure`` is ``infrastructures.config.openshift.io/cluster`` (None where the API
    does not exist or cannot be read), ``aro_clusters`` the items of
    ``clusters.aro.openshift.io``, ``cluster_version`` ``clusterversions.config.openshift.io/
    version``. A purely computational function with no side effects.
    """
    if infrastructure is not None:
        return _detect_openshift(infrastructure, aro_clusters, nodes)
    return _detect_without_infrastructure(
        openshift=cluster_version is not None, aro_clusters=aro_clusters, nodes=nodes
    )


# Platforms that are managed services of OpenShift: declaring one says so even where the
# target hides the evidence.
MANAGED_OPENSHIFT_PLATFORMS = frozenset({Platform.ROSA, Platform.ARO})


def with_declared_platform(detected: DetectedPlatform, declared: Platform) -> DetectedPlatform:
    """`detected`, overruled by the PerfTest's `spec.target.platform` unless that is Auto.

    A purely computational function with no side effects. The declaration names the profile;
    what was detected stays in the evidence, so a wrong declaration is visible in status.
    """
    if declared is Platform.AUTO or declared is detected.platform:
        return detected
    managed_openshift = declared in MANAGED_OPENSHIFT_PLATFORMS
    return DetectedPlatform(
        platform=declared,
        openshift=detected.openshift or managed_openshift,
        hosted_control_plane=detected.hosted_control_plane,
        managed=detected.managed or managed_openshift,
        evidence=f"declared {declared.value} (detected {detected.platform.value}: "
        f"{detected.evidence})",
    )
