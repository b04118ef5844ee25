"""Trust boundaries, as a namespace-scoped user who may only create PerfTests in team-a.

The user is a ServiceAccount with a Role in team-a (perftests, configmaps and secrets there, and
nothing else), talking to the RBAC-enforcing emulator. The operator runs with the admin's
defaults: only the runner image, no own kube-burner configurations, no runs on its own cluster.
What the user asks beyond that is refused before any Job exists, Ready=False with a condition
naming the setting, and the operator goes on serving team-b.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, wait_for
from localstack.prometheus import ReplayRun
from localstack.remote_target import KEY, SECRET, TARGET_ENV, put_secret, target_kubeconfig
from localstack.story import replay_script

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

GROUP, VERSION = "perftest.dev", "v1alpha1"
# The admin's defaults (manifests/base/deployment.yaml, the chart's policy values).
STRICT = {
    "PERFTEST_LOCAL_RUNS": "false",
    "PERFTEST_ALLOWED_IMAGES": "",
    "PERFTEST_CUSTOM_CONFIG_NAMESPACES": "",
    "PERFTEST_SECRET_READING_WORKLOADS": "false",
}


@pytest.fixture()
def team_b(cluster: Cluster, crds: list[str]) -> Iterator[Kube]:
    kube = Kube(cluster.api_client(), f"pt-team-b-{secrets.token_hex(4)}")
    kube.core.create_namespace({"metadata": {"name": kube.namespace}})
    yield kube
    with contextlib.suppress(ApiException):
        kube.core.delete_namespace(kube.namespace)


@pytest.fixture()
def author(cluster: Cluster, kube: Kube) -> Iterator[Kube]:
    """team-a's PerfTest author: a ServiceAccount whose only rights are a Role in team-a."""
    if not cluster.emulated:
        pytest.skip("mints a ServiceAccount token with the emulator's admin credentials")
    name = "perftest-author"
    kube.core.create_namespaced_service_account(kube.namespace, {"metadata": {"name": name}})
    rbac = kubernetes.client.RbacAuthorizationV1Api(kube.api_client)
    rbac.create_namespaced_role(
        kube.namespace,
        {
            "metadata": {"name": name},
            "rules": [
                {
                    "apiGroups": [GROUP],
                    "resources": ["perftests"],
                    "verbs": ["create", "get", "list", "watch", "update", "patch", "delete"],
                },
                {"apiGroups": [GROUP], "resources": ["perfruns"], "verbs": ["get", "list"]},
                {
                    "apiGroups": [""],
                    "resources": ["configmaps", "secrets"],
                    "verbs": ["create", "get", "list"],
                },
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        kube.namespace,
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": kube.namespace}],
        },
    )
    with cluster.service_account_client(kube.namespace, name) as client:
        yield Kube(client, kube.namespace)


def perftest(name: str, prometheus_url: str, namespace: str) -> dict:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PerfTest",
        "metadata": {"name": name},
        "spec": {
            "target": {
                "namespace": namespace,
                "kubeconfigSecretRef": {"name": SECRET, "key": KEY},
            },
            "workload": {"name": "k8s-cluster-density"},
            "prometheus": {"url": prometheus_url},
        },
    }


def not_ready(kube: Kube, name: str) -> dict[str, Any]:
    def condition() -> dict[str, Any] | None:
        test = kube.get("perftests", name) or {}
        found = [
            c
            for c in (test.get("status") or {}).get("conditions") or []
            if c["type"] == "Ready" and c["status"] == "False"
        ]
        return found[0] if found else None

    return wait_for(condition, timeout=30, what=f"{name} Ready=False")


def test_a_team_a_author_gets_no_more_than_the_admin_allows(
    kube: Kube,
    author: Kube,
    team_b: Kube,
    target: Kube,
    target_cluster: Cluster,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    put_secret(kube, target_kubeconfig(target_cluster))  # team-a's own target Secret
    # team-b's Secret, named differently: team-a's PerfTests cannot reach it.
    put_secret(team_b, target_kubeconfig(target_cluster))
    tests = {
        name: perftest(name, prometheus_url, target.namespace)
        for name in ("unlisted-image", "own-config", "local-run", "secret-reader", "team-b-secret")
    }
    tests["unlisted-image"]["spec"]["workload"]["image"] = "evil.example/kb:1"
    tests["own-config"]["spec"]["workload"] = {
        "configMapRef": {"name": "mine", "key": "config.yml"}
    }
    tests["local-run"]["spec"]["target"] = {"namespace": "kube-system"}
    # Its Job's account would list every Secret of the target (runner.rbac.reads_secrets).
    tests["secret-reader"]["spec"]["workload"] = {"name": "cluster-density-v2", "iterations": 1}
    tests["team-b-secret"]["spec"]["target"]["kubeconfigSecretRef"]["name"] = "team-b-target"
    team_b.core.create_namespaced_secret(
        team_b.namespace,
        {"metadata": {"name": "team-b-target"}, "stringData": {KEY: "not-for-team-a"}},
    )

    # The author may write PerfTests only in team-a.
    with pytest.raises(ApiException) as refused:
        kubernetes.client.CustomObjectsApi(author.api_client).create_namespaced_custom_object(
            GROUP, VERSION, team_b.namespace, "perftests", tests["unlisted-image"]
        )
    assert refused.value.status == 403

    operator = start_operator(also_watch=(team_b.namespace,), **TARGET_ENV, **STRICT)
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ) as jobs:
        for body in tests.values():
            kubernetes.client.CustomObjectsApi(author.api_client).create_namespaced_custom_object(
                GROUP, VERSION, kube.namespace, "perftests", body
            )
        expected = {
            "unlisted-image": ("NotAllowed", "PERFTEST_ALLOWED_IMAGES"),
            "own-config": ("NotAllowed", "PERFTEST_CUSTOM_CONFIG_NAMESPACES"),
            "local-run": ("NotAllowed", "PERFTEST_LOCAL_RUNS"),
            "secret-reader": ("NotAllowed", "PERFTEST_SECRET_READING_WORKLOADS"),
            "team-b-secret": ("TargetSecretMissing", "team-b-target"),
        }
        for name, (reason, words) in expected.items():
            condition = not_ready(author, name)
            assert condition["reason"] == reason, (name, condition)
            assert words in condition["message"], (name, condition)
        assert "not-for-team-a" not in operator.log_text()

        # Meanwhile team-b's PerfTest, allowed, runs to its verdict.
        team_b.create_perftest(
            {
                "metadata": {"name": "allowed"},
                "spec": perftest("allowed", prometheus_url, target.namespace)["spec"],
            }
        )
        run = wait_for(
            lambda: (
                (r := team_b.get("perfruns", "allowed-1"))
                and (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")
                and r
            ),
            timeout=60,
            what="team-b's run",
        )
        assert run["status"]["phase"] == "Succeeded", run["status"].get("message")
        assert not jobs.errors, jobs.errors
    # Nothing of team-a's refused PerfTests ran anywhere.
    assert kube.perfruns() == []
    assert all(job.metadata.labels.get("perftest.dev/test") == "allowed" for job in target.jobs())
    warnings = [e for e in kube.events() if e.reason == "NotAllowed"]
    assert sorted(e.type for e in warnings) == ["Warning"] * 4


ESCAPING_CONFIG = """global:
  gc: true
metricsEndpoints:
  - indexer:
      type: local
jobs:
  - name: escape
    jobIterations: 1
    qps: 5
    burst: 5
    namespacedIterations: true
    namespace: escape
    preLoadImages: false
    objects:
      - objectTemplate: /etc/kube-burner/pod.yml
        replicas: 1
"""
KUBE_SYSTEM_POD = """apiVersion: v1
kind: Pod
metadata:
  name: escape-{{.Iteration}}
  namespace: kube-system
spec:
  containers:
    - name: c
      image: registry.k8s.io/pause:3.10
"""


CLUSTER_ADMIN_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: escape-{{.Iteration}}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: default
    namespace: escape-0
"""


@pytest.mark.parametrize(
    ("template", "resource", "words"),
    [
        # RBAC lets the account create Pods anywhere (kube-burner makes its namespaces as it
        # goes); the confinement policy is what refuses this one.
        (KUBE_SYSTEM_POD, "pods", "ValidatingAdmissionPolicy 'perftest-kube-burner-confinement'"),
        # No role of kube-burner's grants ClusterRoleBindings: RBAC refuses it first.
        (CLUSTER_ADMIN_BINDING, "clusterrolebindings", "forbidden"),
    ],
    ids=["pod-in-kube-system", "cluster-admin-binding"],
)
def test_a_custom_configuration_cannot_leave_its_namespaces(
    template: str,
    resource: str,
    words: str,
    kube: Kube,
    target: Kube,
    target_cluster: Any,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """Allowed to bring its own configuration, a team's kube-burner still writes only inside
    the namespaces it creates: the target's API refuses what would leave them, and the run
    fails instead of leaving anything behind."""
    put_secret(kube, target_kubeconfig(target_cluster))
    kube.core.create_namespaced_config_map(
        kube.namespace,
        {
            "metadata": {"name": "escape"},
            "data": {"config.yml": ESCAPING_CONFIG, "pod.yml": template},
        },
    )
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ) as jobs:
        start_operator(**TARGET_ENV, PERFTEST_CUSTOM_CONFIG_NAMESPACES=kube.namespace)
        body = perftest("escape", prometheus_url, target.namespace)
        body["spec"]["workload"] = {"configMapRef": {"name": "escape", "key": "config.yml"}}
        kube.create_perftest({"metadata": body["metadata"], "spec": body["spec"]})
        wait_for(lambda: jobs.runs, timeout=60, what="the Job's container to run")
    (result,) = jobs.runs.values()
    assert result.exit_code != 0
    refused = [d for d in result.denied if d.get("resource") == resource]
    assert refused, result.denied
    assert words in result.output
    assert target.core.list_namespaced_pod("kube-system").items == []
    rbac = kubernetes.client.RbacAuthorizationV1Api(target.api_client)
    assert not [
        b for b in rbac.list_cluster_role_binding().items if b.metadata.name.startswith("escape")
    ]
