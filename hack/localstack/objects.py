"""Reads and writes of perftest objects for tests and the demo, on plain dicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
from kubernetes.client.exceptions import ApiException

GROUP, VERSION = "perftest.dev", "v1alpha1"
T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    """Poll until probe() returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def perftest_body(name: str, prometheus_url: str, **spec: Any) -> dict[str, Any]:
    """The PerfTest the end-to-end tests start from.

    Each `spec` field extends the default one when both are objects (a None value removes a key),
    and replaces it otherwise.
    """
    body: dict[str, Any] = {
        "metadata": {"name": name},
        "spec": {
            "target": {"platform": "AWS"},
            "workload": {"name": "cluster-density-v2", "iterations": 9},
            "prometheus": {"url": prometheus_url, "step": "15s"},
            "analysis": {"minHistory": 5},
        },
    }
    for key, value in spec.items():
        if isinstance(value, dict) and isinstance(body["spec"].get(key), dict):
            merged = {**body["spec"][key], **value}
            body["spec"][key] = {k: v for k, v in merged.items() if v is not None}
        else:
            body["spec"][key] = value
    return body


class Kube:
    """The few reads and writes the end-to-end tests make, on plain dicts."""

    def __init__(self, api_client: kubernetes.client.ApiClient, namespace: str) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.custom = kubernetes.client.CustomObjectsApi(api_client)
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.rbac = kubernetes.client.RbacAuthorizationV1Api(api_client)

    def create_perftest(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PerfTest", **body}
        body["metadata"] = {**body["metadata"], "namespace": self.namespace}
        result: dict[str, Any] = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "perftests", body
        )
        return result

    def get(self, plural: str, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            )
            return result
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def perfruns(self) -> list[dict[str, Any]]:
        result = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "perfruns"
        )
        items: list[dict[str, Any]] = result["items"]
        return items

    def annotate(self, name: str, key: str, value: str) -> None:
        self.patch_perftest(name, {"metadata": {"annotations": {key: value}}})

    def patch_perftest(self, name: str, patch: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "perftests", name, patch
        )

    def create_service_account(self, name: str, namespace: str | None = None) -> None:
        """A ServiceAccount (in this namespace by default); one that exists already is kept."""
        where = namespace or self.namespace
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
        try:
            self.core.create_namespaced_service_account(where, body)
        except ApiException as exc:
            if exc.status != 409:
                raise

    def events(self) -> list[Any]:
        items: list[Any] = self.core.list_namespaced_event(self.namespace).items
        return items

    def jobs(self) -> list[Any]:
        items: list[Any] = self.batch.list_namespaced_job(self.namespace).items
        return items
