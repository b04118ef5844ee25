"""A remote target for end-to-end tests: its kubeconfig as a Secret on the hub holds it."""

from __future__ import annotations

import base64

import yaml
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.emulator.kubeconfig import kubeconfig_document
from localstack.objects import Kube

SECRET = "target-kubeconfig"
KEY = "kubeconfig"
# Recognisable, so that a leak anywhere is found by a plain substring search.
PLANTED_TOKEN = "planted-target-token-" + "7f3a9c1e5b2d4068"
TARGET_ENV = {"PERFTEST_TARGET_RETRY": "1"}


def target_kubeconfig(cluster: Cluster, *, server: str | None = None) -> str:
    """The target's kubeconfig as a Secret holds it: credentials inline, the planted token."""
    if not cluster.emulated and server is None:
        return cluster.kubeconfig.read_text()
    document = yaml.safe_load(cluster.kubeconfig.read_text())
    url = server or document["clusters"][0]["cluster"]["server"]
    kubeconfig = kubeconfig_document(url, name="target")
    kubeconfig["users"][0]["user"]["token"] = PLANTED_TOKEN
    return yaml.safe_dump(kubeconfig)


def put_secret(kube: Kube, text: str, *, key: str = KEY) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET, "namespace": kube.namespace},
        "data": {key: base64.b64encode(text.encode()).decode()},
    }
    try:
        kube.core.create_namespaced_secret(kube.namespace, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        kube.core.replace_namespaced_secret(SECRET, kube.namespace, body)
