"""Pod Security admission: a namespace labelled `pod-security.kubernetes.io/enforce: restricted`
admits the Pods that meet the `restricted` standard, refuses the others with the API server's
403, and only warns about workload controllers (a Job is still created).

Run against the emulator (`localstack.emulator.podsecurity`, the checks of
`localstack.pod_security`), or a real cluster when PERFTEST_TEST_KUBECONFIG is set, where the
API server's own PodSecurity plugin answers: the expected messages are built from the standard's
rules, never copied from the emulator's answer.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.jobs import JobScript, SimulatedJobController
from localstack.objects import wait_for
from localstack.pod_security import ENFORCE_LABEL, LevelVersion, check_pod, forbidden_message
from perftest_operator.cli import main as perftest

SAMPLE = Path(__file__).resolve().parents[2] / "manifests/samples/perftest-cluster-density.yaml"
IMAGE = "registry.example.invalid/none:1"  # never pulled: the emulator runs nothing


@pytest.fixture()
def core(cluster: Cluster) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(cluster.api_client())


@pytest.fixture()
def restricted(core: kubernetes.client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace that enforces the restricted standard (latest version)."""
    name = f"pt-psa-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name, "labels": {ENFORCE_LABEL: "restricted"}}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


def compliant_spec() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "main",
                "image": IMAGE,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }


def pod(name: str, spec: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 403, caught.value.body
    body: dict[str, Any] = json.loads(caught.value.body)
    return body


def test_compliant_pod_is_created(core: kubernetes.client.CoreV1Api, restricted: str) -> None:
    created = core.create_namespaced_pod(restricted, pod("ok", compliant_spec()))
    assert created.metadata.name == "ok"


def test_violating_pod_is_refused_with_the_api_servers_status(
    core: kubernetes.client.CoreV1Api, restricted: str
) -> None:
    spec = compliant_spec()
    spec["containers"][0]["securityContext"] = {"privileged": True}
    spec["hostNetwork"] = True
    violations = check_pod(spec, {}, "restricted")
    assert [v.reason for v in violations] == [
        "host namespaces",
        "privileged",
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
    ]
    body = refusal(lambda: core.create_namespaced_pod(restricted, pod("bad", spec)))
    assert body["reason"] == "Forbidden"
    assert body["code"] == 403
    assert body["details"] == {"name": "bad", "kind": "pods"}
    assert body["message"] == forbidden_message(
        "pods", "bad", LevelVersion("restricted"), violations
    )
    assert body["message"].startswith(
        'pods "bad" is forbidden: violates PodSecurity "restricted:latest": host namespaces'
        " (hostNetwork=true), privileged (container"
    )
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_pod("bad", restricted)
    assert caught.value.status == 404


def test_pod_with_generated_name_is_refused_under_that_name(
    core: kubernetes.client.CoreV1Api, restricted: str
) -> None:
    spec = compliant_spec()
    del spec["securityContext"]["runAsNonRoot"]
    body = {**pod("", spec), "metadata": {"generateName": "gen-"}}
    refused = refusal(lambda: core.create_namespaced_pod(restricted, body))
    name = refused["details"]["name"]
    assert name.startswith("gen-")
    assert refused["message"] == (
        f'pods "{name}" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot !='
        ' true (pod or container "main" must set securityContext.runAsNonRoot=true)'
    )


def test_job_with_a_violating_template_is_created_with_a_warning(
    cluster: Cluster, restricted: str
) -> None:
    spec = {"restartPolicy": "Never", "containers": [{"name": "main", "image": IMAGE}]}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "warned"},
        "spec": {"suspend": True, "template": {"spec": spec}},  # suspended: no pods anywhere
    }
    batch = kubernetes.client.BatchV1Api(cluster.api_client())
    created, status, headers = batch.create_namespaced_job_with_http_info(restricted, job)
    assert status == 201
    assert created.metadata.name == "warned"
    details = ", ".join(str(v) for v in check_pod(spec, {}, "restricted"))
    warning = f'would violate PodSecurity "restricted:latest": {details}'
    assert json.dumps(warning) in headers.get("Warning", "")


def test_kube_burner_job_pod_of_the_operator_is_admitted(
    core: kubernetes.client.CoreV1Api,
    restricted: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The Pod the Job controller would create from the operator's rendered Job (the
    cluster-density sample) meets restricted: created, not refused."""
    assert perftest(["render", "-f", str(SAMPLE)]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    (job,) = [doc for doc in documents if doc and doc.get("kind") == "Job"]
    template = job["spec"]["template"]
    assert check_pod(template["spec"], template.get("metadata") or {}, "restricted") == []
    labels = (template.get("metadata") or {}).get("labels") or {}
    account = template["spec"].get("serviceAccountName")
    if account:  # a real API server refuses a Pod whose ServiceAccount is missing
        core.create_namespaced_service_account(restricted, {"metadata": {"name": account}})
    created = core.create_namespaced_pod(restricted, pod("kube-burner", template["spec"], labels))
    assert created.metadata.name == "kube-burner"


def test_labelling_a_namespace_warns_about_its_violating_pods(
    core: kubernetes.client.CoreV1Api, restricted: str
) -> None:
    """Enforce made stricter on a namespace with pods: admitted, with a warning naming them."""
    core.patch_namespace(restricted, {"metadata": {"labels": {ENFORCE_LABEL: "privileged"}}})
    core.create_namespaced_pod(
        restricted, pod("root", {"containers": [{"name": "c", "image": IMAGE}]})
    )
    core.create_namespaced_pod(restricted, pod("ok", compliant_spec()))
    labels = {"metadata": {"labels": {ENFORCE_LABEL: "restricted"}}}
    _, status, headers = core.patch_namespace_with_http_info(restricted, labels)
    assert status == 200
    reasons = ", ".join(
        v.reason for v in check_pod({"containers": [{"name": "c"}]}, {}, "restricted")
    )
    warnings = headers.get("Warning", "")
    header = (
        f'existing pods in namespace "{restricted}" violate the new PodSecurity enforce level'
        ' "restricted:latest"'
    )
    assert json.dumps(header) in warnings
    assert json.dumps(f"root: {reasons}") in warnings
    assert "ok:" not in warnings


def test_the_simulated_job_controller_runs_no_pod_that_admission_refuses(
    cluster: Cluster, core: kubernetes.client.CoreV1Api, restricted: str
) -> None:
    """As the Job controller: the Pod is created before anything runs, and a refused one
    (FailedCreate) runs nothing; the simulation reports it."""
    spec = compliant_spec()
    spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    spec["restartPolicy"] = "Never"
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "escalating",
            "labels": {"app.kubernetes.io/managed-by": "perftest-operator"},
        },
        "spec": {"backoffLimit": 0, "template": {"spec": spec}},
    }
    now = datetime.datetime.now(datetime.UTC)
    script = JobScript(start=now, end=now, exit_code=0)
    with SimulatedJobController(
        cluster.api_client(), lambda _: script, namespace=restricted, run_containers=False
    ) as jobs:
        kubernetes.client.BatchV1Api(cluster.api_client()).create_namespaced_job(restricted, job)
        wait_for(lambda: jobs.errors, timeout=10, what="the refused Pod to be reported")
    (error,) = jobs.errors
    assert "FailedCreate" in error and 'violates PodSecurity "restricted:latest"' in error
    assert "allowPrivilegeEscalation != false" in error
    assert core.list_namespaced_pod(restricted).items == []
