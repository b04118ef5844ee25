"""The CRDs' CEL validation rules (`x-kubernetes-validations`) refuse what they forbid and
admit the rest, with the API server's wording, through the HTTP API and the `kubernetes` client.

The emulator evaluates them with cel-python (`localstack.emulator.crd_rules`); against a real
cluster (PERFTEST_TEST_KUBECONFIG) the API server's own CEL validator answers, in the words
these tests expect (kubernetes/apiextensions-apiserver v0.33.0,
pkg/apiserver/schema/cel/validation.go: `field.Invalid(path, <schema type>, <message>)`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster

GROUP, VERSION, PLURAL = "perftest.dev", "v1alpha1", "perftests"
METRIC = {"name": "kpi", "query": "up"}


def perftest(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PerfTest",
        "metadata": {"name": name},
        "spec": {"workload": {"name": "node-density"}, **spec},
    }


def refusal(exc: ApiException) -> tuple[int, str, list[str]]:
    body = json.loads(exc.body)
    causes = [f"{c.get('field')}: {c['message']}" for c in body["details"]["causes"]]
    return exc.status, body["reason"], causes


# (what the rule forbids, a violating spec, a valid spec, the refusal's field, the message)
CASES = [
    (
        "workload name and configMapRef",
        {"workload": {"name": "node-density", "configMapRef": {"name": "cfg", "key": "k"}}},
        {"workload": {"configMapRef": {"name": "cfg", "key": "k"}}},
        "spec.workload",
        "set exactly one of name (a kube-burner-ocp workload) and configMapRef",
    ),
    (
        "a bearer token and the ServiceAccount's token",
        {
            "prometheus": {
                "bearerTokenSecretRef": {"name": "s", "key": "token"},
                "useServiceAccountToken": True,
            }
        },
        {
            "prometheus": {
                "bearerTokenSecretRef": {"name": "s", "key": "token"},
                "useServiceAccountToken": False,
            }
        },
        "spec.prometheus",
        "set only one of bearerTokenSecretRef and useServiceAccountToken",
    ),
    (
        "aggregation last with another overTime",
        {"metrics": [{**METRIC, "aggregation": "last", "overTime": "avg"}]},
        {"metrics": [{**METRIC, "aggregation": "last", "overTime": "last"}]},
        "spec.metrics[0]",
        "aggregation last means overTime last, then max across series; with another overTime"
        " choose an aggregation across series",
    ),
    (
        "a query and a kube-burner measurement",
        {
            "metrics": [
                METRIC,
                {
                    "name": "ready",
                    "query": "up",
                    "kubeBurner": {
                        "metricName": "podLatencyQuantilesMeasurement",
                        "quantileName": "Ready",
                    },
                },
            ]
        },
        {
            "metrics": [
                METRIC,
                {
                    "name": "ready",
                    "kubeBurner": {
                        "metricName": "podLatencyQuantilesMeasurement",
                        "quantileName": "Ready",
                    },
                },
            ]
        },
        "spec.metrics[1]",
        "set exactly one of query (PromQL) and kubeBurner (a measurement)",
    ),
    (
        "a label name Prometheus does not allow",
        {"metrics": [{**METRIC, "labels": {"scope": "namespace", "9lives": "x"}}]},
        {"metrics": [{**METRIC, "labels": {"scope": "namespace", "_lives9": "x"}}]},
        "spec.metrics[0].labels",
        "label names are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*)",
    ),
    (
        "a lookback shorter than minHistory",
        {"analysis": {"minHistory": 10, "lookback": 5}},
        {"analysis": {"minHistory": 10, "lookback": 10}},
        "spec.analysis",
        "lookback must be at least minHistory",
    ),
    (
        "an acknowledged change point by run and uuid",
        {
            "analysis": {
                "acknowledged": [{"metric": "kpi", "reason": "known", "run": "r", "uuid": "u"}]
            }
        },
        {"analysis": {"acknowledged": [{"metric": "kpi", "reason": "known", "run": "r"}]}},
        "spec.analysis.acknowledged[0]",
        "set exactly one of run (a PerfRun name) and uuid (its uid)",
    ),
]


@pytest.fixture()
def objects(cluster: Cluster, crds: list[str]) -> Iterator[kubernetes.client.CustomObjectsApi]:
    with cluster.api_client() as api:
        yield kubernetes.client.CustomObjectsApi(api)


@pytest.mark.parametrize(
    ("violating", "valid", "field", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_refuses_a_violation_on_create_and_update_and_admits_a_valid_spec(
    objects: kubernetes.client.CustomObjectsApi,
    namespace: str,
    violating: dict[str, Any],
    valid: dict[str, Any],
    field: str,
    message: str,
) -> None:
    expected = f'{field}: Invalid value: "object": {message}'
    with pytest.raises(ApiException) as refused:
        objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, perftest("bad", **violating)
        )
    status, reason, causes = refusal(refused.value)
    assert (status, reason) == (422, "Invalid")
    assert expected in causes
    assert 'PerfTest.perftest.dev "bad" is invalid: ' in json.loads(refused.value.body)["message"]

    created = objects.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, perftest("good", **valid)
    )
    assert created["metadata"]["name"] == "good"

    created["spec"].update(violating)
    with pytest.raises(ApiException) as refused_update:
        objects.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "good", created)
    status, reason, causes = refusal(refused_update.value)
    assert (status, reason) == (422, "Invalid")
    assert expected in causes


def test_rules_wait_for_a_schema_error_that_blocks_them(
    objects: kubernetes.client.CustomObjectsApi, namespace: str
) -> None:
    """A wrong type is a blocking error: the rules are not run, and the refusal says so."""
    body = perftest("bad", analysis={"minHistory": "ten", "lookback": 5})
    with pytest.raises(ApiException) as refused:
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    _, _, causes = refusal(refused.value)
    assert any(cause.startswith("spec.analysis.minHistory: Invalid value: ") for cause in causes)
    assert (
        '<nil>: Invalid value: "null": some validation rules were not checked because the'
        " object was invalid; correct the existing errors to complete validation"
    ) in causes
    assert not any("lookback must be at least minHistory" in cause for cause in causes)


# A CRD of this test's own, for what the product's CRDs do not use: a transition rule (oldSelf)
# and validation ratcheting of a rule added after its objects were stored.
def gadget_crd(group: str, rules: list[dict[str, str]]) -> dict[str, Any]:
    spec_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "size": {"type": "integer", "x-kubernetes-validations": rules},
            "color": {"type": "string"},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": spec_schema},
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture()
def gadgets(cluster: Cluster) -> Iterator[tuple[str, kubernetes.client.ApiClient]]:
    group = f"rules{secrets.token_hex(3)}.example.dev"
    with cluster.api_client() as api:
        extensions = kubernetes.client.ApiextensionsV1Api(api)
        no_shrinking = [{"rule": "self >= oldSelf", "message": "may only grow"}]
        extensions.create_custom_resource_definition(gadget_crd(group, no_shrinking))
        try:
            yield group, api
        finally:
            with contextlib.suppress(ApiException):
                extensions.delete_custom_resource_definition(f"gadgets.{group}")


def create_gadget(
    objects: kubernetes.client.CustomObjectsApi, group: str, namespace: str, **spec: Any
) -> dict[str, Any]:
    body = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": spec}
    deadline = time.monotonic() + 30  # a real API server serves a new CRD after a moment
    while True:
        try:
            created: dict[str, Any] = objects.create_namespaced_custom_object(
                group, "v1", namespace, "gadgets", body
            )
            return created
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_transition_rule_runs_on_updates_only(
    gadgets: tuple[str, kubernetes.client.ApiClient], namespace: str
) -> None:
    group, api = gadgets
    objects = kubernetes.client.CustomObjectsApi(api)
    created = create_gadget(objects, group, namespace, size=5)  # no old value: not evaluated
    grown = objects.patch_namespaced_custom_object(
        group, "v1", namespace, "gadgets", "g", {"spec": {"size": 7}}
    )
    assert grown["spec"]["size"] == 7
    with pytest.raises(ApiException) as refused:
        objects.patch_namespaced_custom_object(
            group, "v1", namespace, "gadgets", "g", {"spec": {"size": 6}}
        )
    status, reason, causes = refusal(refused.value)
    assert (status, reason) == (422, "Invalid")
    assert causes == ['spec.size: Invalid value: "integer": may only grow']
    assert created["metadata"]["uid"] == grown["metadata"]["uid"]


def test_a_rule_added_later_spares_unchanged_values_with_a_warning(
    gadgets: tuple[str, kubernetes.client.ApiClient], namespace: str
) -> None:
    group, api = gadgets
    objects = kubernetes.client.CustomObjectsApi(api)
    create_gadget(objects, group, namespace, size=50, color="red")
    extensions = kubernetes.client.ApiextensionsV1Api(api)
    crd = extensions.read_custom_resource_definition(f"gadgets.{group}")
    small = gadget_crd(group, [{"rule": "self <= 10", "message": "at most 10"}])
    small["metadata"]["resourceVersion"] = crd.metadata.resource_version
    extensions.replace_custom_resource_definition(f"gadgets.{group}", small)

    def patch(spec: dict[str, Any]) -> tuple[dict[str, Any], str]:
        deadline = time.monotonic() + 30  # a real API server takes the new schema after a moment
        while True:
            data, _, headers = objects.patch_namespaced_custom_object_with_http_info(
                group, "v1", namespace, "gadgets", "g", {"spec": spec}
            )
            warning = str(headers.get("Warning") or "")
            if "at most 10" in warning or time.monotonic() > deadline:
                return data, warning
            time.sleep(0.5)

    # The size did not change: the failing rule is a warning, the write goes through.
    updated, warning = patch({"color": "blue"})
    assert updated["spec"] == {"size": 50, "color": "blue"}
    assert warning == '299 - "spec.size: Invalid value: \\"integer\\": at most 10"'
    # Changing it to another value that breaks the rule is refused.
    with pytest.raises(ApiException) as refused:
        objects.patch_namespaced_custom_object(
            group, "v1", namespace, "gadgets", "g", {"spec": {"size": 40}}
        )
    assert refusal(refused.value)[2] == ['spec.size: Invalid value: "integer": at most 10']
