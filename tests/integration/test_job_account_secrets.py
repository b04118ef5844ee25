"""The Job's token reads no Secret of the cluster: its roles only create them.

kube-burner's ServiceAccount, bound to the ClusterRole of one of the project's configurations or
of custom configurations (as manifests/kube-burner and remote targets bind it), is denied by the
RBAC-enforcing emulator (or a real cluster's authorizer) when it lists Secrets across the
cluster or reads one in kube-system, while it may still create one in a namespace of its own.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.openshift_seed import bind_workload_role, delete_quietly
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, build_cluster_role_binding


@pytest.fixture()
def run_namespace(cluster: Cluster) -> Iterator[str]:
    core = kubernetes.client.CoreV1Api(cluster.api_client())
    name = f"pt-secrets-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


def status(call: Callable[[], object]) -> int:
    """The HTTP status a call ends with (200 when it returns)."""
    try:
        call()
    except ApiException as exc:
        return int(exc.status)
    return 200


@pytest.mark.parametrize("workload", ["k8s-cluster-density", "k8s-api-intensive", None])
def test_the_job_token_lists_no_secret_of_the_cluster(
    cluster: Cluster, run_namespace: str, workload: str | None, request: pytest.FixtureRequest
) -> None:
    if not cluster.emulated:
        pytest.skip("mints a token for the ServiceAccount with the emulator's admin credentials")
    role = bind_workload_role(cluster.api_client(), load_contract(), run_namespace, workload)
    binding = build_cluster_role_binding(run_namespace, role["metadata"]["name"])
    path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/" + binding["metadata"]["name"]
    request.addfinalizer(lambda: delete_quietly(cluster.api_client(), path))
    with cluster.service_account_client(run_namespace, SERVICE_ACCOUNT) as client:
        core = kubernetes.client.CoreV1Api(client)
        own = {"metadata": {"name": "made-by-kube-burner"}, "stringData": {"k": "v"}}
        assert status(lambda: core.create_namespaced_secret(run_namespace, own)) == 200
        # Writing is all: reading back even its own is refused, as any other Secret.
        assert (
            status(lambda: core.read_namespaced_secret("made-by-kube-burner", run_namespace)) == 403
        )
        assert status(lambda: core.list_secret_for_all_namespaces()) == 403
        assert status(lambda: core.list_namespaced_secret("kube-system")) == 403
        assert status(lambda: core.read_namespaced_secret("anything", "kube-system")) == 403
