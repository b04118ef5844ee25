"""Shared fixtures: a Kubernetes API (the emulator, or a real cluster via PERFTEST_TEST_KUBECONFIG)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import shutil
from collections.abc import Iterator

import kubernetes
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster

REPO = pathlib.Path(__file__).resolve().parent.parent
CRDS = sorted((REPO / "crds").glob("*.perftest.dev.yaml"))
REAL_KUBECONFIG = os.environ.get("PERFTEST_TEST_KUBECONFIG")
# A second cluster for the remote-target tests (its kubeconfig must hold its credentials inline).
REAL_TARGET_KUBECONFIG = os.environ.get("PERFTEST_TEST_TARGET_KUBECONFIG")
# A plain Kubernetes target (EKS, GKE, AKS, IKS, kubeadm) for tests/e2e/test_plain_kubernetes.py.
REAL_PLAIN_TARGET_KUBECONFIG = os.environ.get("PERFTEST_TEST_PLAIN_TARGET_KUBECONFIG")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    skip = pytest.mark.skip(reason="needs Debian's prometheus package (make install)")
    for item in items:
        if "prometheus" in item.keywords:
            item.add_marker(skip)


def _cluster(real_kubeconfig: str | None, workdir: pathlib.Path) -> Iterator[Cluster]:
    """A real cluster when a kubeconfig is given, else an emulator started in `workdir`."""
    if real_kubeconfig:
        yield Cluster(kubeconfig=pathlib.Path(real_kubeconfig), emulated=False)
        return
    from localstack.emulator.process import EmulatorProcess

    with EmulatorProcess(workdir=workdir) as emulator:
        yield Cluster(kubeconfig=pathlib.Path(emulator.kubeconfig), emulated=True)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The API under test: a real cluster when PERFTEST_TEST_KUBECONFIG is set, else the emulator."""
    yield from _cluster(REAL_KUBECONFIG, tmp_path_factory.mktemp("emulator"))


@pytest.fixture(scope="session")
def target_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A remote target: a second emulator, or a real cluster via PERFTEST_TEST_TARGET_KUBECONFIG."""
    yield from _cluster(REAL_TARGET_KUBECONFIG, tmp_path_factory.mktemp("target-emulator"))


@pytest.fixture(scope="session")
def plain_target_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A target that is not OpenShift (no OpenShift API at all): a third emulator, or a real
    cluster via PERFTEST_TEST_PLAIN_TARGET_KUBECONFIG."""
    yield from _cluster(REAL_PLAIN_TARGET_KUBECONFIG, tmp_path_factory.mktemp("plain-target"))


@pytest.fixture(scope="session")
def crds(cluster: Cluster) -> list[str]:
    """Install (or update) our CRDs, as `make install-crds` does on a real cluster."""
    extensions = kubernetes.client.ApiextensionsV1Api(cluster.api_client())
    names = []
    for path in CRDS:
        body = yaml.safe_load(path.read_text())
        name = body["metadata"]["name"]
        try:
            extensions.create_custom_resource_definition(body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            current = extensions.read_custom_resource_definition(name)
            body["metadata"]["resourceVersion"] = current.metadata.resource_version
            extensions.replace_custom_resource_definition(name, body)
        names.append(name)
    return names


@pytest.fixture()
def namespace(cluster: Cluster, crds: list[str]) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    core = kubernetes.client.CoreV1Api(cluster.api_client())
    name = f"pt-test-{secrets.token_hex(4)}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)
