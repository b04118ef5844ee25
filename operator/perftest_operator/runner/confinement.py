"""The admission policy that keeps kube-burner's account inside its own benchmark (pure).

kube-burner's ServiceAccount (``perftest-kube-burner``) holds cluster-wide rules: it creates its
namespaces as it goes, so RBAC cannot say "only in those". The API server can: a
ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30) with its
binding, matched on that account, refuses every write it makes outside what kube-burner creates
for a run. What kube-burner creates, it labels (kube-burner v1.17.2, commit 2d99d9b8):

- the namespaces of a job: ``kube-burner-job``, ``kube-burner-uuid``, ``kube-burner-runid``
  (pkg/burner/create.go:92-96); the image preload's namespace ``kube-burner-preload``
  (pkg/burner/pre_load.go:141-143);
- every object: ``kube-burner-uuid``, ``kube-burner-job``, ``kube-burner-index``,
  ``kube-burner-runid`` and the iteration (pkg/burner/create.go:139-145).

The namespaces it creates by a fixed name without those labels (service latency's
``kube-burner-service-latency``, pkg/measurements/common.go:70) and the fixed namespaces some
workloads write their labelled objects into (rds-core's ``metallb-system``) come from the
contract, as do the cluster-scoped kinds the workloads create. So the account may write:

1. in a namespace kube-burner made (labelled, or one of its fixed names), anything;
2. in a fixed namespace of the contract, only objects labelled ``kube-burner-uuid``;
3. cluster-wide, only namespaces it made, and objects of the contract's cluster-scoped kinds
   labelled ``kube-burner-uuid`` (a CRD of crd-scale, never a ClusterRoleBinding).

An update must find the label before and after (nobody labels ``kube-system`` into a benchmark
namespace). The operator installs the policy on each target with kube-burner's RBAC, and the
manifests ship it for the hub; the expressions are Kubernetes CEL, tested with a CEL
interpreter in tests/unit/test_confinement.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from perftest_operator.contract.model import Contract
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, managed_labels, workload_calls

POLICY_NAME = "perftest-kube-burner-confinement"
UUID_LABEL = "kube-burner-uuid"
PRELOAD_LABEL = "kube-burner-preload"
WRITES = ("create", "update", "patch", "delete", "deletecollection")


def _cel_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{item}'" for item in sorted(set(items))) + "]"


def _carries(obj: str, labels: Sequence[str]) -> str:
    held = " || ".join(f"'{label}' in {obj}.metadata.labels" for label in labels)
    return f"(has({obj}.metadata.labels) && ({held}))"


def _null(variable: str) -> str:
    # type(x) == null_type rather than x == null: an object compared with null is an error
    # without heterogeneous equality (CEL spec, "Equality"), which not every CEL runtime has.
    return f"type({variable}) == null_type"


def _both(test: str) -> str:
    """``test`` (over ``{o}``) holds for the new object and the old one, where there is one."""
    return (
        f"({_null('object')} || {test.format(o='object')}) && "
        f"({_null('oldObject')} || {test.format(o='oldObject')})"
    )


def contract_scope(contract: Contract) -> tuple[list[str], list[str], list[str]]:
    """What the contract's runnable workloads write outside their own namespaces: namespaces
    created by name, fixed namespaces written into, cluster-scoped ``group/resource``."""
    named: set[str] = set()
    fixed: set[str] = set()
    cluster: set[str] = set()
    for name in contract.runnable():
        for call in workload_calls(contract, name):
            if call.verb not in WRITES:
                continue
            if call.resource == "namespaces" and call.name:
                named.add(call.name)
            elif call.namespace and not call.in_workload_namespaces:
                fixed.add(call.namespace)
            elif (
                call.namespace is None
                and not call.in_workload_namespaces
                and call.resource != "namespaces"  # rule 3 has its own test for them
            ):
                cluster.add(f"{call.group}/{call.resource}")
    return sorted(named), sorted(fixed - named), sorted(cluster)


def validations(contract: Contract) -> list[dict[str, str]]:
    """The policy's validations: CEL expressions with the message the API server answers."""
    named, fixed, cluster = contract_scope(contract)
    own_namespace = (
        f"({_carries('namespaceObject', (UUID_LABEL, PRELOAD_LABEL))} || "
        f"namespaceObject.metadata.name in {_cel_list(named)})"
    )
    labelled = _both(_carries("{o}", (UUID_LABEL,)))
    # Each validation concerns one scope and passes the other through a conditional, which
    # evaluates one branch only (|| may evaluate both sides: CEL's logical operators absorb
    # errors and need not short-circuit).
    namespaced = (
        f"{_null('namespaceObject')} ? true : ({own_namespace} || "
        f"(namespaceObject.metadata.name in {_cel_list(fixed)} && {labelled}))"
    )
    own_namespace_object = _both(
        f"({_carries('{o}', (UUID_LABEL, PRELOAD_LABEL))} || {{o}}.metadata.name in "
        f"{_cel_list(named)})"
    )
    resource = "request.resource.group + '/' + request.resource.resource"
    cluster_scoped = (
        f"!({_null('namespaceObject')}) ? true : ("
        f"(request.resource.group == '' && request.resource.resource == 'namespaces') ? "
        f"({own_namespace_object}) : "
        f"({resource} in {_cel_list(cluster)} && {labelled}))"
    )
    return [
        {
            "expression": namespaced,
            "message": "perftest-kube-burner writes only in the namespaces kube-burner creates "
            f"(labelled {UUID_LABEL}), and labelled objects in its workloads' fixed namespaces",
            "reason": "Forbidden",
        },
        {
            "expression": cluster_scoped,
            "message": "perftest-kube-burner writes cluster-wide only the namespaces kube-burner "
            f"creates and, labelled {UUID_LABEL}, the cluster-scoped kinds its workloads create",
            "reason": "Forbidden",
        },
    ]


# The account by name in every namespace: on the hub the run namespaces', on a target the one
# the operator creates (runner.rbac.SERVICE_ACCOUNT).
MATCH_ACCOUNT = (
    "request.userInfo.username.startsWith('system:serviceaccount:') && "
    f"request.userInfo.username.endsWith(':{SERVICE_ACCOUNT}')"
)


def build_admission_policy(contract: Contract) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME, "labels": managed_labels()},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                        "resources": ["*", "*/*"],
                    }
                ]
            },
            "matchConditions": [{"name": "kube-burner-account", "expression": MATCH_ACCOUNT}],
            "validations": validations(contract),
        },
    }


def build_admission_policy_binding() -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_NAME, "labels": managed_labels()},
        "spec": {"policyName": POLICY_NAME, "validationActions": ["Deny"]},
    }
