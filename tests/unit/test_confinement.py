"""The admission policy that confines kube-burner's account, evaluated as the API server does:
its CEL expressions run in a CEL interpreter (cel-python) over admission requests shaped as the
API server's ValidatingAdmissionPolicy variables (kubernetes.io/docs/reference/access-authn-authz/
validating-admission-policy: ``object``, ``oldObject``, ``request``, ``namespaceObject``; null
where there is none, ``namespaceObject`` null for cluster-scoped resources)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml

from perftest_operator.contract.load import load_contract
from perftest_operator.runner.confinement import (
    MATCH_ACCOUNT,
    build_admission_policy,
    build_admission_policy_binding,
)

POLICY = build_admission_policy(load_contract())
KUBE_BURNER = "system:serviceaccount:perftest-runs:perftest-kube-burner"
OWN = {"metadata": {"name": "k8s-cluster-density-3", "labels": {"kube-burner-uuid": "u"}}}
KUBE_SYSTEM = {
    "metadata": {"name": "kube-system", "labels": {"kubernetes.io/metadata.name": "kube-system"}}
}
LABELLED = {"kube-burner-uuid": "u", "kube-burner-job": "j"}


def evaluate(expression: str, variables: dict[str, Any]) -> bool:
    environment = celpy.Environment()
    program = environment.program(environment.compile(expression))
    activation = {name: celpy.json_to_cel(value) for name, value in variables.items()}
    return bool(program.evaluate(activation))


def request(
    resource: str,
    *,
    group: str = "",
    operation: str = "CREATE",
    obj: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    namespace: dict[str, Any] | None = None,
    user: str = KUBE_BURNER,
) -> dict[str, Any]:
    return {
        "request": {
            "userInfo": {"username": user},
            "operation": operation,
            "resource": {"group": group, "version": "v1", "resource": resource},
            "namespace": "" if namespace is None else namespace["metadata"]["name"],
        },
        "object": obj,
        "oldObject": old,
        "namespaceObject": namespace,
    }


def admitted(variables: dict[str, Any]) -> bool:
    """Whether the policy lets the request through: not matched, or every validation holds."""
    if not evaluate(MATCH_ACCOUNT, variables):
        return True
    return all(evaluate(v["expression"], variables) for v in POLICY["spec"]["validations"])


def thing(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, **({"labels": labels} if labels else {})}}


@pytest.mark.parametrize(
    ("user", "matched"),
    [
        (KUBE_BURNER, True),
        ("system:serviceaccount:team-a:perftest-kube-burner", True),
        ("system:serviceaccount:kube-system:replicaset-controller", False),
        ("system:serviceaccount:team-a:perftest-kube-burner-evil", False),
        ("alice", False),
    ],
)
def test_it_matches_kube_burners_account_only(user: str, matched: bool) -> None:
    assert evaluate(MATCH_ACCOUNT, request("pods", user=user)) is matched


ALLOWED = {
    "a pod in a namespace kube-burner made": request(
        "pods", obj=thing("p", LABELLED), namespace=OWN
    ),
    "a secret there, even unlabelled": request("secrets", obj=thing("s"), namespace=OWN),
    "its labelled namespace": request("namespaces", obj=thing("cd-1", LABELLED)),
    "the preload namespace": request(
        "namespaces", obj=thing("preload-kube-burner", {"kube-burner-preload": "true"})
    ),
    "service latency's namespace, unlabelled, by its name": request(
        "namespaces", obj=thing("kube-burner-service-latency")
    ),
    "the checker pod in it": request(
        "pods", obj=thing("svc-checker"), namespace=thing("kube-burner-service-latency")
    ),
    "deleting its own namespace": request(
        "namespaces", operation="DELETE", old=thing("cd-1", LABELLED)
    ),
    "crd-scale's labelled CRD": request(
        "customresourcedefinitions",
        group="apiextensions.k8s.io",
        obj=thing("x.example.com", LABELLED),
    ),
    "rds-core's labelled pool in metallb-system": request(
        "ipaddresspools",
        group="metallb.io",
        obj=thing("pool", LABELLED),
        namespace=thing("metallb-system"),
    ),
    "a pod in kube-system by someone else": request(
        "pods", obj=thing("p"), namespace=KUBE_SYSTEM, user="system:admin"
    ),
}
DENIED = {
    "a pod in kube-system": request("pods", obj=thing("p", LABELLED), namespace=KUBE_SYSTEM),
    "a secret in another team's namespace": request(
        "secrets", obj=thing("s", LABELLED), namespace=thing("team-b")
    ),
    "a ClusterRoleBinding, even labelled": request(
        "clusterrolebindings", group="rbac.authorization.k8s.io", obj=thing("admin", LABELLED)
    ),
    "an unlabelled CRD": request(
        "customresourcedefinitions", group="apiextensions.k8s.io", obj=thing("x.example.com")
    ),
    "an unlabelled namespace": request("namespaces", obj=thing("mine")),
    "labelling kube-system into a benchmark": request(
        "namespaces",
        operation="UPDATE",
        obj=thing("kube-system", LABELLED),
        old=thing("kube-system"),
    ),
    "deleting kube-system": request("namespaces", operation="DELETE", old=thing("kube-system")),
    "an unlabelled object in metallb-system": request(
        "ipaddresspools", group="metallb.io", obj=thing("pool"), namespace=thing("metallb-system")
    ),
    "a node": request("nodes", obj=thing("worker-0", LABELLED)),
}


@pytest.mark.parametrize("case", list(ALLOWED))
def test_writes_inside_the_benchmark_are_admitted(case: str) -> None:
    assert admitted(ALLOWED[case])


@pytest.mark.parametrize("case", list(DENIED))
def test_writes_outside_the_benchmark_are_refused(case: str) -> None:
    assert not admitted(DENIED[case])


def test_the_binding_denies_with_the_policy() -> None:
    binding = build_admission_policy_binding()
    assert binding["spec"] == {
        "policyName": POLICY["metadata"]["name"],
        "validationActions": ["Deny"],
    }
    rules = POLICY["spec"]["matchConstraints"]["resourceRules"]
    assert rules[0]["resources"] == ["*", "*/*"]  # subresources too (pods/exec)
    assert POLICY["spec"]["failurePolicy"] == "Fail"


def test_the_hub_ships_the_policy_the_operator_installs_on_targets() -> None:
    path = Path(__file__).resolve().parents[2] / "manifests" / "kube-burner" / "confinement.yaml"
    assert list(yaml.safe_load_all(path.read_text())) == [
        build_admission_policy(load_contract()),
        build_admission_policy_binding(),
    ]
