"""Clients of remote targets built from kubeconfig Secrets on the hub, against two real APIs."""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.emulator.kubeconfig import kubeconfig_document
from perftest_operator.api.errors import TargetConfigInvalid, TargetSecretMissing
from perftest_operator.api.spec import SecretKeyRef
from perftest_operator.contract.load import load_contract
from perftest_operator.kube.api import ClusterApi
from perftest_operator.kube.api_client import REQUEST_TIMEOUT
from perftest_operator.kube.target_clients import TargetClients
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, build_target_rbac

REF = SecretKeyRef(name="target", key="kubeconfig")


def inline_kubeconfig(cluster: Cluster, token: str = "t-1") -> str:
    if not cluster.emulated:
        return cluster.kubeconfig.read_text()
    url = yaml.safe_load(cluster.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    document = kubeconfig_document(url, name="target")
    document["users"][0]["user"]["token"] = token
    return yaml.safe_dump(document)


@pytest.fixture()
def hub(cluster: Cluster, namespace: str) -> ClusterApi:
    return ClusterApi(cluster.api_client())


@pytest.fixture()
def clients() -> Iterator[TargetClients]:
    made = TargetClients()
    yield made
    made.close()


def put_secret(hub: ClusterApi, namespace: str, text: str) -> None:
    body = {
        "metadata": {"name": REF.name},
        "data": {REF.key: base64.b64encode(text.encode()).decode()},
    }
    try:
        hub.core.create_namespaced_secret(namespace, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        hub.core.replace_namespaced_secret(REF.name, namespace, body)


def private_files(api: ClusterApi) -> list[Path]:
    configuration = api.api_client.configuration
    return [Path(p) for p in (configuration.ssl_ca_cert, configuration.cert_file) if p]


def test_a_client_is_cached_per_secret_and_rebuilt_when_the_kubeconfig_changes(
    hub: ClusterApi, namespace: str, target_cluster: Cluster, clients: TargetClients
) -> None:
    put_secret(hub, namespace, inline_kubeconfig(target_cluster, token="t-1"))
    first = clients.api_for(hub, namespace, REF)
    assert first.server_version()["gitVersion"]
    assert first.request_timeout == REQUEST_TIMEOUT
    assert clients.api_for(hub, namespace, REF) is first
    put_secret(hub, namespace, inline_kubeconfig(target_cluster, token="t-2"))
    second = clients.api_for(hub, namespace, REF)
    assert second is not first
    assert second.api_client.configuration.api_key["authorization"] == "t-2"
    assert clients.api_for(hub, namespace, REF) is second


def test_a_missing_secret_or_key_and_an_unsafe_kubeconfig_are_spec_errors(
    hub: ClusterApi, namespace: str, target_cluster: Cluster, clients: TargetClients
) -> None:
    with pytest.raises(TargetSecretMissing, match=f"Secret {REF.name} with key {REF.key}"):
        clients.api_for(hub, namespace, REF)
    document = yaml.safe_load(inline_kubeconfig(target_cluster))
    document["users"][0]["user"] = {"exec": {"command": "/bin/sh", "apiVersion": "v1"}}
    put_secret(hub, namespace, yaml.safe_dump(document))
    with pytest.raises(TargetConfigInvalid) as caught:
        clients.api_for(hub, namespace, REF)
    assert caught.value.field == "spec.target.kubeconfigSecretRef"
    assert "/bin/sh" not in str(caught.value)


def test_pem_data_goes_to_private_files_that_go_with_their_client(
    hub: ClusterApi, namespace: str, clients: TargetClients, target_cluster: Cluster
) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n"
    document = yaml.safe_load(inline_kubeconfig(target_cluster))
    cluster = document["clusters"][0]["cluster"]
    cluster["server"] = "https://127.0.0.1:6443"
    cluster["certificate-authority-data"] = base64.b64encode(pem.encode()).decode()
    put_secret(hub, namespace, yaml.safe_dump(document))
    api = clients.api_for(hub, namespace, REF)
    [ca] = private_files(api)
    assert ca.read_text() == pem and ca.stat().st_mode & 0o077 == 0
    clients.close()
    assert not ca.exists()


@pytest.fixture()
def target_namespace(target_cluster: Cluster) -> Iterator[tuple[ClusterApi, str]]:
    api = ClusterApi(target_cluster.api_client())
    name = f"pt-rbac-{secrets.token_hex(4)}"
    api.ensure_namespace(name)
    yield api, name
    with contextlib.suppress(ApiException):
        api.core.delete_namespace(name)
    for body in build_target_rbac(name, load_contract(), "node-density", openshift=True):
        if body["kind"] == "ClusterRoleBinding":
            with contextlib.suppress(ApiException):
                api.rbac.delete_cluster_role_binding(body["metadata"]["name"])


def test_rbac_is_created_once_and_brought_up_to_date_and_a_token_is_minted(
    target_namespace: tuple[ClusterApi, str],
) -> None:
    api, name = target_namespace
    objects = build_target_rbac(name, load_contract(), "node-density", openshift=True)
    for _ in range(2):  # a repeated step after a restart changes nothing
        for body in objects:
            api.apply_rbac_object(body)
    role = objects[1]
    role["rules"] = role["rules"][:1]
    api.apply_rbac_object(role)  # a new operator version's rules reach the target
    stored = api.rbac.read_cluster_role(role["metadata"]["name"])
    assert len(stored.rules) == 1
    for body in objects[2:]:
        binding = api.rbac.read_cluster_role_binding(body["metadata"]["name"])
        assert binding.subjects[0].namespace == name
    token = api.mint_service_account_token(name, SERVICE_ACCOUNT, expiration_seconds=600)
    assert token
    with pytest.raises(kubernetes.client.exceptions.ApiException) as missing:
        api.mint_service_account_token(name, "nobody", expiration_seconds=600)
    assert missing.value.status == 404
