"""kube-burner's ClusterRoles from the contract: every request of a run is granted, no rule is
granted for nothing, names are granted only where RBAC can check them."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from perftest_operator.contract.calls import granted_calls, resolve_flags, run_calls
from perftest_operator.contract.load import load_contract
from perftest_operator.contract.model import ApiCall, GrantedRule
from perftest_operator.runner.rbac import (
    OPERATOR_ARGS,
    Rule,
    missing_grants,
    reads_secrets,
    role_rules,
    rules_for,
    workload_calls,
    workload_reads_secrets,
    workload_rules,
)

CONTRACT = load_contract()
RUNNABLE = sorted(CONTRACT.runnable())


def call(verb: str, resource: str, *, group: str = "", name: str | None = None) -> ApiCall:
    return ApiCall(verb, group, resource, "KB test", name=name)


def test_named_requests_are_granted_by_name_and_the_rest_for_every_name() -> None:
    rules = rules_for(
        [
            call("get", "configmaps", name="cluster-config-v1"),
            call("create", "configmaps"),
            call("list", "configmaps"),
            call("get", "jobs", group="batch", name="osd-cluster-ready"),
            call("create", "namespaces", name="preload-kube-burner"),  # create: no names
            call("create", "secrets"),
            call("list", "secrets"),
        ]
    )
    assert rules == (
        Rule("", ("configmaps",), ("get",), ("cluster-config-v1",)),
        Rule("", ("configmaps", "secrets"), ("create", "list")),
        Rule("", ("namespaces",), ("create",)),
        Rule("batch", ("jobs",), ("get",), ("osd-cluster-ready",)),
    )


def test_a_request_without_a_name_widens_the_grant() -> None:
    rules = rules_for([call("get", "pods", name="a"), call("get", "pods")])
    assert rules == (Rule("", ("pods",), ("get",)),)


@pytest.mark.parametrize("workload", RUNNABLE)
def test_every_request_is_granted_and_every_rule_used(workload: str) -> None:
    calls = workload_calls(CONTRACT, workload)
    rules = workload_rules(CONTRACT, workload)
    assert missing_grants(rules, calls) == []
    for rule in rules:
        assert any(rule.grants(c) for c in calls), rule
    granted = [verb for rule in rules for verb in rule.verbs]
    assert "*" not in granted and all("*" not in r for rule in rules for r in rule.resources)


def test_kube_burner_ocp_needs_what_the_old_role_lacked() -> None:
    """The four requests that made every cluster-density-v2 run exit 1 (reality check #26)."""
    calls = {(c.verb, c.group, c.resource) for c in workload_calls(CONTRACT, "cluster-density-v2")}
    assert {
        ("list", "config.openshift.io", "clusteroperators"),
        ("get", "operator.openshift.io", "networks"),
        ("get", "operator.openshift.io", "ingresscontrollers"),
        ("get", "apps", "deployments"),  # the image registry's availability
    } <= calls
    # With --alerting=false kube-burner-ocp never acts as openshift-monitoring/prometheus-k8s.
    assert ("create", "", "serviceaccounts/token") not in calls


@pytest.mark.parametrize("workload", RUNNABLE)
def test_the_account_holds_what_the_roles_it_creates_grant(workload: str) -> None:
    """The API server refuses a Role, or a binding to it, from an account that does not hold the
    role's rules itself (RBAC escalation prevention); kube-burner creates and binds them."""
    rules = workload_rules(CONTRACT, workload)
    found = CONTRACT.workload(workload)
    assert found is not None
    for job in found.jobs:
        for kind in job.objects:
            for granted in kind.grants:
                for group, resource, verb in itertools.product(
                    granted.api_groups, granted.resources, granted.verbs
                ):
                    held = ApiCall(
                        verb, group, resource, granted.source, in_workload_namespaces=True
                    )
                    assert missing_grants(rules, [held]) == [], (workload, held)


def test_egressip_grants_prometheus_what_its_role_lists() -> None:
    """egressip's Role lets Prometheus get, list and watch pods (KBO prometheus_role.yml), and
    the run binds it: get pods, which the run itself never makes, is in its ClusterRole."""
    flags = resolve_flags(CONTRACT, "egressip", [*OPERATOR_ARGS, "--external-server-ip=10.0.0.9"])
    granted = {(c.verb, c.group, c.resource) for c in granted_calls(CONTRACT, "egressip", flags)}
    assert granted == {("get", "", "pods"), ("list", "", "pods"), ("watch", "", "pods")}
    made = {(c.verb, c.group, c.resource) for c in run_calls(CONTRACT, "egressip", flags)}
    assert ("get", "", "pods") not in made
    rules = workload_rules(CONTRACT, "egressip")
    assert any(rule.grants(call("get", "pods")) for rule in rules)


def test_a_granted_rule_with_names_is_a_request_per_name() -> None:
    egressip = CONTRACT.workload("egressip")
    assert egressip is not None
    job = egressip.jobs[0]
    role = next(kind for kind in job.objects if kind.grants)
    named = GrantedRule(("",), ("configmaps",), ("get", "update"), "KBO test", ("a", "b"))
    wider = replace(egressip, jobs=(replace(job, objects=(replace(role, grants=(named,)),)),))
    contract = replace(CONTRACT, workloads={**CONTRACT.workloads, "egressip": wider})
    flags = resolve_flags(contract, "egressip", [*OPERATOR_ARGS, "--external-server-ip=10.0.0.9"])
    calls = granted_calls(contract, "egressip", flags)
    assert {(c.verb, c.name) for c in calls} == {
        ("get", "a"),
        ("get", "b"),
        ("update", "a"),
        ("update", "b"),
    }
    assert all(c.in_workload_namespaces and c.namespace is None for c in calls)
    # In the namespaces a run creates the ClusterRole grants every name (runner.rbac._named).
    assert rules_for(calls) == (Rule("", ("configmaps",), ("get", "update")),)


def test_no_secret_of_the_cluster_is_readable_with_the_jobs_token_but_where_upstream_needs_it() -> (
    None
):
    """The project's configurations and custom configurations only create Secrets (their jobs
    that do are not verified). kube-burner-ocp's cluster-density-v2, cluster-density-ms and
    rds-core verify the Secrets they create with a list across every namespace (KB
    pkg/burner/utils.go:115-161 at v1.17.2): their roles list Secrets, and nothing else does."""
    readers = sorted(name for name in RUNNABLE if reads_secrets(workload_rules(CONTRACT, name)))
    assert readers == ["cluster-density-ms", "cluster-density-v2", "rds-core"]
    assert [name for name in RUNNABLE if workload_reads_secrets(CONTRACT, name)] == readers
    assert not reads_secrets(role_rules(CONTRACT, None))
    assert not workload_reads_secrets(CONTRACT, None)
    # What they need is the verification's list across all namespaces (the whole cluster's).
    for name in readers:
        verify = [c for c in workload_calls(CONTRACT, name) if c.resource == "secrets"]
        assert any(c.verb == "list" and c.all_namespaces for c in verify), name


def test_reading_secrets_is_any_read_of_any_secret() -> None:
    assert not reads_secrets([Rule("", ("secrets",), ("create", "delete"))])
    assert not reads_secrets([Rule("", ("secrets",), ("get",), ("pull-secret",))])
    assert not reads_secrets([Rule("", ("configmaps",), ("list",))])
    assert not reads_secrets([Rule("apps", ("secrets",), ("list",))])
    assert reads_secrets([Rule("", ("pods",), ("get",)), Rule("", ("secrets",), ("watch",))])
