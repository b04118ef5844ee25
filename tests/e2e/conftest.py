"""End-to-end fixtures: the real operator process, a replayed Prometheus, the simulated Job controller.

The simulated Job controller runs each Job's container: the runner image's entry point and the
stand-in for kube-burner-ocp, with the pod's ServiceAccount token. So the emulated hub and
target are OpenShift 4.19 on AWS to the operator's prerequisite checks and to the stand-in
(``openshift_seed``, without nodes, which the tests make when they need them;
``platform_objects`` swaps the target's Infrastructure for a test's own), hub Jobs run as
``perftest-kube-burner`` (the operator's PERFTEST_JOB_SERVICE_ACCOUNT) bound to
cluster-density-v2's generated ClusterRole in each test's namespace, and remote Jobs as the
account the operator sets up on the target.
"""

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
from localstack.openshift_seed import (
    ALL_PARTS,
    bind_workload_role,
    delete_quietly,
    seed_openshift,
)
from localstack.operator_process import OperatorProcess
from localstack.prometheus import ReplayRun, replayed_prometheus
from localstack.story import story_runs
from localstack.target_objects import ARO_CLUSTER, CLUSTER_VERSION, cluster_nodes, target_crds
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.rbac import (
    SERVICE_ACCOUNT,
    build_cluster_role_binding,
    cluster_role_name,
)

# The workload the end-to-end PerfTests run (localstack.objects.perftest_body).
WORKLOAD = "cluster-density-v2"
OPERATOR_ENV = {
    "PERFTEST_JOB_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
    "PERFTEST_POLL_INTERVAL": "0.3",
    "PERFTEST_COLLECT_BACKOFF": "0.5",
    "PERFTEST_COLLECT_BACKOFF_MAX": "2",
    "PERFTEST_MISSING_METRIC_ATTEMPTS": "2",
    # The tests run on the hub too, with custom configurations and images of their own; the
    # policy's own tests set these themselves (test_trust.py).
    "PERFTEST_LOCAL_RUNS": "true",
    "PERFTEST_CUSTOM_CONFIG_NAMESPACES": "*",
    "PERFTEST_ALLOWED_IMAGES": "*",
    "PERFTEST_SECRET_READING_WORKLOADS": "true",
}


# Everything but nodes: the tests that read nodes make their own.
SEEDED_PARTS = ALL_PARTS - {"nodes"}


@pytest.fixture(scope="session")
def seeded_hub(cluster: Cluster) -> Cluster:
    """The hub as kube-burner-ocp needs it (a real cluster is taken as it is)."""
    if cluster.emulated:
        seed_openshift(cluster.api_client(), load_contract(), parts=SEEDED_PARTS)
    return cluster


@pytest.fixture(scope="session")
def seeded_target(target_cluster: Cluster) -> Cluster:
    if target_cluster.emulated:
        seed_openshift(target_cluster.api_client(), load_contract(), parts=SEEDED_PARTS)
    return target_cluster


@pytest.fixture()
def kube(seeded_hub: Cluster, namespace: str) -> Iterator[Kube]:
    """A client of the hub and the test's namespace, where kube-burner's ServiceAccount has
    the workload's generated ClusterRole (runner.rbac), as manifests/kube-burner ships it."""
    kube = Kube(seeded_hub.api_client(), namespace)
    binding = build_cluster_role_binding(namespace, cluster_role_name(WORKLOAD))
    bind_workload_role(kube.api_client, load_contract(), namespace, WORKLOAD)
    yield kube
    path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"
    delete_quietly(kube.api_client, path + binding["metadata"]["name"])


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

    def start(*args: str, also_watch: tuple[str, ...] = (), **env: str) -> OperatorProcess:
        process = OperatorProcess(
            cluster.kubeconfig,
            tmp_path / f"operator-{len(started)}.log",
            namespaces=[namespace, *also_watch],
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
def target(seeded_target: Cluster) -> Iterator[Kube]:
    """A client of the target and a fresh namespace name there (the operator creates it)."""
    name = f"pt-target-{secrets.token_hex(4)}"
    kube = Kube(seeded_target.api_client(), name)
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
        """The row's own Infrastructure (none: a cluster that is not OpenShift) and nodes."""
        for plural, name in (("infrastructures", "cluster"), ("clusterversions", "version")):
            with contextlib.suppress(ApiException):
                target.custom.delete_cluster_custom_object(
                    "config.openshift.io", "v1", plural, name
                )
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
    # The session's OpenShift on AWS again, for the tests that follow.
    seed_openshift(target.api_client, load_contract(), parts={"infrastructure"})


def _served(target: Kube, group: str, version: str, plural: str) -> bool:
    try:
        target.custom.list_cluster_custom_object(group, version, plural)
        return True
    except ApiException:
        return False


@contextlib.contextmanager
def _published_thanos_route(cluster: Cluster) -> Iterator[Callable[[str], None]]:
    """Publishes a URL as thanos-querier's Route in openshift-monitoring on an emulated cluster."""
    if not cluster.emulated:
        pytest.skip("fabricates OpenShift's monitoring Route: emulated clusters only")
    monitoring = Kube(cluster.api_client(), "openshift-monitoring")
    route_api = ("route.openshift.io", "v1", monitoring.namespace, "routes")
    wait_for(
        lambda: _served(monitoring, "route.openshift.io", "v1", "routes"),
        timeout=10,
        what="routes to be served",
    )

    def publish(url: str) -> None:
        # A real Route's host has no port and thanos-querier's has TLS (reencrypt, signed by the
        # default ingress CA); this one points at a plain-HTTP proxy on a loopback port.
        route = {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "thanos-querier", "namespace": monitoring.namespace},
            "spec": {
                "host": url.removeprefix("http://"),
                "to": {"kind": "Service", "name": "thanos-querier"},
            },
        }
        monitoring.custom.create_namespaced_custom_object(*route_api, route)

    yield publish
    with contextlib.suppress(ApiException):
        monitoring.custom.delete_namespaced_custom_object(*route_api, "thanos-querier")


@pytest.fixture()
def thanos_on_hub(seeded_hub: Cluster) -> Iterator[Callable[[str], None]]:
    """Publishes a URL as the thanos-querier Route of the emulated (OpenShift) hub."""
    with _published_thanos_route(seeded_hub) as publish:
        yield publish


@pytest.fixture()
def thanos_route(seeded_target: Cluster) -> Iterator[Callable[[str], None]]:
    """Publishes a URL as the thanos-querier Route of the emulated target."""
    with _published_thanos_route(seeded_target) as publish:
        yield publish
