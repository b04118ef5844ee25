"""Generic Kubernetes API behaviour that the operator, its tests and the local stack rely on:
CRUD and server metadata, 409/404/422 statuses, selectors, namespaces, discovery, CRDs (schemas,
versions, status subresource), patch types, garbage collection and finalizers, kubectl's output,
events, pagination and watches by resourceVersion.

It runs against conftest's `cluster`: the emulator, or a real cluster when
PERFTEST_TEST_KUBECONFIG is set. Every request goes through the `kubernetes` client or kubectl
with the cluster's kubeconfig, never into the emulator's process, so the same assertions hold
for both; what only the emulator does is in `test_emulator.py`. On a real cluster the tests
create namespaces named test-<random>, the CRDs widgets.example.dev, gadgets.tools.example.dev
and bolts.versions.example.dev, and delete them afterwards.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from api_test_objects import (
    GADGET_CRD,
    GROUP,
    VERSION,
    WIDGET_CRD,
    Kubectl,
    error_of,
    get_json,
    kubectl_runner,
    table_rows,
    widget,
)
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.objects import wait_for

# What a real cluster puts in every namespace (kube-controller-manager's root CA publisher);
# the tests count only their own ConfigMaps.
CLUSTER_CONFIG_MAPS = frozenset({"kube-root-ca.crt"})


def own_names(items: Any) -> list[str]:
    """The names of listed objects, without those the cluster itself creates."""
    return [item.metadata.name for item in items if item.metadata.name not in CLUSTER_CONFIG_MAPS]


@pytest.fixture(scope="module")
def soon(cluster: Cluster) -> dict[str, Any]:
    """wait_for()'s patience: the emulator acts at once; a real cluster's controllers (garbage
    collector, namespace controller, CRD establishing) take seconds."""
    if cluster.emulated:
        return {"timeout": 15.0, "interval": 0.05}
    return {"timeout": 180.0, "interval": 1.0}


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Iterator[kubernetes.client.ApiClient]:
    client = cluster.api_client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def kubectl(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return kubectl_runner(cluster.kubeconfig, tmp_path_factory.mktemp("home"))


def served(api: kubernetes.client.ApiClient, group_version: str, plural: str) -> bool:
    """Whether discovery lists the resource (a new CRD's is served once it is established)."""
    try:
        listing = get_json(api, f"/apis/{group_version}")
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return plural in {entry["name"] for entry in listing["resources"]}


def delete_crd(api: kubernetes.client.ApiClient, name: str) -> None:
    with contextlib.suppress(ApiException):
        kubernetes.client.ApiextensionsV1Api(api).delete_custom_resource_definition(name)


@pytest.fixture(scope="module")
def widgets(
    api: kubernetes.client.ApiClient,
    kubectl: Kubectl,
    tmp_path_factory: pytest.TempPathFactory,
    soon: dict[str, Any],
) -> Iterator[str]:
    """The Widget CRD, applied with kubectl as a user would; returns kubectl's output."""
    crds = tmp_path_factory.mktemp("crds")
    (crds / "widgets.yaml").write_text(yaml.safe_dump(WIDGET_CRD))
    output = kubectl("apply", "-f", str(crds)).stdout
    wait_for(lambda: served(api, f"{GROUP}/{VERSION}", "widgets"), what="widgets served", **soon)
    yield output
    delete_crd(api, WIDGET_CRD["metadata"]["name"])


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
    assert set(own_names(found.items)) == expected


def test_field_selectors_on_names_namespaces_and_events(
    api: kubernetes.client.ApiClient, ns: str
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    for name in ("one", "two"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    by_name = core.list_namespaced_config_map(ns, field_selector="metadata.name=two")
    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns}")
    not_one = core.list_namespaced_config_map(ns, field_selector="metadata.name!=one")
    assert own_names(by_name.items) == ["two"]
    assert sorted(own_names(everywhere.items)) == ["one", "two"]
    assert own_names(not_one.items) == ["two"]

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
    api: kubernetes.client.ApiClient, soon: dict[str, Any]
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    doomed = f"doomed-{uuid.uuid4().hex[:8]}"
    created = core.create_namespace({"metadata": {"name": doomed}})
    core.create_namespaced_config_map(doomed, {"metadata": {"name": "inside"}})
    names = {item.metadata.name for item in core.list_namespace().items}
    assert {"default", "kube-system", doomed} <= names
    assert created.status.phase == "Active"

    core.delete_namespace(doomed)
    wait_for(
        lambda: doomed not in {n.metadata.name for n in core.list_namespace().items},
        what="gone",
        **soon,
    )
    assert own_names(core.list_namespaced_config_map(doomed).items) == []


def test_namespace_waits_for_finalized_content(
    api: kubernetes.client.ApiClient, soon: dict[str, Any]
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    held_ns = f"held-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": held_ns}})
    held = {"metadata": {"name": "held", "finalizers": ["example.dev/hold"]}}
    core.create_namespaced_config_map(held_ns, held)
    core.delete_namespace(held_ns)

    terminating = wait_for(
        lambda: core.read_namespace(held_ns).status.phase == "Terminating",
        what="the namespace to terminate",
        **soon,
    )
    assert terminating
    wait_for(  # the namespace controller deletes what is inside; the finalizer holds it
        lambda: core.read_namespaced_config_map("held", held_ns).metadata.deletion_timestamp,
        what="the content's deletion",
        **soon,
    )
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map(held_ns, {"metadata": {"name": "late"}})
    assert refused.value.status == 403

    core.patch_namespaced_config_map("held", held_ns, {"metadata": {"finalizers": None}})
    wait_for(
        lambda: held_ns not in {n.metadata.name for n in core.list_namespace().items},
        what="gone",
        **soon,
    )


# 4. Built-in resources in discovery (the subresources the emulator serves, which a real API
# server serves too; the emulator serves exactly these, see test_emulator).


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
    api: kubernetes.client.ApiClient,
    group_version: str,
    plural: str,
    kind: str,
    namespaced: bool,
    short_names: list[str],
    subresources: list[str],
) -> None:
    prefix = "/api" if group_version == "v1" else "/apis"
    listing = get_json(api, f"{prefix}/{group_version}")
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
    # At least these (a real API server has more, e.g. pods/exec, namespaces/finalize).
    assert {name.split("/")[1] for name in entries if name.startswith(f"{plural}/")} >= set(
        subresources
    )
    if group_version != "v1":
        groups = {group["name"]: group for group in get_json(api, "/apis")["groups"]}
        group, version = group_version.split("/")
        assert groups[group]["preferredVersion"]["version"] == version


# 5. CRDs are live.


def test_crd_registers_and_unregisters_its_resource(
    api: kubernetes.client.ApiClient, kubectl: Kubectl, tmp_path: Path, soon: dict[str, Any]
) -> None:
    (tmp_path / "gadgets.yaml").write_text(yaml.safe_dump(GADGET_CRD))
    applied = kubectl("apply", "-f", str(tmp_path / "gadgets.yaml"))
    assert (
        applied.stdout.strip()
        == "customresourcedefinition.apiextensions.k8s.io/gadgets.tools.example.dev created"
    )
    extensions = kubernetes.client.ApiextensionsV1Api(api)

    def conditions() -> dict[str, str]:
        crd = extensions.read_custom_resource_definition("gadgets.tools.example.dev")
        return {c.type: c.status for c in (crd.status.conditions or [])}

    wait_for(lambda: conditions().get("Established") == "True", what="established", **soon)
    wait_for(lambda: served(api, "tools.example.dev/v1", "gadgets"), what="served", **soon)
    assert conditions()["NamesAccepted"] == "True"
    crd = extensions.read_custom_resource_definition("gadgets.tools.example.dev")
    assert crd.status.accepted_names.kind == "Gadget"
    assert crd.status.accepted_names.list_kind == "GadgetList"
    assert crd.status.stored_versions == ["v1"]
    group = next(g for g in get_json(api, "/apis")["groups"] if g["name"] == "tools.example.dev")
    assert group["preferredVersion"]["version"] == "v1"
    [entry] = get_json(api, "/apis/tools.example.dev/v1")["resources"]
    assert (entry["name"], entry["singularName"], entry["kind"]) == ("gadgets", "gadget", "Gadget")
    assert (entry["namespaced"], entry["shortNames"]) == (False, ["gd"])

    custom = kubernetes.client.CustomObjectsApi(api)
    custom.create_cluster_custom_object(
        "tools.example.dev", "v1", "gadgets",
        {"apiVersion": "tools.example.dev/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "x": 1},
    )  # fmt: skip
    assert kubectl("get", "gd", "g1", "-o", "jsonpath={.x}").stdout == "1"

    kubectl("delete", "crd", "gadgets.tools.example.dev")  # waits for the CRD to be gone

    def group_gone() -> bool:
        return "tools.example.dev" not in {g["name"] for g in get_json(api, "/apis")["groups"]}

    wait_for(group_gone, what="the group out of discovery", **soon)
    with pytest.raises(ApiException) as gone:
        get_json(api, "/apis/tools.example.dev/v1")
    assert gone.value.status == 404
    with pytest.raises(ApiException) as unserved:
        custom.list_cluster_custom_object("tools.example.dev", "v1", "gadgets")
    assert unserved.value.status == 404


def test_widget_crd_details_are_discoverable(
    widgets: str, api: kubernetes.client.ApiClient
) -> None:
    assert (
        widgets.strip()
        == "customresourcedefinition.apiextensions.k8s.io/widgets.example.dev created"
    )
    entries = {e["name"]: e for e in get_json(api, f"/apis/{GROUP}/{VERSION}")["resources"]}
    assert entries["widgets"]["categories"] == ["example"]
    assert entries["widgets"]["namespaced"] is True
    assert entries["widgets/status"]["kind"] == "Widget"


def test_crd_versions_share_storage_and_the_best_version_is_preferred(
    api: kubernetes.client.ApiClient, ns: str, soon: dict[str, Any]
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
    try:
        wait_for(
            lambda: served(api, "versions.example.dev/v1beta1", "bolts"), what="served", **soon
        )
        check_bolts(api, ns)
    finally:
        delete_crd(api, "bolts.versions.example.dev")


def check_bolts(api: kubernetes.client.ApiClient, ns: str) -> None:
    group = next(g for g in get_json(api, "/apis")["groups"] if g["name"] == "versions.example.dev")
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
    api: kubernetes.client.ApiClient, ns: str, soon: dict[str, Any]
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    child = core.create_namespaced_config_map(ns, owned_by(owner, "child"))
    core.create_namespaced_config_map(ns, owned_by(child, "grandchild"))
    core.create_namespaced_config_map(ns, {"metadata": {"name": "bystander"}})

    core.delete_namespaced_config_map("owner", ns)

    def names() -> set[str]:
        return set(own_names(core.list_namespaced_config_map(ns).items))

    wait_for(lambda: names() == {"bystander"}, what="dependents collected", **soon)


def test_finalizers_hold_dependents_and_orphaning_keeps_them(
    api: kubernetes.client.ApiClient, ns: str, soon: dict[str, Any]
) -> None:
    core = kubernetes.client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(ns, owned_by(owner, "held", finalizers=["example.dev/x"]))
    core.delete_namespaced_config_map("owner", ns)

    held = wait_for(
        lambda: core.read_namespaced_config_map("held", ns).metadata.deletion_timestamp,
        what="deletionTimestamp",
        **soon,
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
        **soon,
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


def test_metadata_only_list(api: kubernetes.client.ApiClient, ns: str) -> None:
    core = kubernetes.client.CoreV1Api(api)
    for name in ("m-1", "m-2"):
        core.create_namespaced_config_map(
            ns, {"metadata": {"name": name, "labels": {"l": name}}, "data": {"k": "v"}}
        )
    listed = get_json(
        api,
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
        seen += own_names(page.items)
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
        return [
            (event["type"], event["object"].metadata.name)
            for event in stream
            if event["object"].metadata.name not in CLUSTER_CONFIG_MAPS
        ]

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
