"""The Kubernetes API emulator, driven by the clients that must work against it unmodified:
the `kubernetes` Python client, kubectl (asserting on its real output) and a kopf operator."""

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
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import kubernetes
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from localstack.emulator.process import EmulatorProcess, RunningEmulator, running_emulator
from localstack.emulator.tables import evaluate_json_path, human_duration
from localstack.objects import wait_for

KUBECTL = "/usr/bin/kubectl"
GROUP, VERSION = "example.dev", "v1alpha1"
HACK_DIR = Path(__file__).resolve().parents[2] / "hack"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.dev"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
            "categories": ["example"],
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Platform", "type": "string", "jsonPath": ".spec.target.platform"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {
                        "name": "Result",
                        "type": "string",
                        "jsonPath": ".status.verdict.result",
                        "priority": 1,
                    },
                    {
                        "name": "Ready",
                        "type": "string",
                        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                    },
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["workload"],
                                "properties": {
                                    "target": {
                                        "type": "object",
                                        "default": {},
                                        "properties": {
                                            "platform": {
                                                "type": "string",
                                                "enum": ["Auto", "AWS", "GCP"],
                                                "default": "Auto",
                                            },
                                            "namespace": {
                                                "type": "string",
                                                "default": "perftest-runs",
                                                "maxLength": 20,
                                                "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                                            },
                                        },
                                    },
                                    "workload": {
                                        "type": "object",
                                        "required": ["name"],
                                        "properties": {
                                            "name": {"type": "string", "minLength": 1},
                                            "iterations": {
                                                "type": "integer",
                                                "minimum": 1,
                                                "maximum": 1000,
                                                "default": 10,
                                            },
                                            "extraArgs": {
                                                "type": "array",
                                                "maxItems": 2,
                                                "items": {"type": "string"},
                                            },
                                            "timeout": {"x-kubernetes-int-or-string": True},
                                        },
                                    },
                                    "metrics": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "direction": {
                                                    "type": "string",
                                                    "default": "LowerIsBetter",
                                                },
                                            },
                                        },
                                    },
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                    "note": {"type": "string", "nullable": True},
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}

# Cluster-scoped, no status subresource, no printer columns: the other shape of a CRD.
GADGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.tools.example.dev"},
    "spec": {
        "group": "tools.example.dev",
        "scope": "Cluster",
        "names": {
            "plural": "gadgets",
            "singular": "gadget",
            "kind": "Gadget",
            "shortNames": ["gd"],
        },
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


def error_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def table_rows(output: str) -> list[list[str]]:
    """kubectl's table output as rows of cells (columns are separated by 2+ spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


Kubectl = Callable[..., subprocess.CompletedProcess[str]]
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
    home = tmp_path_factory.mktemp("home")  # kubectl's discovery cache goes to $HOME/.kube
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "KUBECONFIG": str(emulator.kubeconfig),
    }

    def run(
        *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [KUBECTL, *args], input=input, capture_output=True, text=True, env=env, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run


@pytest.fixture(scope="module")
def widgets(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Widget CRD, applied with kubectl as a user would; returns kubectl's output."""
    crds = tmp_path_factory.mktemp("crds")
    (crds / "widgets.yaml").write_text(yaml.safe_dump(WIDGET_CRD))
    return kubectl("apply", "-f", str(crds)).stdout


@pytest.fixture()
def ns(api: kubernetes.client.ApiClient) -> Iterator[str]:
    """A fresh namespace in this module's emulator, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def get_json(emulator: RunningEmulator, path: str, accept: str = "application/json") -> Any:
    request = urllib.request.Request(emulator.url + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"workload": {"name": "cluster-density-v2"}, **spec},
    }


# 1. Metadata on create, 409 and 404.


def test_create_stamps_server_metadata(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "first"}}).to_dict()
    second = core.create_namespaced_config_map(ns, {"metadata": {"name": "second"}}).to_dict()
    listing = core.list_namespaced_config_map(ns)

    meta = first["metadata"]
    assert uuid.UUID(meta["uid"]).version == 4
    assert meta["uid"] != second["metadata"]["uid"]
    assert meta["namespace"] == ns  # from the URL: the body had none
    assert meta["generation"] == 1
    assert before <= meta["creation_timestamp"] <= datetime.datetime.now(datetime.UTC)
    assert int(second["metadata"]["resource_version"]) > int(meta["resource_version"])
    assert int(listing.metadata.resource_version) >= int(second["metadata"]["resource_version"])

    raw = core.read_namespaced_config_map("first", ns, _preload_content=False)
    timestamp = json.loads(raw.data)["metadata"]["creationTimestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", timestamp)


def test_generate_name_adds_a_random_suffix(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    names = {
        core.create_namespaced_config_map(ns, {"metadata": {"generateName": "run-"}}).metadata.name
        for _ in range(3)
    }
    assert len(names) == 3
    assert all(re.fullmatch(r"run-[bcdfghjklmnpqrstvwxz2456789]{5}", name) for name in names)


def test_conflicts_and_missing_objects_have_status_reasons(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "once"}})
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "once"}})
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("absent", ns)
    with pytest.raises(ApiException) as missing_namespace:
        core.create_namespaced_config_map("no-such-namespace", {"metadata": {"name": "x"}})

    assert conflict.value.status == 409
    assert error_of(conflict.value)["reason"] == "AlreadyExists"
    assert error_of(conflict.value)["message"] == 'configmaps "once" already exists'
    assert error_of(conflict.value)["details"] == {"name": "once", "kind": "configmaps"}
    assert missing.value.status == 404
    assert error_of(missing.value)["reason"] == "NotFound"
    assert error_of(missing.value)["kind"] == "Status"
    assert (
        error_of(missing_namespace.value)["message"] == 'namespaces "no-such-namespace" not found'
    )


def test_stale_resource_version_is_a_conflict(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    created = core.create_namespaced_config_map(
        ns, {"metadata": {"name": "cas"}, "data": {"a": "1"}}
    )
    core.patch_namespaced_config_map("cas", ns, {"data": {"a": "2"}})
    stale = {"metadata": {"name": "cas", "resourceVersion": created.metadata.resource_version}}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cas", ns, {**stale, "data": {"a": "3"}})
    assert conflict.value.status == 409
    assert error_of(conflict.value)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("cas", ns).data == {"a": "2"}


# 2. Label and field selectors.


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"a", "b"}),
        ("app==web", {"a", "b"}),
        ("app!=web", {"c", "d"}),
        ("tier in (front,back)", {"a", "c"}),
        ("tier notin (front)", {"b", "c", "d"}),
        ("tier", {"a", "c"}),
        ("!tier", {"b", "d"}),
        ("app=web,tier=front", {"a"}),
        ("app in (web,db),!tier", {"b"}),
    ],
)
def test_label_selectors(
    api: kubernetes.client.ApiClient, ns: str, selector: str, expected: set[str]
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    labels = {
        "a": {"app": "web", "tier": "front"},
        "b": {"app": "web"},
        "c": {"app": "db", "tier": "back"},
        "d": {},
    }
    for name, object_labels in labels.items():
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": object_labels}})
    found = core.list_namespaced_config_map(ns, label_selector=selector)
    assert {item.metadata.name for item in found.items} == expected


def test_field_selectors_on_names_namespaces_and_events(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    for name in ("one", "two"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    by_name = core.list_namespaced_config_map(ns, field_selector="metadata.name=two")
    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns}")
    not_one = core.list_namespaced_config_map(ns, field_selector="metadata.name!=one")
    assert [item.metadata.name for item in by_name.items] == ["two"]
    assert sorted(item.metadata.name for item in everywhere.items) == ["one", "two"]
    assert [item.metadata.name for item in not_one.items] == ["two"]

    def post(name: str, kind: str, uid: str) -> None:
        core.create_namespaced_event(
            ns,
            {
                "metadata": {"generateName": f"{name}."},
                "involvedObject": {"kind": kind, "name": name, "namespace": ns, "uid": uid},
                "reason": "Tested",
                "message": f"about {name}",
                "type": "Normal",
            },
        )

    post("w1", "Widget", "uid-1")
    post("w2", "Widget", "uid-2")
    post("w1", "Pod", "uid-3")

    def messages(selector: str) -> list[tuple[str, str]]:
        found = core.list_namespaced_event(ns, field_selector=selector).items
        return sorted((e.involved_object.kind, e.involved_object.uid) for e in found)

    assert messages("involvedObject.name=w1") == [("Pod", "uid-3"), ("Widget", "uid-1")]
    assert messages("involvedObject.kind=Widget") == [("Widget", "uid-1"), ("Widget", "uid-2")]
    assert messages("involvedObject.uid=uid-2") == [("Widget", "uid-2")]
    assert messages("involvedObject.name=w1,involvedObject.kind=Widget") == [("Widget", "uid-1")]
    with pytest.raises(ApiException) as unsupported:
        core.list_namespaced_config_map(ns, field_selector="data.key=x")
    assert unsupported.value.status == 400


# 3. Namespaces.


def test_namespaces_are_listed_created_and_deleted_with_their_content(
    api: kubernetes.client.ApiClient,
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    created = core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "inside"}})
    names = {item.metadata.name for item in core.list_namespace().items}
    assert {"default", "kube-system", "doomed"} <= names
    assert created.status.phase == "Active"

    core.delete_namespace("doomed")
    wait_for(
        lambda: "doomed" not in {n.metadata.name for n in core.list_namespace().items},
        what="gone",
        **SOON,
    )
    assert core.list_namespaced_config_map("doomed").items == []


def test_namespace_waits_for_finalized_content(api: kubernetes.client.ApiClient) -> None:
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "held"}})
    held = {"metadata": {"name": "held", "finalizers": ["example.dev/hold"]}}
    core.create_namespaced_config_map("held", held)
    core.delete_namespace("held")

    terminating = wait_for(
        lambda: core.read_namespace("held").status.phase == "Terminating",
        what="the namespace to terminate",
        **SOON,
    )
    assert terminating
    assert core.read_namespaced_config_map("held", "held").metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("held", {"metadata": {"name": "late"}})
    assert refused.value.status == 403

    core.patch_namespaced_config_map("held", "held", {"metadata": {"finalizers": None}})
    wait_for(
        lambda: "held" not in {n.metadata.name for n in core.list_namespace().items},
        what="gone",
        **SOON,
    )


# 4. Built-in resources in discovery.


@pytest.mark.parametrize(
    ("group_version", "plural", "kind", "namespaced", "short_names", "subresources"),
    [
        ("v1", "namespaces", "Namespace", False, ["ns"], ["status"]),
        ("v1", "configmaps", "ConfigMap", True, ["cm"], []),
        ("v1", "secrets", "Secret", True, [], []),
        ("v1", "events", "Event", True, ["ev"], []),
        ("v1", "pods", "Pod", True, ["po"], ["status"]),
        ("v1", "nodes", "Node", False, ["no"], ["status"]),
        ("v1", "serviceaccounts", "ServiceAccount", True, ["sa"], ["token"]),
        ("batch/v1", "jobs", "Job", True, [], ["status"]),
        ("events.k8s.io/v1", "events", "Event", True, ["ev"], []),
        (
            "apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition",
            False, ["crd", "crds"], ["status"],
        ),
        ("coordination.k8s.io/v1", "leases", "Lease", True, [], []),
        ("rbac.authorization.k8s.io/v1", "roles", "Role", True, [], []),
        ("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True, [], []),
        ("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False, [], []),
        ("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False, [], []),
    ],
)  # fmt: skip
def test_builtin_resources_are_discoverable(
    emulator: RunningEmulator,
    group_version: str,
    plural: str,
    kind: str,
    namespaced: bool,
    short_names: list[str],
    subresources: list[str],
) -> None:
    prefix = "/api" if group_version == "v1" else "/apis"
    listing = get_json(emulator, f"{prefix}/{group_version}")
    entries = {entry["name"]: entry for entry in listing["resources"]}
    entry = entries[plural]
    assert listing["groupVersion"] == group_version
    assert (entry["kind"], entry["namespaced"], entry.get("shortNames", [])) == (
        kind,
        namespaced,
        short_names,
    )
    assert entry["singularName"] == kind.lower()
    assert set(entry["verbs"]) >= {"create", "delete", "get", "list", "patch", "update", "watch"}
    assert (
        sorted(name.split("/")[1] for name in entries if name.startswith(f"{plural}/"))
        == subresources
    )
    if group_version != "v1":
        groups = {group["name"]: group for group in get_json(emulator, "/apis")["groups"]}
        group, version = group_version.split("/")
        assert groups[group]["preferredVersion"]["version"] == version


# 5. CRDs are live.


def test_crd_registers_and_unregisters_its_resource(
    api: kubernetes.client.ApiClient, emulator: RunningEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    (tmp_path / "gadgets.yaml").write_text(yaml.safe_dump(GADGET_CRD))
    applied = kubectl("apply", "-f", str(tmp_path / "gadgets.yaml"))
    assert (
        applied.stdout.strip()
        == "customresourcedefinition.apiextensions.k8s.io/gadgets.tools.example.dev created"
    )

    crd = kubernetes.client.ApiextensionsV1Api(api).read_custom_resource_definition(
        "gadgets.tools.example.dev"
    )
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
    assert crd.status.accepted_names.kind == "Gadget"
    assert crd.status.accepted_names.list_kind == "GadgetList"
    assert crd.status.stored_versions == ["v1"]
    group = next(
        g for g in get_json(emulator, "/apis")["groups"] if g["name"] == "tools.example.dev"
    )
    assert group["preferredVersion"]["version"] == "v1"
    [entry] = get_json(emulator, "/apis/tools.example.dev/v1")["resources"]
    assert (entry["name"], entry["singularName"], entry["kind"]) == ("gadgets", "gadget", "Gadget")
    assert (entry["namespaced"], entry["shortNames"]) == (False, ["gd"])

    custom = kubernetes.client.CustomObjectsApi(api)
    custom.create_cluster_custom_object(
        "tools.example.dev", "v1", "gadgets",
        {"apiVersion": "tools.example.dev/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "x": 1},
    )  # fmt: skip
    assert kubectl("get", "gd", "g1", "-o", "jsonpath={.x}").stdout == "1"

    kubectl("delete", "crd", "gadgets.tools.example.dev")
    with pytest.raises(urllib.error.HTTPError) as gone:
        get_json(emulator, "/apis/tools.example.dev/v1")
    assert gone.value.code == 404
    assert "tools.example.dev" not in {g["name"] for g in get_json(emulator, "/apis")["groups"]}
    with pytest.raises(ApiException) as unserved:
        custom.list_cluster_custom_object("tools.example.dev", "v1", "gadgets")
    assert unserved.value.status == 404


def test_widget_crd_details_are_discoverable(widgets: str, emulator: RunningEmulator) -> None:
    assert (
        widgets.strip()
        == "customresourcedefinition.apiextensions.k8s.io/widgets.example.dev created"
    )
    entries = {e["name"]: e for e in get_json(emulator, f"/apis/{GROUP}/{VERSION}")["resources"]}
    assert entries["widgets"]["categories"] == ["example"]
    assert entries["widgets"]["namespaced"] is True
    assert entries["widgets/status"]["kind"] == "Widget"


def test_crd_versions_share_storage_and_the_best_version_is_preferred(
    api: kubernetes.client.ApiClient, emulator: RunningEmulator, ns: str
) -> None:
    def version(
        name: str, *, storage: bool, served: bool = True, default: int = 1
    ) -> dict[str, Any]:
        size = {"type": "integer", "default": default}
        schema = {
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"size": size}}},
        }
        return {
            "name": name,
            "served": served,
            "storage": storage,
            "schema": {"openAPIV3Schema": schema},
        }

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "bolts.versions.example.dev"},
        "spec": {
            "group": "versions.example.dev",
            "scope": "Namespaced",
            "names": {"plural": "bolts", "kind": "Bolt"},
            "versions": [
                version("v1alpha1", storage=True),
                version("v1beta1", storage=False, default=2),
                version("v1", storage=False, served=False),
            ],
        },
    }
    kubernetes.client.ApiextensionsV1Api(api).create_custom_resource_definition(crd)
    group = next(
        g for g in get_json(emulator, "/apis")["groups"] if g["name"] == "versions.example.dev"
    )
    assert [v["version"] for v in group["versions"]] == ["v1alpha1", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1beta1"

    custom = kubernetes.client.CustomObjectsApi(api)
    body = {
        "apiVersion": "versions.example.dev/v1beta1",
        "kind": "Bolt",
        "metadata": {"name": "b"},
        "spec": {},
    }
    created = custom.create_namespaced_custom_object(
        "versions.example.dev", "v1beta1", ns, "bolts", body
    )
    old = custom.get_namespaced_custom_object("versions.example.dev", "v1alpha1", ns, "bolts", "b")
    assert created["spec"] == {"size": 2}  # the schema of the version written to
    assert (old["apiVersion"], old["metadata"]["uid"]) == (
        "versions.example.dev/v1alpha1",
        created["metadata"]["uid"],
    )
    with pytest.raises(ApiException) as unserved:
        custom.get_namespaced_custom_object("versions.example.dev", "v1", ns, "bolts", "b")
    assert unserved.value.status == 404


# 6. Schema: validation, defaults, pruning.


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"workload": {"name": "x", "iterations": 0}},
            "spec.workload.iterations: Invalid value: 0: spec.workload.iterations in body"
            " should be greater than or equal to 1",
        ),
        (
            {"workload": {"name": "x", "iterations": 5000}},
            "spec.workload.iterations: Invalid value: 5000: spec.workload.iterations in body"
            " should be less than or equal to 1000",
        ),
        (
            {"workload": {"name": "x"}, "target": {"platform": "Azure"}},
            'spec.target.platform: Unsupported value: "Azure": supported values: "Auto", "AWS", "GCP"',
        ),
        ({"target": {}}, "spec.workload: Required value"),
        (
            {"workload": {"name": "x", "iterations": "ten"}},
            'spec.workload.iterations: Invalid value: "string": spec.workload.iterations in body'
            ' must be of type integer: "string"',
        ),
        (
            {"workload": {"name": "x"}, "target": {"namespace": "Bad_Name"}},
            'spec.target.namespace: Invalid value: "Bad_Name": spec.target.namespace in body should'
            " match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
        ),
        (
            {"workload": {"name": ""}},
            'spec.workload.name: Invalid value: "": spec.workload.name in body should be at least'
            " 1 chars long",
        ),
        (
            {"workload": {"name": "x"}, "target": {"namespace": "a" * 21}},
            "spec.target.namespace: Too long: may not be longer than 20",
        ),
        (
            {"workload": {"name": "x"}, "metrics": []},
            "spec.metrics: Invalid value: 0: spec.metrics in body should have at least 1 items",
        ),
        (
            {"workload": {"name": "x", "extraArgs": ["a", "b", "c"]}},
            "spec.workload.extraArgs: Too many: 3: must have at most 2 items",
        ),
    ],
)
def test_schema_violations_are_422_naming_the_field(
    api: kubernetes.client.ApiClient,
    widgets: str,
    ns: str,
    spec: dict[str, Any],
    message: str,
) -> None:
    custom = kubernetes.client.CustomObjectsApi(api)
    body = {**widget("bad"), "spec": spec}
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, "widgets", body)
    error = error_of(invalid.value)
    assert invalid.value.status == 422
    assert error["reason"] == "Invalid"
    assert error["message"] == f'Widget.example.dev "bad" is invalid: {message}'
    assert error["details"]["causes"][0]["field"] == message.split(":")[0]


def test_schema_defaults_pruning_and_preserved_fields(
    api: kubernetes.client.ApiClient, widgets: str, ns: str
) -> None:
    custom = kubernetes.client.CustomObjectsApi(api)
    body = widget(
        "shaped",
        metrics=[{"name": "latency"}],
        extra={"free": {"form": [1, 2]}},
        note=None,
        unknownTopLevel=True,
    )
    body["spec"]["workload"].update(timeout="1h", typo=3)
    created = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "widgets", body)
    spec = created["spec"]
    assert spec["target"] == {"platform": "Auto", "namespace": "perftest-runs"}  # nested defaults
    assert spec["workload"] == {"name": "cluster-density-v2", "iterations": 10, "timeout": "1h"}
    assert spec["metrics"] == [{"name": "latency", "direction": "LowerIsBetter"}]
    assert spec["extra"] == {"free": {"form": [1, 2]}}
    assert spec["note"] is None
    assert "unknownTopLevel" not in spec

    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, "widgets", "shaped", {"spec": {"workload": {"timeout": 3600}}}
    )
    assert patched["spec"]["workload"]["timeout"] == 3600  # int-or-string takes both


# 7. Status subresource, generation, patch types.


def test_status_subresource_and_generation(
    api: kubernetes.client.ApiClient, widgets: str, ns: str
) -> None:
    custom = kubernetes.client.CustomObjectsApi(api)
    args = (GROUP, VERSION, ns, "widgets")
    created = custom.create_namespaced_custom_object(
        *args, {**widget("w"), "status": {"phase": "Fake"}}
    )
    assert "status" not in created  # status is ignored on create
    assert created["metadata"]["generation"] == 1

    labelled = custom.patch_namespaced_custom_object(
        *args, "w", {"metadata": {"labels": {"a": "b"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )

    status = custom.patch_namespaced_custom_object_status(
        *args, "w", {"status": {"phase": "Running"}, "spec": {"workload": {"name": "ignored"}}}
    )
    assert status["status"] == {"phase": "Running"}
    assert status["spec"]["workload"]["name"] == "cluster-density-v2"
    assert status["metadata"]["generation"] == 1

    main = custom.patch_namespaced_custom_object(
        *args, "w", {"spec": {"workload": {"iterations": 3}}, "status": {"phase": "Ignored"}}
    )
    assert main["metadata"]["generation"] == 2
    assert main["status"] == {"phase": "Running"}

    replaced = custom.replace_namespaced_custom_object_status(
        *args, "w", {**main, "spec": {"workload": {"name": "nope"}}, "status": {"phase": "Done"}}
    )
    assert replaced["status"] == {"phase": "Done"}
    assert replaced["spec"]["workload"]["name"] == "cluster-density-v2"
    assert replaced["metadata"]["generation"] == 2

    unchanged = custom.patch_namespaced_custom_object(
        *args, "w", {"spec": {"workload": {"iterations": 3}}}
    )
    assert unchanged["metadata"]["resourceVersion"] == replaced["metadata"]["resourceVersion"]


def test_generation_without_status_subresource_ignores_status(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    created = core.create_namespaced_config_map(ns, {"metadata": {"name": "g"}, "data": {"a": "1"}})
    annotated = core.patch_namespaced_config_map("g", ns, {"metadata": {"annotations": {"x": "y"}}})
    changed = core.patch_namespaced_config_map("g", ns, {"data": {"a": "2"}})
    assert created.metadata.generation == annotated.metadata.generation == 1
    assert changed.metadata.generation == 2


def test_strategic_merge_patch_is_refused_for_custom_resources(
    kubectl: Kubectl, widgets: str, ns: str
) -> None:
    manifest = yaml.safe_dump({**widget("smp"), "metadata": {"name": "smp", "namespace": ns}})
    kubectl("apply", "-f", "-", input=manifest)
    refused = kubectl(
        "patch", "widget", "smp", "-n", ns, "-p", '{"spec": {"note": "x"}}', check=False
    )
    assert refused.returncode == 1
    assert "application/strategic-merge-patch+json is not supported" in refused.stderr
    merged = kubectl(
        "patch", "widget", "smp", "-n", ns, "--type=merge", "-p", '{"spec": {"note": "x"}}'
    )
    assert merged.stdout.strip() == "widget.example.dev/smp patched"


def test_merge_strategic_and_json_patches(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    body = {
        "metadata": {"name": "p", "labels": {"keep": "1", "drop": "1"}},
        "data": {"a": "1", "b": "2"},
    }
    core.create_namespaced_config_map(ns, body)

    merged = core.patch_namespaced_config_map(
        "p", ns, {"metadata": {"labels": {"drop": None}}, "data": {"b": None, "c": "3"}},
        _content_type="application/merge-patch+json",
    ).to_dict()  # fmt: skip
    assert merged["metadata"]["labels"] == {"keep": "1"}
    assert merged["data"] == {"a": "1", "c": "3"}

    strategic = core.patch_namespaced_config_map("p", ns, {"data": {"d": "4"}})  # strategic
    assert strategic.data == {"a": "1", "c": "3", "d": "4"}

    patched = core.patch_namespaced_config_map(
        "p", ns,
        [
            {"op": "test", "path": "/data/a", "value": "1"},
            {"op": "add", "path": "/data/e", "value": "5"},
            {"op": "replace", "path": "/data/a", "value": "9"},
            {"op": "remove", "path": "/data/c"},
        ],
    )  # fmt: skip
    assert patched.data == {"a": "9", "d": "4", "e": "5"}
    with pytest.raises(ApiException) as failed:
        core.patch_namespaced_config_map("p", ns, [{"op": "test", "path": "/data/a", "value": "1"}])
    assert failed.value.status == 422
    assert core.read_namespaced_config_map("p", ns).data == patched.data


# 8. Garbage collection and finalizers.


def owned_by(owner: Any, name: str, **metadata: Any) -> dict[str, Any]:
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
    }
    return {"metadata": {"name": name, "ownerReferences": [reference], **metadata}}


def test_deleting_an_owner_deletes_its_dependents_recursively(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    child = core.create_namespaced_config_map(ns, owned_by(owner, "child"))
    core.create_namespaced_config_map(ns, owned_by(child, "grandchild"))
    core.create_namespaced_config_map(ns, {"metadata": {"name": "bystander"}})

    core.delete_namespaced_config_map("owner", ns)

    def names() -> set[str]:
        return {item.metadata.name for item in core.list_namespaced_config_map(ns).items}

    wait_for(lambda: names() == {"bystander"}, what="dependents collected", **SOON)


def test_finalizers_hold_dependents_and_orphaning_keeps_them(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(ns, owned_by(owner, "held", finalizers=["example.dev/x"]))
    core.delete_namespaced_config_map("owner", ns)

    held = wait_for(
        lambda: core.read_namespaced_config_map("held", ns).metadata.deletion_timestamp,
        what="deletionTimestamp",
        **SOON,
    )
    assert held
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("held", ns)
    assert gone.value.status == 404

    parent = core.create_namespaced_config_map(ns, {"metadata": {"name": "parent"}})
    core.create_namespaced_config_map(ns, owned_by(parent, "orphan"))
    core.delete_namespaced_config_map("parent", ns, propagation_policy="Orphan")
    orphan = wait_for(
        lambda: (
            (o := core.read_namespaced_config_map("orphan", ns)).metadata.owner_references is None
            and o
        ),
        what="the namespace to terminate",
        **SOON,
    )
    assert orphan.metadata.name == "orphan"


# 9 and 10. kubectl, events.


def test_kubectl_apply_get_annotate_delete(kubectl: Kubectl, widgets: str, ns: str) -> None:
    manifest = yaml.safe_dump({**widget("demo"), "metadata": {"name": "demo", "namespace": ns}})
    assert (
        kubectl("apply", "-f", "-", input=manifest).stdout.strip()
        == "widget.example.dev/demo created"
    )
    assert (
        kubectl("apply", "-f", "-", input=manifest).stdout.strip()
        == "widget.example.dev/demo unchanged"
    )
    kubectl(
        "patch", "widget", "demo", "-n", ns, "--subresource=status", "--type=merge",
        "-p", '{"status": {"phase": "Running", "verdict": {"result": "Pass"},'
        ' "conditions": [{"type": "Ready", "status": "True"}]}}',
    )  # fmt: skip

    header, row = table_rows(kubectl("get", "widgets", "-n", ns).stdout)
    assert header == ["NAME", "PLATFORM", "PHASE", "READY", "AGE"]
    assert row[:4] == ["demo", "Auto", "Running", "True"]
    assert re.fullmatch(r"\d+s", row[4])
    # the short name lists the same object (its age may have ticked on since)
    by_short_name = table_rows(kubectl("get", "wd", "-n", ns).stdout)
    assert [by_short_name[0], by_short_name[1][:4]] == [header, row[:4]]
    wide_header, wide_row = table_rows(
        kubectl("get", "widget", "demo", "-n", ns, "-o", "wide").stdout
    )
    assert wide_header == ["NAME", "PLATFORM", "PHASE", "RESULT", "READY", "AGE"]
    assert wide_row[:5] == ["demo", "Auto", "Running", "Pass", "True"]
    everywhere = table_rows(kubectl("get", "widgets", "-A").stdout)
    assert everywhere[0] == ["NAMESPACE", "NAME", "PLATFORM", "PHASE", "READY", "AGE"]
    assert [ns, "demo", "Auto", "Running", "True"] in [r[:5] for r in everywhere[1:]]

    kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=a=b")
    combined = kubectl("get", "widgets,configmaps", "-n", ns).stdout
    assert "widget.example.dev/demo" in combined and "configmap/settings" in combined

    as_yaml = yaml.safe_load(kubectl("get", "widget", "demo", "-n", ns, "-o", "yaml").stdout)
    as_json = json.loads(kubectl("get", "widgets", "-n", ns, "-o", "json").stdout)
    assert as_yaml["spec"]["target"] == {"platform": "Auto", "namespace": "perftest-runs"}
    assert (
        as_json["kind"] == "List"
        and as_json["items"][0]["metadata"]["uid"] == as_yaml["metadata"]["uid"]
    )

    annotated = kubectl("annotate", "widget/demo", "-n", ns, "team=perf", "--overwrite")
    assert annotated.stdout.strip() == "widget.example.dev/demo annotated"
    read = kubectl("get", "widget", "demo", "-n", ns, "-o", "jsonpath={.metadata.annotations.team}")
    assert read.stdout == "perf"

    deleted = kubectl("delete", "widget", "demo", "-n", ns)
    assert deleted.stdout.strip() == 'widget.example.dev "demo" deleted'
    assert (
        kubectl("get", "widgets", "-n", ns).stderr.strip()
        == f"No resources found in {ns} namespace."
    )


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
    """These send protobuf bodies (no JSON fallback): namespace, configmap, secret, SA."""
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    name = f"gen-{uuid.uuid4().hex[:6]}"
    assert kubectl("create", "namespace", name).stdout.strip() == f"namespace/{name} created"
    kubectl("create", "configmap", "c", "-n", name, "--from-literal=a=b", "--from-literal=c=d")
    kubectl(
        "create", "secret", "generic", "target", "-n", name,
        f"--from-file=kubeconfig={tmp_path / 'kubeconfig'}", "--from-literal=token=t0ken",
    )  # fmt: skip
    kubectl("create", "serviceaccount", "runner", "-n", name)

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


def test_kubectl_reports_validation_errors(kubectl: Kubectl, widgets: str, ns: str) -> None:
    bad = widget("bad", workload={"name": "x", "iterations": 0})
    bad["metadata"]["namespace"] = ns
    invalid = kubectl("apply", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert invalid.returncode == 1
    assert 'The Widget "bad" is invalid' in invalid.stderr
    assert "spec.workload.iterations: Invalid value: 0" in invalid.stderr

    typo = widget("typo", workload={"name": "x", "iteratons": 3})
    typo["metadata"]["namespace"] = ns
    unknown = kubectl("apply", "-f", "-", input=yaml.safe_dump(typo), check=False)
    assert unknown.returncode == 1
    assert 'strict decoding error: unknown field "spec.workload.iteratons"' in unknown.stderr


def test_events_core_and_events_k8s_io_are_one_and_kubectl_shows_them(
    api: kubernetes.client.ApiClient, kubectl: Kubectl, ns: str
) -> None:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespaced_event(
        ns,
        {
            "metadata": {"generateName": "demo."},
            "involvedObject": {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Widget",
                "name": "demo",
            },
            "reason": "RunStarted",
            "message": "kube-burner started",
            "type": "Normal",
            "eventTime": now,  # events.k8s.io/v1 requires it (the Python client validates)
            "reportingComponent": "perftest.dev/operator",
            "reportingInstance": "operator-0",
            "action": "Run",
            "firstTimestamp": now,
            "lastTimestamp": now,
        },
    )
    kubernetes.client.EventsV1Api(api).create_namespaced_event(
        ns,
        {
            "metadata": {"name": "regression"},
            "regarding": {"kind": "Widget", "name": "demo", "namespace": ns},
            "reason": "RegressionDetected",
            "note": "readOnlyAPICallsLatency up 306%",
            "type": "Warning",
            "eventTime": now,
            "reportingController": "perftest.dev/operator",
            "reportingInstance": "operator-0",
            "action": "Analyze",
        },
    )

    as_core = {e.reason: e for e in core.list_namespaced_event(ns).items}
    as_new = {
        e.reason: e for e in kubernetes.client.EventsV1Api(api).list_namespaced_event(ns).items
    }
    assert as_core["RegressionDetected"].message == "readOnlyAPICallsLatency up 306%"
    assert as_core["RegressionDetected"].involved_object.name == "demo"
    assert as_new["RunStarted"].note == "kube-burner started"
    assert as_new["RunStarted"].regarding.kind == "Widget"

    header, *rows = table_rows(kubectl("get", "events", "-n", ns).stdout)
    assert header == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert sorted(row[1:] for row in rows) == [
        ["Normal", "RunStarted", "widget/demo", "kube-burner started"],
        ["Warning", "RegressionDetected", "widget/demo", "readOnlyAPICallsLatency up 306%"],
    ]
    assert all(re.fullmatch(r"\d+s", row[0]) for row in rows)


def test_openapi_v3_declares_server_side_field_validation(
    emulator: RunningEmulator, widgets: str
) -> None:
    index = get_json(emulator, "/openapi/v3")
    url = index["paths"][f"apis/{GROUP}/{VERSION}"]["serverRelativeURL"]
    document = get_json(emulator, url)
    path = document["paths"][f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/widgets/{{name}}"]
    assert path["patch"]["x-kubernetes-group-version-kind"] == {
        "group": GROUP,
        "version": VERSION,
        "kind": "Widget",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= path["patch"]["parameters"][
        0
    ].items()


def test_server_side_table_for_a_list(
    emulator: RunningEmulator, api: kubernetes.client.ApiClient, ns: str
) -> None:
    kubernetes.client.CoreV1Api(api).create_namespaced_config_map(ns, {"metadata": {"name": "t"}})
    table = get_json(
        emulator,
        f"/api/v1/namespaces/{ns}/configmaps",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    [row] = table["rows"]
    assert row["cells"][0] == "t"
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == ns


def test_metadata_only_list(
    emulator: RunningEmulator, api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    for name in ("m-1", "m-2"):
        core.create_namespaced_config_map(
            ns, {"metadata": {"name": name, "labels": {"l": name}}, "data": {"k": "v"}}
        )
    listed = get_json(
        emulator,
        f"/api/v1/namespaces/{ns}/configmaps?labelSelector=l%3Dm-2",
        accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
    )
    assert listed["kind"] == "PartialObjectMetadataList"
    assert listed["metadata"]["resourceVersion"]
    [item] = listed["items"]
    assert item["kind"] == "PartialObjectMetadata"
    assert item["metadata"]["name"] == "m-2"
    assert "data" not in item


def test_list_pages_with_limit_and_continue(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    for index in range(5):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"page-{index}"}})
    seen: list[str] = []
    token = None
    while True:
        page = core.list_namespaced_config_map(ns, limit=2, _continue=token)
        seen += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert len(page.items) == 2
    assert seen == [f"page-{index}" for index in range(5)]


# 11. Watches.


def test_watch_resumes_from_a_resource_version_and_honours_the_timeout(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "old", "labels": {"w": "1"}}})
    since = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "new", "labels": {"w": "1"}}})
    core.patch_namespaced_config_map("old", ns, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("new", ns, {"metadata": {"labels": {"w": "2"}}})
    core.delete_namespaced_config_map("old", ns)

    def watch(**options: Any) -> list[tuple[str, str]]:
        stream = kubernetes.watch.Watch().stream(
            core.list_namespaced_config_map, ns, timeout_seconds=1, **options
        )  # ends when the server closes the stream after timeoutSeconds
        return [(event["type"], event["object"].metadata.name) for event in stream]

    assert watch(resource_version=since) == [
        ("ADDED", "new"), ("MODIFIED", "old"), ("MODIFIED", "new"), ("DELETED", "old"),
    ]  # fmt: skip
    assert watch(resource_version=since, label_selector="w=1") == [
        ("ADDED", "new"), ("MODIFIED", "old"), ("DELETED", "new"), ("DELETED", "old"),
    ]  # fmt: skip
    # An object that stops matching goes as DELETED with the content that matched (the API
    # server's watch cache does the same), at the resourceVersion of the change.
    relabelled = core.read_namespaced_config_map("new", ns).metadata.resource_version
    [left] = [
        event["object"]
        for event in kubernetes.watch.Watch().stream(
            core.list_namespaced_config_map,
            ns,
            resource_version=since,
            label_selector="w=1",
            timeout_seconds=1,
        )
        if event["type"] == "DELETED" and event["object"].metadata.name == "new"
    ]
    assert left.metadata.labels == {"w": "1"}
    assert left.metadata.resource_version == relabelled
    assert watch() == [("ADDED", "new")]  # no resourceVersion: what exists now


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
