"""Plain Kubernetes targets (EKS, GKE, AKS, IKS, kubeadm on bare metal) that really run.

The target is an API with no OpenShift API at all, whose nodes carry their provider's IDs and
node-pool labels and no worker role label; RBAC is enforced there. The operator on the hub
detects it, sets up kube-burner's account with each workload's ClusterRole from the contract,
and the simulated Job runs the stand-in for ``kube-burner init``, which reads the rendered
configuration from the run's ConfigMap and makes its requests with the Job's token. KPIs come
from a real Prometheus holding the API server's histograms as kube-prometheus labels them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, wait_for
from localstack.pod_security import check_pod
from localstack.prometheus import ReplayRun, replayed_prometheus
from localstack.remote_target import KEY, SECRET, TARGET_ENV, put_secret, target_kubeconfig
from localstack.story import replay_script
from localstack.target_objects import PLAIN_KUBERNETES, plain_kubernetes_nodes
from perftest_operator.contract.load import load_contract

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

WORKLOADS = tuple(load_contract().kubernetes_workloads)
# Platform as the operator names it, for each provider of the table.
DETECTED = {"EKS": "AWS", "GKE": "GCP", "AKS": "Azure", "IKS": "IBMCloud", "kubeadm": "BareMetal"}
API_KPIS = (
    "avg-ro-apicalls-latency-namespace",
    "max-ro-apicalls-latency-namespace",
    "avg-mutating-apicalls-latency",
    "max-mutating-apicalls-latency",
)


@pytest.fixture(scope="module")
def kube_prometheus_url(
    replay: list[ReplayRun], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Prometheus with the replayed nights, labelled as kube-prometheus scrapes them."""
    with replayed_prometheus(
        replay, tmp_path_factory.mktemp("kube-prometheus"), monitoring="kube-prometheus"
    ) as server:
        yield server.url


@pytest.fixture()
def plain_target(plain_target_cluster: Cluster) -> Iterator[Kube]:
    """A client of the plain target and a fresh namespace there that enforces the restricted Pod
    Security Standard, as a careful admin labels it: the Job's pod is admitted only if it meets
    the standard (the emulator's PodSecurity admission, or the real cluster's)."""
    kube = Kube(plain_target_cluster.api_client(), f"pt-plain-{secrets.token_hex(4)}")
    kube.core.create_namespace(
        {
            "metadata": {
                "name": kube.namespace,
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            }
        }
    )
    yield kube
    with contextlib.suppress(ApiException):
        kube.core.delete_namespace(kube.namespace)


@pytest.fixture()
def provider_nodes(
    plain_target: Kube, plain_target_cluster: Cluster
) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Creates a provider's nodes on the emulated plain target; deletes them after the test."""
    if not plain_target_cluster.emulated:
        pytest.skip("fabricates Node objects: emulated targets only")
    created: list[str] = []

    def create(provider: str) -> list[dict[str, Any]]:
        nodes = plain_kubernetes_nodes(provider)
        for node in nodes:
            plain_target.core.create_node(node)
            plain_target.core.patch_node_status(
                node["metadata"]["name"], {"status": node["status"]}
            )
            created.append(node["metadata"]["name"])
        return nodes

    yield create
    for name in created:
        with contextlib.suppress(ApiException):
            plain_target.core.delete_node(name)


def plain_perftest(name: str, workload: str, prometheus_url: str, namespace: str) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "target": {
                "platform": "Auto",
                "namespace": namespace,
                "kubeconfigSecretRef": {"name": SECRET, "key": KEY},
            },
            "workload": {"name": workload, "iterations": 2},
            "prometheus": {"url": prometheus_url, "step": "15s"},
            "analysis": {"minHistory": 5},
        },
    }


def finished(kube: Kube, name: str) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (r := kube.get("perfruns", f"{name}-1"))
            and (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            and r
        ),
        timeout=90,
        what=f"{name}'s first run to finish",
    )


@pytest.mark.parametrize("provider", list(PLAIN_KUBERNETES))
def test_each_shipped_workload_runs_to_a_verdict_on_each_plain_platform(
    provider: str,
    kube: Kube,
    plain_target: Kube,
    plain_target_cluster: Cluster,
    provider_nodes: Callable[[str], list[dict[str, Any]]],
    replay: list[ReplayRun],
    kube_prometheus_url: str,
    start_operator: Any,
) -> None:
    nodes = provider_nodes(provider)
    workers = sum(1 for n in nodes if "taints" not in n["spec"])
    put_secret(kube, target_kubeconfig(plain_target_cluster))
    names = {workload: f"plain-{index}" for index, workload in enumerate(WORKLOADS)}
    with SimulatedJobController(
        plain_target.api_client, replay_script(replay), namespace=plain_target.namespace
    ) as jobs:
        start_operator(**TARGET_ENV)
        for workload, name in names.items():
            kube.create_perftest(
                plain_perftest(name, workload, kube_prometheus_url, plain_target.namespace)
            )
        runs = {workload: finished(kube, name) for workload, name in names.items()}
        assert not jobs.errors, jobs.errors
    assert len(jobs.runs) == len(WORKLOADS)
    for result in jobs.runs.values():
        # kube-burner init ran, nothing it asked was refused, and nothing of OpenShift was asked.
        assert result.exit_code == 0, result.output[-3000:]
        assert result.denied == (), result.denied
        assert not any("openshift.io" in str(r.get("group")) for r in result.requests)
    created_kinds = {
        r.get("resource")
        for result in jobs.runs.values()
        for r in result.requests
        if r.get("verb") == "create" and r.get("status") == 201
    }
    # Every kind the three configurations create was created, with the Job's own rights.
    assert {"pods", "deployments", "services", "secrets", "configmaps", "networkpolicies"} <= (
        created_kinds
    ), created_kinds

    for workload, run in runs.items():
        status = run["status"]
        assert status["phase"] == "Succeeded", (workload, status.get("message"))
        assert status["target"]["platform"] == DETECTED[provider], status["target"]
        assert status["target"]["openshift"] is False
        # The kube-prometheus profile's selectors answered every API latency KPI.
        for kpi in API_KPIS:
            assert kpi in status["values"], (workload, status.get("missingMetrics"))
        if workload != "k8s-api-intensive":  # the only one without pods
            assert "podReadyLatency" in status["values"], workload
        test = kube.get("perftests", names[workload]) or {}
        verdict = (test.get("status") or {}).get("verdict") or {}
        assert verdict.get("result") == "InsufficientHistory", (workload, verdict)

    # With the RBAC, the operator installed the policy that confines the account on the target.
    admission = kubernetes.client.AdmissionregistrationV1Api(plain_target.api_client)
    policy = admission.read_validating_admission_policy("perftest-kube-burner-confinement")
    binding = admission.read_validating_admission_policy_binding(policy.metadata.name)
    assert binding.spec.policy_name == policy.metadata.name
    assert binding.spec.validation_actions == ["Deny"]

    # What each Job was: plain kube-burner init on the shipped config, sized by the workers the
    # operator counted without role labels, as a non-root user the restricted standard admits.
    created = plain_target.api_client.sanitize_for_serialization(plain_target.jobs())
    assert len(created) == len(WORKLOADS)
    for job in created:
        pod = job["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"][:3] == [
            "kube-burner",
            "init",
            "--config=/etc/kube-burner/config.yml",
        ]
        assert pod["securityContext"]["runAsUser"] == 65532
        assert check_pod(pod, job["spec"]["template"].get("metadata") or {}, "restricted") == []
        env = {item["name"]: item["value"] for item in container["env"]}
        workload = job["metadata"]["labels"].get("perftest.dev/test")
        if workload == names["k8s-node-density"]:
            assert env["ITERATIONS"] == str(2 * workers)


def test_an_openshift_workload_on_plain_kubernetes_is_an_invalid_spec_naming_the_platform(
    kube: Kube,
    plain_target: Kube,
    plain_target_cluster: Cluster,
    provider_nodes: Callable[[str], list[dict[str, Any]]],
    kube_prometheus_url: str,
    start_operator: Any,
) -> None:
    provider_nodes("GKE")
    put_secret(kube, target_kubeconfig(plain_target_cluster))
    start_operator(**TARGET_ENV)
    body = plain_perftest("ocp", "cluster-density-v2", kube_prometheus_url, plain_target.namespace)
    body["spec"]["workload"]["iterations"] = 9
    kube.create_perftest(body)

    def ready() -> dict[str, Any] | None:
        test = kube.get("perftests", "ocp") or {}
        conditions = (test.get("status") or {}).get("conditions") or []
        found = [c for c in conditions if c["type"] == "Ready" and c["status"] == "False"]
        return found[0] if found else None

    condition = wait_for(ready, timeout=30, what="Ready=False")
    assert condition["reason"] == "InvalidSpec"
    assert "plain Kubernetes on GCP (managed control plane)" in condition["message"]
    assert "k8s-node-density" in condition["message"]
    warnings = [e for e in kube.events() if e.reason == "InvalidSpec" and e.type == "Warning"]
    assert len(warnings) == 1
    assert kube.perfruns() == [] and plain_target.jobs() == []


def test_api_latency_kpis_a_managed_control_plane_does_not_expose_name_query_and_platform(
    kube: Kube,
    plain_target: Kube,
    plain_target_cluster: Cluster,
    provider_nodes: Callable[[str], list[dict[str, Any]]],
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """AKS's API server metrics do not reach an in-cluster Prometheus (docs/plain-kubernetes.md):
    here the Prometheus holds no series the kube-prometheus selector finds (only OpenShift-labelled
    ones). The run still succeeds on kube-burner's own podReadyLatency, and the MetricMissing
    Warning and the run's message name each missing KPI's query and the platform."""
    provider_nodes("AKS")
    put_secret(kube, target_kubeconfig(plain_target_cluster))
    with SimulatedJobController(
        plain_target.api_client, replay_script(replay), namespace=plain_target.namespace
    ) as jobs:
        start_operator(**TARGET_ENV)
        kube.create_perftest(
            plain_perftest("aks", "k8s-cluster-density", prometheus_url, plain_target.namespace)
        )
        run = finished(kube, "aks")
        assert not jobs.errors, jobs.errors
    status = run["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert set(status["values"]) == {"podReadyLatency"}
    assert set(API_KPIS) <= set(status["missingMetrics"])
    where = "on plain Kubernetes on Azure (managed control plane) (kube-prometheus profile)"
    (collected,) = [c for c in status["conditions"] if c["type"] == "MetricsCollected"]
    assert where in collected["message"] and 'job="apiserver"' in collected["message"]
    warnings = [e for e in kube.events() if e.reason == "MetricMissing" and e.type == "Warning"]
    assert len(warnings) == 1, [e.message for e in warnings]
    assert where in warnings[0].message
    assert "apiserver_request_duration_seconds_bucket" in warnings[0].message
