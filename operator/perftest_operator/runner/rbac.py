"""The ServiceAccount and RBAC kube-burner works with, derived from its contract, as dicts (pure).

Each kube-burner-ocp workload gets its own ClusterRole, ``perftest-kube-burner-<workload>``,
whose rules are exactly the requests a run of it makes (``contract.calls.run_calls``): the
startup's health check and cluster metadata, the workload's own reads, and kube-burner's
namespaces, objects, waiting, verification, churn and garbage collection; and what the Roles
it creates grant (``contract.calls.granted_calls``: egressip's Role for Prometheus), which the
API server requires the creator to hold. The rules cover every
command line the operator renders for the workload: with and without churn (both deletion
strategies) and with the measurements its flags switch on; ``--pprof`` is refused instead (it
would need exec into the OVN pods). Rules are cluster-wide: kube-burner creates its namespaces
as it goes. A request that names a fixed object (``get jobs osd-cluster-ready``) is granted for
that name only.

A custom configuration runs plain kube-burner with whatever kinds its templates create; its
ClusterRole, ``perftest-kube-burner-custom``, grants kube-burner's own requests and the common
kinds, and a workload that creates others needs a ClusterRole of its own bound to the same
ServiceAccount.

On a remote target the operator creates the ServiceAccount, the workload's ClusterRole and a
ClusterRoleBinding per run namespace, with the target kubeconfig's identity (and on OpenShift a
binding to ``cluster-monitoring-view``, so that a token minted for the account can query
thanos-querier). On its own cluster it creates no RBAC (that would make its own role far wider):
``manifests/kube-burner`` and the chart ship the same ClusterRoles (tests keep them equal) and
the ServiceAccount with its bindings in the run namespace ``perftest-runs``; the Job runs as
PERFTEST_JOB_SERVICE_ACCOUNT (by default the same name).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from perftest_operator import GROUP
from perftest_operator.api.settings import DEFAULT_JOB_SERVICE_ACCOUNT
from perftest_operator.contract.calls import granted_calls, resolve_flags, run_calls
from perftest_operator.contract.load import load_contract
from perftest_operator.contract.model import ApiCall, Contract
from perftest_operator.runner.manifests import MANAGED_BY_LABEL, MANAGER
from perftest_operator.runner.names import run_resource_name

SERVICE_ACCOUNT = DEFAULT_JOB_SERVICE_ACCOUNT
CLUSTER_ROLE_PREFIX = "perftest-kube-burner"
CUSTOM_ROLE = f"{CLUSTER_ROLE_PREFIX}-custom"
MONITORING_CLUSTER_ROLE = "cluster-monitoring-view"
# On a role whose holder may read every Secret of the cluster (docs/security.md).
READS_SECRETS_ANNOTATION = f"{GROUP}/reads-secrets"
# The flags every rendered command line carries (runner.command), and the variants whose
# requests a workload's role covers as well.
OPERATOR_ARGS = ("--gc=true", "--alerting=false", "--local-indexing=true")
_VARIANT_FLAGS = (
    ("--churn=true", "--churn-deletion-strategy=default"),
    ("--churn=true", "--churn-deletion-strategy=gvr"),
    ("--service-latency=true",),
    ("--networkpolicy-latency=false",),
)
# RBAC grants resourceNames only to requests that carry the object's name: never to list,
# watch, deletecollection or create (kubernetes.io/docs/reference/access-authn-authz/rbac,
# "Referring to resources"), except a create on a subresource of a named object.
_NAMEABLE_VERBS = frozenset({"get", "update", "patch", "delete"})

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True, order=True)
class Rule:
    """One PolicyRule of a ClusterRole."""

    api_group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    resource_names: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "apiGroups": [self.api_group],
            "resources": list(self.resources),
            "verbs": list(self.verbs),
        }
        if self.resource_names:
            rule["resourceNames"] = list(self.resource_names)
        return rule

    def grants(self, call: ApiCall) -> bool:
        """Whether this rule alone allows ``call`` (the RBAC authorizer's matching, narrowed)."""
        if call.group != self.api_group or call.resource not in self.resources:
            return False
        if call.verb not in self.verbs:
            return False
        return not self.resource_names or call.name in self.resource_names


_CUSTOM_CORE = tuple(
    [
        "configmaps",
        "endpoints",
        "namespaces",
        "persistentvolumeclaims",
        "pods",
        "replicationcontrollers",
        "serviceaccounts",
        "services",
    ]
)
# kube-burner's own requests for a custom configuration and the kinds custom workloads most
# often create; what else a configuration creates, its author binds.
CUSTOM_RULES: tuple[Rule, ...] = (
    Rule("", _CUSTOM_CORE, _ALL_VERBS),
    # Secrets written, never read: no Secret of the cluster is readable with the Job's token
    # (docs/security.md). kube-burner verifies objects with a list across every namespace, so a
    # job that creates Secrets sets verifyObjects: false.
    Rule("", ("secrets",), ("create", "delete")),
    Rule("", ("events", "nodes", "pods/log"), _READ_VERBS),
    Rule("apps", ("daemonsets", "deployments", "replicasets", "statefulsets"), _ALL_VERBS),
    Rule("batch", ("jobs",), _ALL_VERBS),
    Rule("networking.k8s.io", ("ingresses", "networkpolicies"), _ALL_VERBS),
)


def _named(call: ApiCall) -> bool:
    if call.name is None or call.in_workload_namespaces:
        return False
    return call.verb in _NAMEABLE_VERBS or (call.verb == "create" and "/" in call.resource)


def rules_for(calls: Iterable[ApiCall]) -> tuple[Rule, ...]:
    """The fewest rules that allow exactly these requests: a purely computational function.

    A (group, resource, verb) that some call makes without a fixed name is granted for every
    name; otherwise for the names the calls use. Resources of one group that need the same
    verbs (and no names) share a rule.
    """
    names: dict[tuple[str, str, str], set[str] | None] = {}
    for call in calls:
        key = (call.group, call.resource, call.verb)
        known = names.get(key, set())
        if not _named(call):
            names[key] = None
        elif known is not None:
            names[key] = known | {str(call.name)}
    verbs: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for (group, resource, verb), found in names.items():
        verbs.setdefault((group, resource, tuple(sorted(found or ()))), set()).add(verb)
    merged: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for (group, resource, resource_names), granted in verbs.items():
        merged.setdefault((group, tuple(sorted(granted)), resource_names), []).append(resource)
    return tuple(
        sorted(
            Rule(group, tuple(sorted(resources)), granted, resource_names)
            for (group, granted, resource_names), resources in merged.items()
        )
    )


def _variants(contract: Contract, workload: str) -> list[tuple[str, ...]]:
    names = {flag.name for flag in contract.flags_of(workload)}
    variants: list[tuple[str, ...]] = [()]
    for variant in _VARIANT_FLAGS:
        if all(arg[2:].partition("=")[0] in names for arg in variant):
            variants.append(variant)
    return variants


def workload_calls(contract: Contract, workload: str) -> tuple[ApiCall, ...]:
    """Every request a run of ``workload`` makes under any command line the operator renders,
    and every request the roles it creates allow (which it must hold to create them)."""
    found = contract.workload(workload)
    # kube-burner init takes its switches from the configuration (run_calls reads them there).
    operator_args = OPERATOR_ARGS if found is None or found.config is None else ()
    calls: list[ApiCall] = []
    for variant in _variants(contract, workload):
        flags = resolve_flags(contract, workload, [*operator_args, *variant])
        calls += run_calls(contract, workload, flags)
        calls += granted_calls(contract, workload, flags)
    return tuple(dict.fromkeys(calls))


def workload_rules(contract: Contract, workload: str) -> tuple[Rule, ...]:
    """The rules of ``workload``'s ClusterRole at this version."""
    return rules_for(workload_calls(contract, workload))


def missing_grants(rules: Sequence[Rule], calls: Iterable[ApiCall]) -> list[ApiCall]:
    """The calls no rule allows."""
    return [call for call in calls if not any(rule.grants(call) for rule in rules)]


def cluster_role_name(workload: str | None) -> str:
    return CUSTOM_ROLE if workload is None else f"{CLUSTER_ROLE_PREFIX}-{workload}"


def managed_labels() -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGER}


def build_service_account(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": SERVICE_ACCOUNT, "namespace": namespace, "labels": managed_labels()},
    }


def build_cluster_role(name: str, rules: Sequence[Rule]) -> dict[str, Any]:
    """A ClusterRole; one whose rules read Secrets says so, for the admin who binds it."""
    metadata: dict[str, Any] = {"name": name, "labels": managed_labels()}
    if reads_secrets(rules):
        metadata["annotations"] = {READS_SECRETS_ANNOTATION: "true"}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata,
        "rules": [rule.as_dict() for rule in rules],
    }


def build_cluster_role_binding(namespace: str, cluster_role: str) -> dict[str, Any]:
    """Binds the run namespace's kube-burner ServiceAccount to `cluster_role` (one per pair)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        # Bindings are cluster-scoped: one per namespace, or two run namespaces would share one.
        "metadata": {
            "name": run_resource_name(f"{cluster_role}-{namespace}"),
            "labels": managed_labels(),
        },
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": cluster_role,
        },
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
    }


def role_rules(contract: Contract, workload: str | None) -> tuple[Rule, ...]:
    """The rules of the ClusterRole a run of ``workload`` (None: custom) works with."""
    return CUSTOM_RULES if workload is None else workload_rules(contract, workload)


def build_target_rbac(
    namespace: str, contract: Contract, workload: str | None, *, openshift: bool
) -> list[dict[str, Any]]:
    """Everything kube-burner's ServiceAccount needs on a remote target, in creation order."""
    role = cluster_role_name(workload)
    objects = [
        build_service_account(namespace),
        build_cluster_role(role, role_rules(contract, workload)),
        build_cluster_role_binding(namespace, role),
    ]
    if openshift:
        objects.append(build_cluster_role_binding(namespace, MONITORING_CLUSTER_ROLE))
    return objects


def reads_secrets(rules: Sequence[Rule]) -> bool:
    """Whether ``rules`` let their holder read Secrets it did not create (any name)."""
    return any(
        rule.grants(ApiCall(verb, "", "secrets", "the role's own rules"))
        for rule in rules
        for verb in _READ_VERBS
    )


@functools.cache
def _workload_reads_secrets(version: str, workload: str) -> bool:
    return reads_secrets(workload_rules(load_contract(version), workload))


def workload_reads_secrets(contract: Contract, workload: str | None) -> bool:
    """Whether a run of ``workload`` (None: custom) needs to read Secrets of the whole target.

    kube-burner verifies the objects a job created with a list across every namespace
    (KB pkg/burner/utils.go:115-161 at v1.17.2); a job that creates Secrets and is verified
    needs that list. The project's configurations and the custom role never verify Secrets.
    """
    return workload is not None and _workload_reads_secrets(contract.version, workload)


def shipped_cluster_roles(contract: Contract) -> list[dict[str, Any]]:
    """The ClusterRoles ``manifests/kube-burner`` ships for the hub: every runnable workload's."""
    return [
        build_cluster_role(cluster_role_name(name), role_rules(contract, name))
        for name in itertools.chain(contract.runnable(), [None])
    ]
