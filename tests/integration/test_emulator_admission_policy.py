"""The operator's confinement policy, installed and bound in the emulator, refuses kube-burner's
account what RBAC alone would let it do: a Pod in kube-system, labelling kube-system into a
benchmark, deleting it; and lets it work in the namespaces kube-burner creates.

The emulator evaluates bound ValidatingAdmissionPolicies with a CEL interpreter
(`localstack.emulator.admission_policy`); against a real cluster (PERFTEST_TEST_KUBECONFIG) the
API server's own plugin answers, with the same message.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Iterator

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.openshift_seed import bind_workload_role, delete_quietly
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.confinement import (
    POLICY_NAME,
    build_admission_policy,
    build_admission_policy_binding,
)
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, build_cluster_role_binding

POD = {
    "metadata": {"name": "not-a-benchmark"},
    "spec": {"containers": [{"name": "c", "image": "registry.example.invalid/x:1"}]},
}


@pytest.fixture()
def confined(cluster: Cluster) -> Iterator[str]:
    """The policy and its binding, kube-burner's account in a fresh run namespace with the
    custom configurations' role (pods, namespaces, ... cluster-wide)."""
    if not cluster.emulated:
        pytest.skip("mints a token for the ServiceAccount with the emulator's admin credentials")
    api = cluster.api_client()
    admission = kubernetes.client.AdmissionregistrationV1Api(api)
    admission.create_validating_admission_policy(build_admission_policy(load_contract()))
    admission.create_validating_admission_policy_binding(build_admission_policy_binding())
    core = kubernetes.client.CoreV1Api(api)
    namespace = f"pt-confined-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": namespace}})
    role = bind_workload_role(api, load_contract(), namespace, None)
    yield namespace
    binding = build_cluster_role_binding(namespace, role["metadata"]["name"])
    delete_quietly(
        api, f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{binding['metadata']['name']}"
    )
    for delete in (
        admission.delete_validating_admission_policy_binding,
        admission.delete_validating_admission_policy,
    ):
        with contextlib.suppress(ApiException):
            delete(POLICY_NAME)
    with contextlib.suppress(ApiException):
        core.delete_namespace(namespace)


def refusal(call: Callable[[], object]) -> ApiException:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value


def test_the_policy_keeps_the_account_inside_its_benchmark(cluster: Cluster, confined: str) -> None:
    with cluster.service_account_client(confined, SERVICE_ACCOUNT) as client:
        core = kubernetes.client.CoreV1Api(client)
        denied = refusal(lambda: core.create_namespaced_pod("kube-system", POD))
        assert denied.status == 403
        status = json.loads(denied.body)
        assert (status["reason"], status["code"]) == ("Forbidden", 403)
        cause = (
            f"ValidatingAdmissionPolicy '{POLICY_NAME}' with binding '{POLICY_NAME}' denied "
            "request: perftest-kube-burner writes only in the namespaces kube-burner creates"
        )
        assert status["message"].startswith(f'pods "not-a-benchmark" is forbidden: {cause}')
        assert status["details"]["causes"][0]["message"].startswith(cause)
        relabel = {"metadata": {"labels": {"kube-burner-uuid": "mine"}}}
        assert refusal(lambda: core.patch_namespace("kube-system", relabel)).status == 403
        assert refusal(lambda: core.delete_namespace("kube-system")).status == 403
        assert (
            refusal(lambda: core.create_namespace({"metadata": {"name": "unlabelled"}})).status
            == 403
        )

        # Its own: a namespace labelled as kube-burner labels a job's, a Pod in it, deleted again.
        own = f"kb-{secrets.token_hex(3)}"
        labels = {"kube-burner-uuid": "u", "kube-burner-job": "j", "kube-burner-runid": "r"}
        core.create_namespace({"metadata": {"name": own, "labels": labels}})
        core.create_namespaced_pod(own, {**POD, "metadata": {"name": "p", "labels": labels}})
        core.delete_namespace(own)

        # Anyone else is not matched: the administrator still writes in kube-system.
    admin = kubernetes.client.CoreV1Api(cluster.api_client())
    admin.create_namespaced_config_map("kube-system", {"metadata": {"name": f"admin-{confined}"}})
    admin.delete_namespaced_config_map(f"admin-{confined}", "kube-system")
