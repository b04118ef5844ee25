"""Platform detection from the objects each kind of target has, and where each one's Job may run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localstack.target_objects import (
    ARO_CLUSTER,
    CLUSTER_VERSION,
    cluster_nodes,
    infrastructure,
    node,
)
from perftest_operator.api.spec import Platform
from perftest_operator.target.platform import DetectedPlatform, detect_platform
from perftest_operator.target.profiles import profile_for

ROSA_TAGS = {"red-hat-clustertype": "rosa", "red-hat-managed": "true"}


@dataclass(frozen=True)
class Case:
    infrastructure: dict[str, Any] | None
    nodes: list[dict[str, Any]]
    platform: Platform
    openshift: bool
    hosted: bool
    managed: bool
    aro_clusters: list[dict[str, Any]] = field(default_factory=list)
    cluster_version: dict[str, Any] | None = None
    evidence: tuple[str, ...] = ()  # phrases the evidence must contain


def openshift(infra: dict[str, Any], nodes: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"infrastructure": infra, "nodes": nodes, "cluster_version": CLUSTER_VERSION, **kw}


CASES: dict[str, Case] = {
    # The seven platforms, as OpenShift (self-managed) and managed services.
    "openshift-aws": Case(
        infrastructure("AWS"),
        cluster_nodes("aws:///us-east-1a/i-"),
        Platform.AWS,
        True,
        False,
        False,
        evidence=("platformStatus.type=AWS",),
    ),
    "openshift-azure": Case(
        infrastructure("Azure"),
        cluster_nodes("azure:///subscriptions/s/"),
        Platform.AZURE,
        True,
        False,
        False,
    ),
    "openshift-gcp": Case(
        infrastructure("GCP"),
        cluster_nodes("gce://project/us-central1-a/"),
        Platform.GCP,
        True,
        False,
        False,
    ),
    "openshift-ibmcloud": Case(
        infrastructure("IBMCloud"),
        cluster_nodes("ibm://account///cluster/"),
        Platform.IBM_CLOUD,
        True,
        False,
        False,
    ),
    "openshift-baremetal": Case(
        infrastructure("BareMetal"), cluster_nodes(None), Platform.BARE_METAL, True, False, False
    ),
    "openshift-platform-none": Case(
        infrastructure("None"), cluster_nodes(None), Platform.BARE_METAL, True, False, False
    ),
    "rosa-classic": Case(
        infrastructure("AWS", tags=ROSA_TAGS),
        cluster_nodes("aws:///us-east-1a/i-"),
        Platform.ROSA,
        True,
        False,
        True,
        evidence=("red-hat-clustertype=rosa",),
    ),
    "rosa-hosted-control-plane": Case(
        infrastructure("AWS", topology="External", tags=ROSA_TAGS),
        [
            node(
                f"w{i}",
                provider_id=f"aws:///us-east-1a/i-{i}",
                labels={"hypershift.openshift.io/nodePool": "np"},
            )
            for i in range(3)
        ],
        Platform.ROSA,
        True,
        True,
        True,
        evidence=("controlPlaneTopology=External",),
    ),
    "aro": Case(
        infrastructure("Azure"),
        cluster_nodes("azure:///subscriptions/s/"),
        Platform.ARO,
        True,
        False,
        True,
        aro_clusters=[ARO_CLUSTER],
        evidence=("clusters.aro.openshift.io object present",),
    ),
    # Hosted control planes that are not ROSA.
    "hypershift-kubevirt": Case(
        infrastructure("None", topology="External"),
        cluster_nodes(None, control_plane=False),
        Platform.BARE_METAL,
        True,
        True,
        True,
    ),
    "hypershift-azure": Case(
        infrastructure("Azure", topology="External"),
        cluster_nodes("azure:///s/", control_plane=False),
        Platform.AZURE,
        True,
        True,
        True,
    ),
    "openshift-dedicated": Case(
        infrastructure("AWS", tags={"red-hat-clustertype": "osd"}),
        cluster_nodes("aws:///z/i-"),
        Platform.AWS,
        True,
        False,
        True,
        evidence=("OpenShift Dedicated",),
    ),
    "openshift-vsphere": Case(
        infrastructure("VSphere"),
        cluster_nodes("vsphere://4237"),
        Platform.BARE_METAL,
        True,
        False,
        False,
        evidence=("no profile for VSphere",),
    ),
    "openshift-deprecated-platform-field": Case(
        infrastructure("", deprecated_platform="GCP"),
        cluster_nodes("gce://p/z/"),
        Platform.GCP,
        True,
        False,
        False,
    ),
    "openshift-powervs": Case(
        infrastructure("PowerVS"), cluster_nodes(None), Platform.IBM_CLOUD, True, False, False
    ),
    # Plain Kubernetes: node providerIDs.
    "kubernetes-aws": Case(
        None,
        cluster_nodes("aws:///us-east-1a/i-"),
        Platform.AWS,
        False,
        False,
        False,
        evidence=("plain Kubernetes", "AWS on 8 of 8"),
    ),
    "kubernetes-azure": Case(
        None, cluster_nodes("azure:///subscriptions/s/"), Platform.AZURE, False, False, False
    ),
    "kubernetes-gcp": Case(
        None, cluster_nodes("gce://project/zone/"), Platform.GCP, False, False, False
    ),
    "kubernetes-ibmcloud": Case(
        None, cluster_nodes("ibm://acct///c/"), Platform.IBM_CLOUD, False, False, False
    ),
    "kubernetes-baremetal": Case(
        None,
        cluster_nodes(None),
        Platform.BARE_METAL,
        False,
        False,
        False,
        evidence=("no cloud providerID",),
    ),
    "kubernetes-kind": Case(
        None, cluster_nodes("kind://docker/kind/"), Platform.BARE_METAL, False, False, False
    ),
    "kubernetes-no-nodes": Case(None, [], Platform.BARE_METAL, False, False, False),
    "eks": Case(
        None,
        [
            node(
                f"n{i}",
                provider_id=f"aws:///z/i-{i}",
                roles=(),
                labels={"eks.amazonaws.com/nodegroup": "ng"},
            )
            for i in range(2)
        ],
        Platform.AWS,
        False,
        True,
        True,
        evidence=("EKS",),
    ),
    "gke": Case(
        None,
        [
            node(
                "n",
                provider_id="gce://p/z/n",
                roles=(),
                labels={"cloud.google.com/gke-nodepool": "default-pool"},
            )
        ],
        Platform.GCP,
        False,
        True,
        True,
        evidence=("GKE",),
    ),
    "aks": Case(
        None,
        [
            node(
                "n",
                provider_id="azure:///s/n",
                roles=(),
                labels={"kubernetes.azure.com/cluster": "MC_rg"},
            )
        ],
        Platform.AZURE,
        False,
        True,
        True,
        evidence=("AKS",),
    ),
    # OpenShift without a readable Infrastructure object.
    "clusterversion-only": Case(
        None,
        cluster_nodes("gce://p/z/"),
        Platform.GCP,
        True,
        False,
        False,
        cluster_version=CLUSTER_VERSION,
        evidence=("no Infrastructure object",),
    ),
    "clusterversion-only-hypershift-nodes": Case(
        None,
        [node("w", provider_id="aws:///z/i-1", labels={"hypershift.openshift.io/nodePool": "np"})],
        Platform.AWS,
        True,
        True,
        True,
        cluster_version=CLUSTER_VERSION,
    ),
    "aro-object-without-infrastructure": Case(
        None,
        cluster_nodes("azure:///s/"),
        Platform.ARO,
        True,
        False,
        True,
        aro_clusters=[ARO_CLUSTER],
    ),
    # Conflicting evidence: the Infrastructure object wins, and the evidence says what disagreed.
    "conflict-aro-object-on-aws": Case(
        infrastructure("AWS"),
        cluster_nodes("aws:///z/i-"),
        Platform.AWS,
        True,
        False,
        False,
        aro_clusters=[ARO_CLUSTER],
        evidence=("clusters.aro.openshift.io object ignored",),
    ),
    "conflict-rosa-tag-on-azure": Case(
        infrastructure("Azure", tags=ROSA_TAGS),
        cluster_nodes("azure:///s/"),
        Platform.AZURE,
        True,
        False,
        False,
        evidence=("ignored: ROSA runs on AWS",),
    ),
    "conflict-rosa-tag-and-aro-object": Case(
        infrastructure("AWS", tags=ROSA_TAGS),
        cluster_nodes("aws:///z/i-"),
        Platform.ROSA,
        True,
        False,
        True,
        aro_clusters=[ARO_CLUSTER],
        evidence=("object ignored",),
    ),
    "conflict-platform-none-on-aws-nodes": Case(
        infrastructure("None"),
        cluster_nodes("aws:///z/i-"),
        Platform.BARE_METAL,
        True,
        False,
        False,
        evidence=("AWS on 8 of 8 node(s), but the Infrastructure object wins",),
    ),
    "conflict-hypershift-labels-but-highly-available": Case(
        infrastructure("AWS"),
        [node("w", provider_id="aws:///z/i-1", labels={"hypershift.openshift.io/nodePool": "np"})],
        Platform.AWS,
        True,
        False,
        False,
        evidence=("but the Infrastructure object wins",),
    ),
    "conflict-mixed-providers-majority": Case(
        None,
        [
            *cluster_nodes("gce://p/z/", control_plane=False),
            node("odd", provider_id="aws:///z/i-9"),
        ],
        Platform.GCP,
        False,
        False,
        False,
        evidence=("providerIDs conflict: GCP on 3, AWS on 1 of 4",),
    ),
    "conflict-mixed-providers-tie-follows-table-order": Case(
        None,
        [node("a", provider_id="gce://p/z/a"), node("b", provider_id="aws:///z/i-b")],
        Platform.AWS,
        False,
        False,
        False,
    ),
    "conflict-aro-object-on-gcp-nodes": Case(
        None,
        cluster_nodes("gce://p/z/"),
        Platform.GCP,
        False,
        False,
        False,
        aro_clusters=[ARO_CLUSTER],
        evidence=("ignored: nodes are on GCP",),
    ),
}


def detect(case: Case) -> DetectedPlatform:
    cluster_version = case.cluster_version
    if case.infrastructure is not None:
        cluster_version = CLUSTER_VERSION
    return detect_platform(
        infrastructure=case.infrastructure,
        aro_clusters=case.aro_clusters,
        cluster_version=cluster_version,
        nodes=case.nodes,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_detects_the_platform_from_the_target_objects(case: Case) -> None:
    detected = detect(case)
    assert (
        detected.platform,
        detected.openshift,
        detected.hosted_control_plane,
        detected.managed,
    ) == (
        case.platform,
        case.openshift,
        case.hosted,
        case.managed,
    ), detected.evidence
    for phrase in case.evidence:
        assert phrase in detected.evidence


def test_all_seven_platforms_are_covered_by_the_table() -> None:
    detected = {detect(case).platform for case in CASES.values()}
    assert detected == set(Platform) - {Platform.AUTO}


def _matches(expression: Mapping[str, Any], node_labels: Mapping[str, str]) -> bool:
    operator, key = expression["operator"], expression["key"]
    if operator == "DoesNotExist":
        return key not in node_labels
    if operator == "Exists":
        return key in node_labels
    if operator == "In":
        return node_labels.get(key) in expression["values"]
    raise AssertionError(f"operator {operator} not modelled")


def schedulable_nodes(pod: Mapping[str, Any], nodes: list[dict[str, Any]]) -> list[str]:
    """The nodes the scheduler may place ``pod`` on (selector, required affinity, taints)."""
    fits = []
    for candidate in nodes:
        node_labels = candidate["metadata"]["labels"]
        if any(node_labels.get(k) != v for k, v in pod["nodeSelector"].items()):
            continue
        required = (
            pod.get("affinity", {})
            .get("nodeAffinity", {})
            .get("requiredDuringSchedulingIgnoredDuringExecution")
        )
        if required and not any(
            all(_matches(e, node_labels) for e in term["matchExpressions"])
            for term in required["nodeSelectorTerms"]
        ):
            continue
        taints = candidate["spec"].get("taints", [])
        tolerated = {t.get("key") for t in pod["tolerations"]}
        if any(t["effect"] == "NoSchedule" and t["key"] not in tolerated for t in taints):
            continue
        fits.append(candidate["metadata"]["name"])
    return fits


PLACEMENT = {
    # managed services: only the workers, even if a control-plane or infra node lost its taint
    "rosa-classic": ["worker-0", "worker-1", "worker-2"],
    "aro": ["worker-0", "worker-1", "worker-2"],
    "openshift-dedicated": ["worker-0", "worker-1", "worker-2"],
    "rosa-hosted-control-plane": ["w0", "w1", "w2"],
    # self-managed: untainted nodes are allowed; control-plane nodes only by preference avoided
    "openshift-aws": [
        "master-0",
        "master-1",
        "master-2",
        "infra-0",
        "infra-1",
        "worker-0",
        "worker-1",
        "worker-2",
    ],
    "kubernetes-baremetal": [
        "master-0",
        "master-1",
        "master-2",
        "infra-0",
        "infra-1",
        "worker-0",
        "worker-1",
        "worker-2",
    ],
}


@pytest.mark.parametrize("name", PLACEMENT)
def test_the_job_is_placed_by_the_detected_platforms_profile(name: str) -> None:
    case = CASES[name]
    pod = profile_for(detect(case)).scheduling.pod_spec_fields()
    assert schedulable_nodes(pod, case.nodes) == PLACEMENT[name]


def test_tainted_control_plane_nodes_are_never_tolerated() -> None:
    nodes = cluster_nodes("aws:///z/i-")
    for candidate in nodes[:3]:
        candidate["spec"]["taints"] = [
            {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
        ]
    for infra in (infrastructure("AWS"), infrastructure("AWS", tags=ROSA_TAGS)):
        detected = detect_platform(
            infrastructure=infra, aro_clusters=[], cluster_version=CLUSTER_VERSION, nodes=nodes
        )
        pod = profile_for(detected).scheduling.pod_spec_fields()
        assert not {"master-0", "master-1", "master-2"} & set(schedulable_nodes(pod, nodes))


def test_self_managed_profiles_prefer_to_avoid_control_plane_nodes() -> None:
    detected = detect(CASES["openshift-aws"])
    pod = profile_for(detected).scheduling.pod_spec_fields()
    preferred = pod["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    keys = {e["key"] for term in preferred for e in term["preference"]["matchExpressions"]}
    assert keys == {"node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(
    st.sampled_from(["status", "spec", "metadata", "kind"]), json_values, max_size=4
)


@settings(max_examples=200, deadline=None)
@given(
    infra=st.none() | objects,
    nodes=st.lists(objects, max_size=4),
    aro=st.lists(objects, max_size=1),
)
def test_malformed_objects_never_crash_and_never_give_auto(
    infra: dict[str, Any] | None, nodes: list[dict[str, Any]], aro: list[dict[str, Any]]
) -> None:
    detected = detect_platform(
        infrastructure=infra, aro_clusters=aro, cluster_version=None, nodes=nodes
    )
    assert detected.platform is not Platform.AUTO
    assert detected.evidence
