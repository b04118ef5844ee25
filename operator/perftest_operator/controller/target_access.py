"""The target cluster of a PerfTest: its client, whether it answers, what it is (I/O orchestration)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import urllib3
from kubernetes.client.exceptions import ApiException

from perftest_operator.api.errors import (
    JobPermissionsMissing,
    JobServiceAccountMissing,
    TargetUnreachable,
)
from perftest_operator.api.spec import PerfTestSpec, SecretKeyRef
from perftest_operator.controller.context import Context
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.runner.command import contract_of
from perftest_operator.runner.confinement import (
    build_admission_policy,
    build_admission_policy_binding,
)
from perftest_operator.runner.names import run_resource_name
from perftest_operator.runner.rbac import (
    MONITORING_CLUSTER_ROLE,
    SERVICE_ACCOUNT,
    Rule,
    build_target_rbac,
    cluster_role_name,
    role_rules,
)
from perftest_operator.target.metadata import product_version, summarize_target
from perftest_operator.target.platform import (
    DetectedPlatform,
    detect_platform,
    with_declared_platform,
)

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

OPENSHIFT_CONFIG = ("config.openshift.io", "v1")
ARO = ("aro.openshift.io", "v1alpha1", "clusters")


def target_api(ctx: Context, namespace: str, ref: SecretKeyRef | None) -> KubeApi:
    """The API of the target whose kubeconfig Secret is `ref`; the hub's own when None.

    Raises TargetSecretMissing or TargetConfigInvalid (both SpecErrors).
    """
    if ref is None:
        return ctx.api
    return ctx.targets.api_for(ctx.api, namespace, ref)


@contextlib.contextmanager
def reaching_target() -> Iterator[None]:
    """Turns the ways a target's API can fail to answer into TargetUnreachable.

    The message names only the kind of failure (a status code, an exception class): the
    client's own messages may quote request headers.
    """
    try:
        yield
    except ApiException as exc:
        if exc.status in (401, 403) or (exc.status or 0) >= 500 or not exc.status:
            raise TargetUnreachable(
                f"the target's API server answered {exc.status} {exc.reason}"
            ) from None
        raise
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise TargetUnreachable(
            f"the target's API server cannot be reached ({type(exc).__name__})"
        ) from None


@dataclass(frozen=True)
class TargetFacts:
    """What was read off a target: the platform (declared or detected) and its metadata."""

    platform: DetectedPlatform
    cluster_version: Mapping[str, Any] | None
    version: Mapping[str, Any]
    nodes: list[dict[str, Any]]

    def describe(self) -> dict[str, Any]:
        """The PerfRun's status.target block."""
        summary = summarize_target(
            cluster_version=self.cluster_version,
            version_info=self.version,
            nodes=self.nodes,
            platform=self.platform,
        )
        summary["platformEvidence"] = self.platform.evidence
        return summary


def _visible(read: Callable[[], _T], hidden: _T) -> _T:
    """What `read` returns, or `hidden` when RBAC forbids it: metadata explains, never decides."""
    try:
        return read()
    except ApiException as exc:
        if exc.status != 403:
            raise
        logger.info("target metadata partly hidden: API answered 403 %s", exc.reason)
        return hidden


def read_product_version(api: KubeApi) -> str:
    """The target's product version with two light reads (no node list): for frequent checks."""
    with reaching_target():
        version = api.server_version()
        cluster_version = _visible(
            lambda: api.get_cluster_object(*OPENSHIFT_CONFIG, "clusterversions", "version"), None
        )
    return product_version(cluster_version, version)


def read_target(api: KubeApi, spec: PerfTestSpec) -> TargetFacts:
    """Platform, versions and nodes of the target; TargetUnreachable when it does not answer."""
    with reaching_target():
        version = api.server_version()
        no_objects: list[dict[str, Any]] = []
        infrastructure = _visible(
            lambda: api.get_cluster_object(*OPENSHIFT_CONFIG, "infrastructures", "cluster"), None
        )
        cluster_version = _visible(
            lambda: api.get_cluster_object(*OPENSHIFT_CONFIG, "clusterversions", "version"), None
        )
        aro_clusters = _visible(lambda: api.list_cluster_objects(*ARO), no_objects)
        nodes = _visible(api.list_nodes, no_objects)
    detected = detect_platform(
        infrastructure=infrastructure,
        aro_clusters=aro_clusters,
        cluster_version=cluster_version,
        nodes=nodes,
    )
    return TargetFacts(
        platform=with_declared_platform(detected, spec.target.platform),
        cluster_version=cluster_version,
        version=version,
        nodes=nodes,
    )


def job_service_account(ctx: Context, *, remote: bool) -> str:
    """The ServiceAccount a run's Job runs as: the operator's own on a remote target (it creates
    it there), PERFTEST_JOB_SERVICE_ACCOUNT on the hub (shipped by the manifests and chart)."""
    return SERVICE_ACCOUNT if remote else ctx.settings.job_service_account


def prepare_target(
    api: KubeApi,
    namespace: str,
    spec: PerfTestSpec,
    *,
    remote: bool,
    openshift: bool,
    run_namespace: str,
) -> None:
    """The run namespace, and on a remote target kube-burner's ServiceAccount and RBAC.

    Safe to repeat. Done when a PerfTest is checked (a token minted for the account must be
    possible before the first run) and again when a run starts its Job.
    """
    if remote or namespace != run_namespace:  # else the PerfRun itself lives in it
        api.ensure_namespace(namespace)
    if remote:
        contract = contract_of(spec.workload)
        rbac = build_target_rbac(namespace, contract, spec.workload.name, openshift=openshift)
        # With the RBAC, what keeps its cluster-wide rules inside the benchmark's namespaces.
        confinement = [build_admission_policy(contract), build_admission_policy_binding()]
        for body in [*rbac, *confinement]:
            api.apply_rbac_object(body)


def check_job_account(ctx: Context, namespace: str, spec: PerfTestSpec, *, openshift: bool) -> str:
    """The hub's Job ServiceAccount, when it is in the run namespace and RBAC lets it make the
    requests the workload's kube-burner-ocp makes.

    Raises JobServiceAccountMissing or JobPermissionsMissing with the commands that fix it: the
    operator creates no RBAC on its own cluster (that would make its own role far wider).
    """
    account = ctx.settings.job_service_account
    workload = spec.workload.name
    role = cluster_role_name(workload)
    binding = run_resource_name(f"{role}-{namespace}")
    bind = (
        f"kubectl create clusterrolebinding {binding} --clusterrole={role} "
        f"--serviceaccount={namespace}:{account}"
    )
    if not ctx.api.service_account_exists(namespace, account):
        commands = [
            f"kubectl create namespace {namespace} (if missing)",
            f"kubectl -n {namespace} create serviceaccount {account}",
            bind,
        ]
        if openshift:
            commands.append(
                f"kubectl create clusterrolebinding {binding}-monitoring "
                f"--clusterrole={MONITORING_CLUSTER_ROLE} --serviceaccount={namespace}:{account}"
            )
        raise JobServiceAccountMissing(
            f"ServiceAccount {account} (PERFTEST_JOB_SERVICE_ACCOUNT), which the kube-burner Job "
            f"runs as, is not in namespace {namespace}; for the shipped run namespace "
            f"perftest-runs: kubectl apply -k manifests/kube-burner; for {namespace}: "
            + "; ".join(commands)
        )
    rules = role_rules(contract_of(spec.workload), workload)
    # Checked once a minute at most per account and role: every PerfTest of a namespace that
    # runs the same workload shares the answer (a resumed operator checks them all at once).
    key = (namespace, account, rules)
    if ctx.permission_checks.fresh(key):
        return account
    refused = _refused_requests(ctx.api, namespace, account, rules)
    if not refused:
        ctx.permission_checks.passed(key)
    if refused:
        shown = ", ".join(refused[:5]) + (
            f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        )
        raise JobPermissionsMissing(
            f"ServiceAccount {namespace}/{account} may not {shown}, which "
            f"{workload or 'a custom kube-burner configuration'} needs "
            f"(`perftest rbac --workload {workload}`); bind the ClusterRole {role} "
            f"(shipped in manifests/kube-burner): {bind}"
            if workload
            else f"ServiceAccount {namespace}/{account} may not {shown}; bind {role}: {bind}"
        )
    return account


def _refused_requests(
    api: KubeApi, namespace: str, account: str, rules: Sequence[Rule]
) -> list[str]:
    """Each (verb, resource) of the rules that a SubjectAccessReview refuses the account."""
    refused = []
    for rule in rules:
        name = rule.resource_names[0] if rule.resource_names else None
        for resource in rule.resources:
            for verb in rule.verbs:
                if not api.service_account_may(
                    namespace,
                    account,
                    verb=verb,
                    group=rule.api_group,
                    resource=resource,
                    name=name,
                ):
                    kind = f"{resource}.{rule.api_group}" if rule.api_group else resource
                    refused.append(f"{verb} {kind}" + (f" {name}" if name else ""))
    return refused
