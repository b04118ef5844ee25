"""kube-burner's ClusterRoles from the contract: every request of a run is granted, no rule is
granted for nothing, names are granted only where RBAC can check them."""

from __future__ import annotations

import pytest

from perftest_operator.contract.load import load_contract
from perftest_operator.contract.model import ApiCall
from perftest_operator.runner.rbac import (
    Rule,
    missing_grants,
    rules_for,
    workload_calls,
    workload_rules,
)

CONTRACT = load_contract()
RUNNABLE = sorted(name for name, w in CONTRACT.workloads.items() if w.refused is None)


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
