"""End-to-end fixtures: the real operator process, a replayed Prometheus, the simulated Job controller."""

from __future__ import annotations

import contextlib
import datetime
import pathlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.objects import Kube, wait_for
from localstack.operator_process import OperatorProcess
from localstack.prometheus import ReplayRun, replayed_prometheus
from localstack.story import story_runs
from localstack.target_objects import ARO_CLUSTER, CLUSTER_VERSION, cluster_nodes, target_crds

OPERATOR_ENV = {
    "PERFTEST_POLL_INTERVAL": "0.3",
    "PERFTEST_COLLECT_BACKOFF": "0.5",
    "PERFTEST_COLLECT_BACKOFF_MAX": "2",
    "PERFTEST_MISSING_METRIC_ATTEMPTS": "2",
}


JOB_ACCOUNT = "perftest-kube-burner"


@pytest.fixture()
def kube(cluster: Cluster, namespace: str) -> Kube:
    """The test's namespace, which is also its PerfTests' run namespace: with the ServiceAccount
    the hub's Jobs run as (PERFTEST_JOB_SERVICE_ACCOUNT), as manifests/kube-burner ships it in
    perftest-runs. Without it no PerfTest would be Ready."""
    kube = Kube(cluster.api_client(), namespace)
    kube.create_service_account(JOB_ACCOUNT)
    return kube


@pytest.fixture(scope="session")
def replay() -> list[ReplayRun]:
    return story_runs(now=datetime.datetime.now(datetime.UTC))


@pytest.fixture(scope="session")
def prometheus_url(
    replay: list[ReplayRun], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Prometheus server holding the replayed nightly history."""
    with replayed_prometheus(replay, tmp_path_factory.mktemp("prometheus")) as server:
        yield server.url


@pytest.fixture()
def start_operator(
    cluster: Cluster, namespace: str, tmp_path: pathlib.Path
) -> Iterator[Callable[..., OperatorProcess]]:
    """Start `perftest run` watching the test's namespace; stopped at the end of the test."""
    started: list[OperatorProcess] = []

    def start(*args: str, **env: str) -> OperatorProcess:
        process = OperatorProcess(
            cluster.kubeconfig,
            tmp_path / f"operator-{len(started)}.log",
            namespaces=[namespace],
            env={**OPERATOR_ENV, **env},
            args=args,
        )
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {process.log_path} (tail) ---\n{process.log_text()[-6000:]}")


@pytest.fixture()
def target(target_cluster: Cluster) -> Iterator[Kube]:
    """A client of the target and a fresh namespace name there (the operator creates it)."""
    name = f"pt-target-{secrets.token_hex(4)}"
    kube = Kube(target_cluster.api_client(), name)
    yield kube
    with contextlib.suppress(ApiException):
        kube.core.delete_namespace(name)


@pytest.fixture()
def platform_objects(target: Kube, target_cluster: Cluster) -> Iterator[Any]:
    """Creates a platform's cluster-scoped objects on the emulated target; removes them after."""
    if not target_cluster.emulated:
        pytest.skip("fabricates Infrastructure and Node objects: emulated targets only")
    extensions = kubernetes.client.ApiextensionsV1Api(target.api_client)
    for crd in target_crds():
        with contextlib.suppress(ApiException):
            extensions.create_custom_resource_definition(crd)
    created: list[tuple[str, str, str, str]] = []
    nodes: list[str] = []

    def create(infra: dict[str, Any] | None, aro: bool, provider: str | None) -> None:
        objects = [(infra, "config.openshift.io", "v1", "infrastructures")] if infra else []
        if infra:
            objects.append((CLUSTER_VERSION, "config.openshift.io", "v1", "clusterversions"))
        if aro:
            objects.append((ARO_CLUSTER, "aro.openshift.io", "v1alpha1", "clusters"))
        for body, group, version, plural in objects:
            assert body is not None
            wait_for(
                lambda g=group, v=version, p=plural: _served(target, g, v, p),
                timeout=10,
                what=f"{plural}.{group} to be served",
            )
            target.custom.create_cluster_custom_object(group, version, plural, body)
            created.append((group, version, plural, body["metadata"]["name"]))
        for node in cluster_nodes(provider):
            target.core.create_node(node)
            target.core.patch_node_status(node["metadata"]["name"], {"status": node["status"]})
            nodes.append(node["metadata"]["name"])

    yield create
    for group, version, plural, name in created:
        with contextlib.suppress(ApiException):
            target.custom.delete_cluster_custom_object(group, version, plural, name)
    for name in nodes:
        with contextlib.suppress(ApiException):
            target.core.delete_node(name)


def _served(target: Kube, group: str, version: str, plural: str) -> bool:
    try:
        target.custom.list_cluster_custom_object(group, version, plural)
        return True
    except ApiException:
        return False
