"""The API emulator's own behaviour, beyond the generic API conformance that
`test_api_conformance.py` checks (against the emulator or a real cluster): how it serves
built-ins to kubectl (Tables of Jobs, Pods and Namespaces, protobuf bodies), its OpenAPI and
ConfigMap Tables, `metadata.generation` on every resource, watch expiry and bookmarks in-process,
a kopf operator against it, its command line, and its pure helpers. Always the emulator.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import kubernetes
import pytest
import yaml
from api_test_objects import (
    GROUP,
    VERSION,
    WIDGET_CRD,
    Kubectl,
    get_json,
    kubectl_runner,
    table_rows,
    widget,
)
from kubernetes.client.exceptions import ApiException

from localstack.emulator.process import EmulatorProcess, RunningEmulator, running_emulator
from localstack.emulator.tables import evaluate_json_path, human_duration
from localstack.objects import wait_for

HACK_DIR = Path(__file__).resolve().parents[2] / "hack"
# For wait_for(): what the emulator does in the background happens at once, so poll often.
SOON: dict[str, Any] = {"timeout": 15.0, "interval": 0.05}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """Always the emulator (this module tests it), unlike conftest's `cluster`."""
    with EmulatorProcess(tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture(scope="module")
def api(emulator: RunningEmulator) -> Iterator[kubernetes.client.ApiClient]:
    client = kubernetes.config.new_client_from_config(config_file=str(emulator.kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="module")
def kubectl(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return kubectl_runner(emulator.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def widgets(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Widget CRD, applied with kubectl as a user would; returns kubectl's output."""
    crds = tmp_path_factory.mktemp("crds")
    (crds / "widgets.yaml").write_text(yaml.safe_dump(WIDGET_CRD))
    return kubectl("apply", "-f", str(crds)).stdout


@pytest.mark.parametrize(
    ("group_version", "plural", "subresources"),
    [
        ("v1", "namespaces", ["status"]),
        ("v1", "configmaps", []),
        ("v1", "pods", ["status"]),
        ("v1", "nodes", ["status"]),
        ("v1", "serviceaccounts", ["token"]),
        ("batch/v1", "jobs", ["status"]),
        ("apiextensions.k8s.io/v1", "customresourcedefinitions", ["status"]),
    ],
)
def test_built_ins_serve_only_the_subresources_the_emulator_implements(
    api: kubernetes.client.ApiClient, group_version: str, plural: str, subresources: list[str]
) -> None:
    """No more than these (test_api_conformance checks at least these on any cluster)."""
    prefix = "/api" if group_version == "v1" else "/apis"
    names = [entry["name"] for entry in get_json(api, f"{prefix}/{group_version}")["resources"]]
    assert sorted(n.split("/")[1] for n in names if n.startswith(f"{plural}/")) == subresources


# metadata.generation: the emulator sets and bumps it on every resource (a real API server only
# where the resource's strategy does, e.g. custom resources and workloads, not ConfigMaps).


def test_generation_without_status_subresource_ignores_status(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    created = core.create_namespaced_config_map(ns, {"metadata": {"name": "g"}, "data": {"a": "1"}})
    annotated = core.patch_namespaced_config_map("g", ns, {"metadata": {"annotations": {"x": "y"}}})
    changed = core.patch_namespaced_config_map("g", ns, {"data": {"a": "2"}})
    assert created.metadata.generation == annotated.metadata.generation == 1
    assert changed.metadata.generation == 2


def test_kubectl_shows_job_pod_and_namespace_columns(
    api: kubernetes.client.ApiClient, kubectl: Kubectl, ns: str
) -> None:
    container = {"name": "kube-burner", "image": "quay.io/kube-burner/kube-burner-ocp:v1.7.3"}
    pod_spec = {"containers": [container], "restartPolicy": "Never"}
    batch, core = kubernetes.client.BatchV1Api(api), kubernetes.client.CoreV1Api(api)
    batch.create_namespaced_job(
        ns, {"metadata": {"name": "run-1"}, "spec": {"template": {"spec": pod_spec}}}
    )
    batch.create_namespaced_job(
        ns, {"metadata": {"name": "run-2"}, "spec": {"template": {"spec": pod_spec}}}
    )
    complete = {"type": "Complete", "status": "True"}
    batch.patch_namespaced_job_status(
        "run-1", ns,
        {"status": {"startTime": "2025-01-10T02:00:00Z", "completionTime": "2025-01-10T02:01:05Z",
                    "succeeded": 1, "conditions": [complete]}},
    )  # fmt: skip
    core.create_namespaced_pod(ns, {"metadata": {"name": "run-1-pod"}, "spec": pod_spec})
    terminated = {"exitCode": 1, "reason": "Error"}
    container_status = {
        "name": "kube-burner", "image": container["image"], "imageID": "", "ready": False,
        "restartCount": 0, "state": {"terminated": terminated},
    }  # fmt: skip
    core.patch_namespaced_pod_status(
        "run-1-pod", ns, {"status": {"phase": "Failed", "containerStatuses": [container_status]}}
    )

    jobs = table_rows(kubectl("get", "jobs", "-n", ns).stdout)
    assert jobs[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert jobs[1][:4] == ["run-1", "Complete", "1/1", "65s"]
    assert jobs[2][:3] == ["run-2", "Running", "0/1"]  # no start time: DURATION is blank
    assert re.fullmatch(r"\d+s", jobs[2][3])  # so the next cell is AGE
    pods = table_rows(kubectl("get", "pods", "-n", ns).stdout)
    assert pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert pods[1][:4] == ["run-1-pod", "0/1", "Error", "0"]
    namespaces = table_rows(kubectl("get", "namespace", ns).stdout)
    assert namespaces[0] == ["NAME", "STATUS", "AGE"] and namespaces[1][:2] == [ns, "Active"]


def test_kubectl_create_generators(
    kubectl: Kubectl, api: kubernetes.client.ApiClient, tmp_path: Path
) -> None:
    """These send protobuf bodies (no JSON fallback): namespace, configmap, secret, SA, role
    bindings."""
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    name = f"gen-{uuid.uuid4().hex[:6]}"
    assert kubectl("create", "namespace", name).stdout.strip() == f"namespace/{name} created"
    kubectl("create", "configmap", "c", "-n", name, "--from-literal=a=b", "--from-literal=c=d")
    kubectl(
        "create", "secret", "generic", "target", "-n", name,
        f"--from-file=kubeconfig={tmp_path / 'kubeconfig'}", "--from-literal=token=t0ken",
    )  # fmt: skip
    kubectl("create", "serviceaccount", "runner", "-n", name)
    # What the operator's JobPermissionsMissing message and docs/security.md tell an admin to run.
    kubectl(
        "create", "clusterrolebinding", f"{name}-view", "--clusterrole=view",
        f"--serviceaccount={name}:runner",
    )  # fmt: skip
    kubectl("create", "rolebinding", "edit", "-n", name, "--clusterrole=edit", "--user=alice")

    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    binding = rbac.read_cluster_role_binding(f"{name}-view")
    assert (binding.role_ref.kind, binding.role_ref.name) == ("ClusterRole", "view")
    assert binding.role_ref.api_group == "rbac.authorization.k8s.io"
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [
        ("ServiceAccount", "runner", name)
    ]
    (subject,) = rbac.read_namespaced_role_binding("edit", name).subjects
    assert (subject.kind, subject.api_group, subject.name) == (
        "User",
        "rbac.authorization.k8s.io",
        "alice",
    )
    rbac.delete_cluster_role_binding(f"{name}-view")

    core = kubernetes.client.CoreV1Api(api)
    assert core.read_namespace(name).spec.finalizers == ["kubernetes"]
    assert core.read_namespaced_config_map("c", name).data == {"a": "b", "c": "d"}
    secret = core.read_namespaced_secret("target", name)
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["kubeconfig"]) == b"apiVersion: v1\n"
    assert base64.b64decode(secret.data["token"]) == b"t0ken"
    assert core.read_namespaced_service_account("runner", name).metadata.namespace == name
    # stringData is write-only: the server merges it into data, base64-encoded.
    core.create_namespaced_secret(
        name, {"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"token": "t0ken"}}
    )
    written = core.read_namespaced_secret("s", name)
    assert written.string_data is None
    assert {k: base64.b64decode(v) for k, v in written.data.items()} == {
        "a": b"a",
        "token": b"t0ken",
    }
    refused = kubectl("create", "job", "j", "--image=busybox", "-n", name, check=False)
    assert "Job (batch/v1) is only accepted as JSON" in refused.stderr
    core.delete_namespace(name)


def test_openapi_v3_declares_server_side_field_validation(
    api: kubernetes.client.ApiClient, widgets: str
) -> None:
    index = get_json(api, "/openapi/v3")
    url = index["paths"][f"apis/{GROUP}/{VERSION}"]["serverRelativeURL"]
    document = get_json(api, url)
    path = document["paths"][f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/widgets/{{name}}"]
    assert path["patch"]["x-kubernetes-group-version-kind"] == {
        "group": GROUP,
        "version": VERSION,
        "kind": "Widget",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= path["patch"]["parameters"][
        0
    ].items()


def test_server_side_table_for_a_list(api: kubernetes.client.ApiClient, ns: str) -> None:
    """ConfigMaps as a Table: Name and Age (a real API server adds a Data column)."""
    kubernetes.client.CoreV1Api(api).create_namespaced_config_map(ns, {"metadata": {"name": "t"}})
    table = get_json(
        api,
        f"/api/v1/namespaces/{ns}/configmaps",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    [row] = table["rows"]
    assert row["cells"][0] == "t"
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == ns


async def test_in_process_watch_expiry_initial_events_and_bookmarks(
    tmp_path: Path,
) -> None:
    async with (
        running_emulator(tmp_path, watch_history=3) as emulator,
        aiohttp.ClientSession() as session,
    ):
        url = f"{emulator.url}/api/v1/namespaces/default/configmaps"
        for index in range(5):
            async with session.post(url, json={"metadata": {"name": f"cm{index}"}}) as response:
                assert response.status == 201
        params = {"watch": "true", "resourceVersion": "1", "timeoutSeconds": "5"}
        async with session.get(url, params=params) as response:
            first = json.loads(await response.content.readline())
        assert first["type"] == "ERROR"
        assert (first["object"]["code"], first["object"]["reason"]) == (410, "Expired")
        params = {
            "watch": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true", "timeoutSeconds": "1",
        }  # fmt: skip
        async with session.get(url, params=params) as response:
            events = [json.loads(line) async for line in response.content]  # ends after 1s
        assert [e["type"] for e in events] == ["ADDED"] * 5 + ["BOOKMARK", "BOOKMARK"]
        initial_end = events[5]["object"]["metadata"]
        assert initial_end["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert initial_end["resourceVersion"] == events[6]["object"]["metadata"]["resourceVersion"]
        stored = emulator.emulator.objects["v1/configmaps", "default", "cm4"]
        assert stored["metadata"]["name"] == "cm4" and len(stored.history) == 1


# 11 and kopf: a real operator against the emulator.

OPERATOR = textwrap.dedent(
    """
    import kopf

    @kopf.on.create("example.dev", "v1alpha1", "widgets")
    def created(spec, body, patch, **_):
        patch.status["phase"] = "Created"
        patch.status["workload"] = spec["workload"]["name"]
        kopf.info(body, reason="Seen", message="widget seen")

    @kopf.on.update("example.dev", "v1alpha1", "widgets", field="spec.workload.iterations")
    def updated(new, patch, **_):
        patch.status["iterations"] = new

    @kopf.on.delete("example.dev", "v1alpha1", "widgets")
    def deleted(**_):
        pass
    """
)


def test_kopf_operator_handles_create_update_delete(tmp_path: Path) -> None:
    operator = tmp_path / "operator.py"
    operator.write_text(OPERATOR)
    with EmulatorProcess(tmp_path / "cluster") as emulator:
        api = kubernetes.config.new_client_from_config(config_file=str(emulator.kubeconfig))
        kubernetes.client.ApiextensionsV1Api(api).create_custom_resource_definition(WIDGET_CRD)
        env = {**os.environ, "KUBECONFIG": str(emulator.kubeconfig)}
        with (tmp_path / "kopf.log").open("w") as log:
            kopf = subprocess.Popen(
                [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", str(operator)],
                stdout=log, stderr=log, env=env,
            )  # fmt: skip
        try:
            custom = kubernetes.client.CustomObjectsApi(api)
            args = (GROUP, VERSION, "default", "widgets")
            custom.create_namespaced_custom_object(*args, widget("k1"))

            def status() -> dict[str, Any]:
                found: dict[str, Any] = custom.get_namespaced_custom_object(*args, "k1").get(
                    "status", {}
                )
                return found

            wait_for(lambda: status().get("phase") == "Created", what="create handler", **SOON)
            assert status()["workload"] == "cluster-density-v2"
            finalizers = custom.get_namespaced_custom_object(*args, "k1")["metadata"]["finalizers"]
            assert finalizers == ["kopf.zalando.org/KopfFinalizerMarker"]

            custom.patch_namespaced_custom_object(
                *args, "k1", {"spec": {"workload": {"iterations": 42}}}
            )
            wait_for(lambda: status().get("iterations") == 42, what="update handler", **SOON)

            core = kubernetes.client.CoreV1Api(api)
            events = wait_for(
                lambda: (
                    core.list_namespaced_event(
                        "default", field_selector="involvedObject.name=k1"
                    ).items
                ),
                what="kopf's event",
                **SOON,
            )
            assert [(e.reason, e.message, e.involved_object.kind) for e in events] == [
                ("Seen", "widget seen", "Widget")
            ]

            custom.delete_namespaced_custom_object(*args, "k1")

            def gone() -> bool:
                try:
                    custom.get_namespaced_custom_object(*args, "k1")
                except ApiException as exc:
                    return exc.status == 404
                return False

            wait_for(gone, what="kopf to release the finalizer", **SOON)
        finally:
            kopf.send_signal(signal.SIGTERM)
            kopf.wait(timeout=20)
            api.close()


# 12. The runner.


def test_runner_prints_ready_writes_kubeconfig_and_stops_on_sigterm(tmp_path: Path) -> None:
    kubeconfig, ready = tmp_path / "kubeconfig", tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(HACK_DIR)}
    command = [
        sys.executable,
        "-m",
        "localstack.emulator",
        "--port",
        "0",
        "--kubeconfig",
        str(kubeconfig),
    ]
    process = subprocess.Popen(
        [*command, "--ready-file", str(ready), "--log-file", str(tmp_path / "log")],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        wait_for(ready.exists, what="the ready file", **SOON)
        url = ready.read_text().strip()
        assert process.stdout is not None
        assert process.stdout.readline() == f"emulator ready at {url}\n"
        port = int(url.rsplit(":", 1)[1])
        assert url == f"http://127.0.0.1:{port}" and port > 0

        config = yaml.safe_load(kubeconfig.read_text())
        assert config["current-context"] == "emulator"
        assert config["clusters"] == [{"name": "emulator", "cluster": {"server": url}}]
        assert config["contexts"][0]["context"] == {
            "cluster": "emulator",
            "user": "emulator",
            "namespace": "default",
        }
        assert config["users"][0]["name"] == "emulator" and config["users"][0]["user"]["token"]
        with urllib.request.urlopen(f"{url}/version", timeout=5) as response:
            assert json.load(response)["gitVersion"].startswith("v1.")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    assert process.stdout.read() == ""  # exactly one line was printed


# Pure helpers with known answers.


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"),
     (3 * 3600, "3h"), (3 * 3600 + 60 * 5, "3h5m"), (9 * 3600, "9h"), (2 * 86400, "2d"),
     (2 * 86400 + 3600, "2d1h"), (10 * 86400, "10d"), (800 * 86400, "2y70d")],
)  # fmt: skip
def test_ages_read_like_kubectl(seconds: int, text: str) -> None:
    assert human_duration(datetime.timedelta(seconds=seconds)) == text


def test_printer_column_json_paths() -> None:
    obj = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "Done", "status": "True"},
            ],
            "runs": [{"n": 1}, {"n": 2}],
        }
    }
    assert evaluate_json_path(obj, '.status.conditions[?(@.type=="Done")].status') == ["True"]
    assert evaluate_json_path(obj, ".status.runs[*].n") == [1, 2]
    assert evaluate_json_path(obj, ".status.runs[-1].n") == [2]
    assert evaluate_json_path(obj, "{.status.missing.field}") == []
