"""Remote targets: a hub and a target API, the real operator, the Job on the target, never a leak."""

from __future__ import annotations

import json
import socket
from typing import Any

import kubernetes
import pytest
import yaml

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, wait_for
from localstack.prometheus import HeaderRecordingProxy, ReplayRun
from localstack.remote_target import (
    KEY,
    PLANTED_TOKEN,
    SECRET,
    TARGET_ENV,
    put_secret,
    target_kubeconfig,
)
from localstack.story import READ_ONLY_LATENCY, STORY_KPI, replay_script
from localstack.target_objects import (
    cluster_nodes,
    infrastructure,
)

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

TEST = "remote"
CONTROL_PLANE_LABELS = (
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/control-plane",
)


def remote_perftest(prometheus_url: str, target_namespace: str, platform: str = "Auto") -> dict:
    return {
        "metadata": {"name": TEST},
        "spec": {
            "target": {
                "platform": platform,
                "namespace": target_namespace,
                "kubeconfigSecretRef": {"name": SECRET, "key": KEY},
            },
            "workload": {"name": "cluster-density-v2", "iterations": 9},
            "prometheus": {"url": prometheus_url, "step": "15s"},
            "analysis": {"minHistory": 5},
        },
    }


def ready(kube: Kube) -> dict[str, Any] | None:
    test = kube.get("perftests", TEST) or {}
    found = [c for c in (test.get("status") or {}).get("conditions", []) if c["type"] == "Ready"]
    return found[0] if found else None


def finished_first_run(kube: Kube, what: str) -> dict[str, Any]:
    """The PerfTest's first PerfRun once it has succeeded or failed."""
    return wait_for(
        lambda: (
            (r := kube.get("perfruns", f"{TEST}-1"))
            and (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            and r
        ),
        timeout=60,
        what=f"{what} to finish",
    )


def hub_objects_of_runs(kube: Kube) -> list[str]:
    """Jobs and ConfigMaps labelled as a run's, anywhere on the hub."""
    selector = "app.kubernetes.io/managed-by=perftest-operator"
    jobs = kube.batch.list_job_for_all_namespaces(label_selector=selector).items
    maps = kube.core.list_config_map_for_all_namespaces(label_selector=selector).items
    return [
        f"{o.kind or type(o).__name__} {o.metadata.namespace}/{o.metadata.name}"
        for o in jobs + maps
    ]


def test_the_job_runs_on_the_target_and_the_verdict_lands_on_the_hub(
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    put_secret(kube, target_kubeconfig(target_cluster))
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ) as jobs:
        operator = start_operator(**TARGET_ENV)
        kube.create_perftest(remote_perftest(prometheus_url, target.namespace))
        run = finished_first_run(kube, "the first remote run")
        assert not jobs.errors, jobs.errors
    status = run["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert status["values"][STORY_KPI] == pytest.approx(READ_ONLY_LATENCY[0])
    assert status["job"]["namespace"] == target.namespace
    assert status["job"]["kubeconfigSecretRef"] == {"name": SECRET, "key": KEY}

    # The Job and its ConfigMap are on the target, in the namespace the operator created there.
    [job] = target.jobs()
    assert job.metadata.name == status["job"]["name"]
    assert job.spec.template.spec.service_account_name == "perftest-kube-burner"
    # No PerfRun on the target to own them: the ConfigMap goes with the Job, the Job with its TTL.
    config_map = target.core.read_namespaced_config_map(status["configMap"], target.namespace)
    [owner] = config_map.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("Job", job.metadata.name, job.metadata.uid)
    assert job.spec.ttl_seconds_after_finished >= 24 * 3600
    # ... with kube-burner's ServiceAccount and the RBAC it needs there.
    assert target.core.read_namespaced_service_account("perftest-kube-burner", target.namespace)
    rbac = kubernetes.client.RbacAuthorizationV1Api(target.api_client)
    # The workload's own role, from the contract (perftest rbac --workload cluster-density-v2).
    role_name = "perftest-kube-burner-cluster-density-v2"
    role = rbac.read_cluster_role(role_name)
    assert any("namespaces" in rule.resources and "create" in rule.verbs for rule in role.rules)
    bindings = [
        b
        for b in rbac.list_cluster_role_binding().items
        if b.role_ref.name == role_name
        and any(s.namespace == target.namespace for s in b.subjects or [])
    ]
    assert len(bindings) == 1
    # Nothing of the run on the hub but the PerfRun.
    assert hub_objects_of_runs(kube) == []
    assert kube.jobs() == []

    # The PerfTest is Ready and says which target answered; nothing shows the token.
    condition = ready(kube)
    assert condition is not None and condition["status"] == "True"
    assert SECRET in condition["message"]
    emitted = json.dumps(kube.get("perftests", TEST)) + json.dumps(run)
    emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
    assert PLANTED_TOKEN not in emitted


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def exec_plugin_kubeconfig(cluster: Cluster) -> str:
    document = yaml.safe_load(target_kubeconfig(cluster, server="https://127.0.0.1:6443"))
    document["users"][0]["user"] = {
        "token": PLANTED_TOKEN,
        "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/sh"},
    }
    return yaml.safe_dump(document)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", "TargetSecretMissing"),
        ("wrong-key", "TargetSecretMissing"),
        ("not-yaml", "TargetConfigInvalid"),
        ("exec-plugin", "TargetConfigInvalid"),
        ("unreachable", "TargetUnreachable"),
    ],
)
def test_an_unusable_target_is_not_ready_with_a_warning_and_no_leak(
    case: str,
    reason: str,
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    prometheus_url: str,
    start_operator: Any,
) -> None:
    if case == "wrong-key":
        put_secret(kube, target_kubeconfig(target_cluster), key="other")
    elif case == "not-yaml":
        put_secret(kube, f"token: {PLANTED_TOKEN}\n  - [unbalanced")
    elif case == "exec-plugin":
        put_secret(kube, exec_plugin_kubeconfig(target_cluster))
    elif case == "unreachable":
        server = f"http://127.0.0.1:{closed_port()}"
        put_secret(kube, target_kubeconfig(target_cluster, server=server))
    operator = start_operator(**TARGET_ENV)
    kube.create_perftest(remote_perftest(prometheus_url, target.namespace))
    condition = wait_for(
        lambda: (c := ready(kube)) and c["status"] == "False" and c,
        timeout=30,
        what=f"Ready=False ({reason})",
    )
    assert condition["reason"] == reason
    # Retried (every second here) without a new Warning each time, and without a run.
    wait_for(
        lambda: operator.log_text().count("not ready yet; checked again later") >= 2,
        timeout=30,
        what="the operator to retry the PerfTest",
    )
    warnings = [e for e in kube.events() if e.reason == reason and e.type == "Warning"]
    assert len(warnings) == 1, [e.message for e in warnings]
    assert kube.perfruns() == []
    assert kube.get("perftests", TEST)["status"]["phase"] == "Invalid"
    emitted = json.dumps(kube.get("perftests", TEST)) + " ".join(e.message for e in kube.events())
    emitted += operator.log_text()
    assert PLANTED_TOKEN not in emitted
    if case == "exec-plugin":
        assert "exec" in condition["message"]

    # Fixing the Secret is enough: the retry finds the target and the first run starts.
    put_secret(kube, target_kubeconfig(target_cluster))
    wait_for(lambda: (c := ready(kube)) and c["status"] == "True", timeout=30, what="Ready=True")
    wait_for(lambda: kube.perfruns(), timeout=30, what="the first PerfRun")


# OpenShift on each platform -> (Infrastructure, ARO Cluster present, node providerID prefix,
# managed)
PLATFORMS: dict[str, tuple[dict[str, Any], bool, str | None, bool]] = {
    "AWS": (infrastructure("AWS"), False, "aws://", False),
    "Azure": (infrastructure("Azure"), False, "azure://", False),
    "GCP": (infrastructure("GCP"), False, "gce://", False),
    "IBMCloud": (infrastructure("IBMCloud"), False, "ibm://", False),
    "BareMetal": (infrastructure("BareMetal"), False, None, False),
    "ROSA": (infrastructure("AWS", tags={"red-hat-clustertype": "rosa"}), False, "aws://", True),
    "ARO": (infrastructure("Azure"), True, "azure://", True),
}
# Kubernetes that is not OpenShift (no Infrastructure object) -> node providerID prefix
PLAIN_KUBERNETES: dict[str, str | None] = {"IBMCloud": "ibm://", "BareMetal": None}


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_each_platform_is_detected_and_places_the_job_by_its_profile(
    platform: str,
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    platform_objects: Any,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """Detected, placed, and run: kube-burner-ocp (the stand-in) runs on the target as the
    ServiceAccount the operator set up there, and nothing it asks is refused."""
    infra, aro, provider, managed = PLATFORMS[platform]
    platform_objects(infra, aro, provider)
    put_secret(kube, target_kubeconfig(target_cluster))
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ) as jobs:
        check_placement(platform, kube, target, provider, managed, prometheus_url, start_operator)
        run = finished_first_run(kube, f"the run on {platform}")
    assert not jobs.errors, jobs.errors
    assert run["status"]["phase"] == "Succeeded", run["status"].get("message")
    [result] = jobs.runs.values()
    assert result.exit_code == 0 and result.denied == ()
    openshift = {
        (r.get("group"), r.get("resource")) for r in result.requests if r.get("verb") == "get"
    }
    assert ("config.openshift.io", "networks") in openshift  # its cluster metadata was read


@pytest.mark.parametrize("platform", list(PLAIN_KUBERNETES))
def test_a_target_that_is_not_openshift_is_refused_before_any_job(
    platform: str,
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    platform_objects: Any,
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """kube-burner-ocp lists ClusterOperators and reads OpenShift's configuration before its
    first object, so on plain Kubernetes every run would exit 1: the PerfTest is not Ready, an
    InvalidSpec naming the platform and what runs there instead, with one Warning saying so, and
    no Job or run namespace is made on the target. It is checked again: the kubeconfig may come
    to point at OpenShift."""
    platform_objects(None, False, PLAIN_KUBERNETES[platform])
    put_secret(kube, target_kubeconfig(target_cluster))
    operator = start_operator(**TARGET_ENV)
    kube.create_perftest(remote_perftest(prometheus_url, target.namespace))
    condition = wait_for(
        lambda: (c := ready(kube)) and c["status"] == "False" and c,
        timeout=30,
        what="Ready=False (InvalidSpec)",
    )
    assert condition["reason"] == "InvalidSpec"
    assert f"plain Kubernetes on {platform}" in condition["message"]
    assert "k8s-cluster-density" in condition["message"] and "custom" in condition["message"]
    wait_for(
        lambda: operator.log_text().count("not ready yet; checked again later") >= 2,
        timeout=30,
        what="the operator to check the target again",
    )
    warnings = [e for e in kube.events() if e.reason == "InvalidSpec"]
    assert [e.type for e in warnings] == ["Warning"]
    assert kube.perfruns() == []
    assert target.jobs() == []
    assert target.namespace not in {n.metadata.name for n in target.core.list_namespace().items}


def check_placement(
    platform: str,
    kube: Kube,
    target: Kube,
    provider: str | None,
    managed: bool,
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """The platform the operator detects, and where it places the Job by that profile."""
    start_operator(**TARGET_ENV)
    kube.create_perftest(remote_perftest(prometheus_url, target.namespace))
    run = wait_for(
        lambda: (
            (r := kube.get("perfruns", f"{TEST}-1")) and (r.get("status") or {}).get("job") and r
        ),
        timeout=30,
        what="the remote Job to be created",
    )
    recorded = run["status"]["target"]
    assert recorded["platform"] == platform, recorded["platformEvidence"]
    assert recorded["managed"] is managed
    assert recorded["nodes"]["total"] == len(cluster_nodes(provider))
    wait_for(
        lambda: (kube.get("perftests", TEST) or {}).get("status", {}).get("platform") == platform,
        timeout=30,
        what="the PerfTest's Platform column",
    )

    [job] = target.api_client.sanitize_for_serialization(target.jobs())
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    affinity = pod["affinity"]["nodeAffinity"]
    if managed:
        # Never on the control plane (or infra nodes) of a managed service.
        [term] = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        avoided = {e["key"] for e in term["matchExpressions"] if e["operator"] == "DoesNotExist"}
        assert set(CONTROL_PLANE_LABELS) <= avoided
        assert "node-role.kubernetes.io/infra" in avoided
    else:
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in affinity
        [preference] = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
        avoided = {e["key"] for e in preference["preference"]["matchExpressions"]}
        assert set(CONTROL_PLANE_LABELS) <= avoided


def test_a_hosted_control_plane_skips_apiserver_kpis_and_reads_thanos_with_a_minted_token(
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    platform_objects: Any,
    thanos_route: Any,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """ROSA with hosted control planes: no URL in the spec, thanos-querier found by its Route."""
    hosted = infrastructure("AWS", topology="External", tags={"red-hat-clustertype": "rosa"})
    platform_objects(hosted, False, "aws://")
    put_secret(kube, target_kubeconfig(target_cluster))
    body = remote_perftest(prometheus_url, target.namespace)
    body["spec"]["prometheus"] = {"step": "15s"}
    body["spec"]["metrics"] = [
        {
            "name": "readOnlyAPICallsLatency",
            "query": 'histogram_quantile(0.99, sum(rate(apiserver_request_duration_seconds_bucket{verb=~"LIST|GET"}[2m])) by (le))',
        },
        {"name": "one", "query": "vector(1)"},
    ]
    with (
        HeaderRecordingProxy(prometheus_url) as proxy,
        SimulatedJobController(
            target.api_client, replay_script(replay), namespace=target.namespace
        ) as jobs,
    ):
        thanos_route(proxy.url)
        operator = start_operator(**TARGET_ENV)
        kube.create_perftest(body)
        run = finished_first_run(kube, "the run on the hosted control plane")
        assert not jobs.errors, jobs.errors
    status = run["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert status["target"]["platform"] == "ROSA" and status["target"]["hostedControlPlane"]
    # The API server's KPI is not in a hosted cluster's Prometheus: skipped with the reason,
    # never recorded as a value (a zero would be a false improvement).
    assert status["values"] == {"one": 1.0}
    [skipped] = status["skippedMetrics"]
    assert skipped["metric"] == "readOnlyAPICallsLatency"
    assert "hosted outside the cluster" in skipped["reason"]
    assert [e for e in kube.events() if e.reason == "MetricSkipped"]
    # One range query, through the Route, with a token minted for kube-burner's ServiceAccount.
    queries = [r for r in proxy.requests if r.path.startswith("/api/v1/query_range")]
    assert len(queries) == 1
    authorization = queries[0].headers.get("Authorization", "")
    assert authorization.startswith(
        f"Bearer emulator-token.{target.namespace}.perftest-kube-burner."
    )
    minted = authorization.removeprefix("Bearer ")
    emitted = json.dumps(run) + json.dumps(kube.get("perftests", TEST))
    emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
    assert minted not in emitted and PLANTED_TOKEN not in emitted
