"""The emulator's RBAC matching, without a server: the cases the API tests cannot reach.

Expected values restate the upstream rules cited in `localstack.emulator.rbac`
(requestinfo.go, evaluation_helpers.go, rule.go, responsewriters/errors.go).
"""

from __future__ import annotations

from typing import Any

import pytest

from localstack.emulator.rbac import (
    Attributes,
    PolicyRule,
    RbacPolicy,
    UserInfo,
    forbidden_error,
    request_attributes,
    rule_allows,
    service_account_user,
)

KB = service_account_user("perf", "kb")


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/api/v1/namespaces/perf/pods", {}, ("list", "", "pods", "", "perf", "")),
        ("GET", "/api/v1/namespaces/perf/pods/p", {}, ("get", "", "pods", "", "perf", "p")),
        ("GET", "/api/v1/pods", {"watch": "true"}, ("watch", "", "pods", "", "", "")),
        # apimachinery's boolean query parameters: anything but 0 and false is true.
        ("GET", "/api/v1/pods", {"watch": "1"}, ("watch", "", "pods", "", "", "")),
        ("GET", "/api/v1/pods", {"watch": "False"}, ("list", "", "pods", "", "", "")),
        (
            "GET",
            "/api/v1/namespaces/perf/pods",
            {"watch": "true", "fieldSelector": "metadata.name==p"},
            ("watch", "", "pods", "", "perf", "p"),
        ),
        (
            "GET",
            "/api/v1/namespaces/perf/pods",
            {"fieldSelector": "metadata.name!=p"},
            ("list", "", "pods", "", "perf", ""),
        ),
        ("DELETE", "/apis/batch/v1/namespaces/perf/jobs", {}, ("deletecollection", "batch", "jobs", "", "perf", "")),
        ("DELETE", "/apis/batch/v1/namespaces/perf/jobs/j", {}, ("delete", "batch", "jobs", "", "perf", "j")),
        ("POST", "/api/v1/namespaces/perf/serviceaccounts/kb/token", {}, ("create", "", "serviceaccounts", "token", "perf", "kb")),
        ("PUT", "/apis/batch/v1/namespaces/perf/jobs/j/status", {}, ("update", "batch", "jobs", "status", "perf", "j")),
        ("PATCH", "/api/v1/nodes/n1", {}, ("patch", "", "nodes", "", "", "n1")),
        # A namespace is in itself; status and finalize are its subresources.
        ("GET", "/api/v1/namespaces/perf", {}, ("get", "", "namespaces", "", "perf", "perf")),
        ("PUT", "/api/v1/namespaces/perf/finalize", {}, ("update", "", "namespaces", "finalize", "perf", "perf")),
        ("GET", "/api/v1/namespaces", {}, ("list", "", "namespaces", "", "", "")),
        ("POST", "/api/v1/namespaces", {}, ("create", "", "namespaces", "", "", "")),
    ],
)  # fmt: skip
def test_request_attributes_follow_requestinfo(
    method: str, path: str, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    attributes = request_attributes(KB, method, path, query)
    assert attributes.resource_request
    assert (
        attributes.verb,
        attributes.api_group,
        attributes.resource,
        attributes.subresource,
        attributes.namespace,
        attributes.name,
    ) == expected


@pytest.mark.parametrize(
    "path",
    ["/version", "/api", "/api/v1", "/apis", "/apis/batch", "/apis/batch/v1", "/healthz", "/"],
)
def test_discovery_and_other_paths_are_non_resource_requests(path: str) -> None:
    attributes = request_attributes(KB, "GET", path, {})
    assert (attributes.resource_request, attributes.verb, attributes.path) == (False, "get", path)


def attrs(
    verb: str, resource: str, *, group: str = "", sub: str = "", name: str = ""
) -> Attributes:
    return Attributes(
        KB, verb, True, api_group=group, resource=resource, subresource=sub, name=name
    )


@pytest.mark.parametrize(
    ("rule", "request_", "allowed"),
    [
        (PolicyRule(("get",), ("",), ("pods",)), attrs("get", "pods"), True),
        (PolicyRule(("get",), ("",), ("pods",)), attrs("list", "pods"), False),
        (PolicyRule(("*",), ("",), ("pods",)), attrs("deletecollection", "pods"), True),
        (PolicyRule(("get",), ("apps",), ("pods",)), attrs("get", "pods"), False),
        (PolicyRule(("get",), ("*",), ("jobs",)), attrs("get", "jobs", group="batch"), True),
        (PolicyRule(("get",), ("",), ("pods",)), attrs("get", "pods", sub="log", name="p"), False),
        (PolicyRule(("get",), ("",), ("pods/log",)), attrs("get", "pods", sub="log", name="p"), True),
        (PolicyRule(("get",), ("",), ("pods/log",)), attrs("get", "pods", name="p"), False),
        (PolicyRule(("get",), ("*",), ("*/scale",)), attrs("get", "deployments", group="apps", sub="scale", name="d"), True),
        (PolicyRule(("get",), ("*",), ("*/scale",)), attrs("get", "deployments", group="apps", name="d"), False),
        (PolicyRule(("get",), ("*",), ("*/scale",)), attrs("get", "deployments", group="apps", sub="status", name="d"), False),
        (PolicyRule(("get",), ("",), ("*",)), attrs("get", "pods", sub="log", name="p"), True),
        (PolicyRule(("get",), ("",), ("pods",), ("a",)), attrs("get", "pods", name="a"), True),
        (PolicyRule(("get",), ("",), ("pods",), ("a",)), attrs("get", "pods", name="b"), False),
        (PolicyRule(("list",), ("",), ("pods",), ("a",)), attrs("list", "pods"), False),
        # A rule for URLs grants no resource, and the other way round.
        (PolicyRule(("get",), non_resource_urls=("*",)), attrs("get", "pods"), False),
    ],
)  # fmt: skip
def test_rule_matching_follows_evaluation_helpers(
    rule: PolicyRule, request_: Attributes, allowed: bool
) -> None:
    assert rule_allows(request_, rule) is allowed


@pytest.mark.parametrize(
    ("urls", "path", "allowed"),
    [
        (("/healthz",), "/healthz", True),
        (("/healthz",), "/healthz/etcd", False),
        (("/healthz/*",), "/healthz/etcd", True),
        (("/api*",), "/apis/batch", True),
        (("*",), "/metrics", True),
        (("/apis/*",), "/apis", False),
    ],
)
def test_non_resource_urls_match_exactly_or_by_a_trailing_star(
    urls: tuple[str, ...], path: str, allowed: bool
) -> None:
    request_ = Attributes(KB, "get", False, path=path)
    assert rule_allows(request_, PolicyRule(("get",), non_resource_urls=urls)) is allowed
    assert (
        rule_allows(
            Attributes(KB, "post", False, path=path), PolicyRule(("get",), non_resource_urls=urls)
        )
        is False
    )


def binding(
    kind: str, name: str, ref: tuple[str, str], *subjects: dict[str, str], namespace: str = ""
) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "kind": kind,
        "metadata": meta,
        "roleRef": {"kind": ref[0], "name": ref[1]},
        "subjects": list(subjects),
    }


def cluster_role(
    name: str, *rules: dict[str, Any], labels: dict[str, str] | None = None, **more: Any
) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "rules": list(rules), **more}


LIST_CM = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}
LIST_SECRETS = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}


def test_a_clusterrolebinding_service_account_subject_needs_a_namespace() -> None:
    policy = RbacPolicy(
        [],
        [cluster_role("cm", LIST_CM)],
        [],
        [
            binding(
                "ClusterRoleBinding",
                "b",
                ("ClusterRole", "cm"),
                {"kind": "ServiceAccount", "name": "kb"},
            )
        ],
    )
    assert not policy.authorize(attrs("list", "configmaps")).allowed


def test_aggregation_unions_the_selected_roles_recursively() -> None:
    policy = RbacPolicy(
        [],
        [
            cluster_role("leaf", LIST_SECRETS, labels={"tier": "leaf"}),
            cluster_role("mid", LIST_CM, labels={"tier": "mid"},
                         aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"tier": "leaf"}}]}),
            cluster_role("top", aggregationRule={"clusterRoleSelectors": [
                {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["mid"]}]}]}),
        ],
        [],
        [binding("ClusterRoleBinding", "b", ("ClusterRole", "top"), {"kind": "User", "name": KB.name})],
    )  # fmt: skip
    # mid's own rules are replaced by what it aggregates (the controller rewrites them).
    assert policy.authorize(attrs("list", "secrets")).allowed
    assert not policy.authorize(attrs("list", "configmaps")).allowed


def test_missing_roles_are_the_denials_reason_each_once() -> None:
    subject = {"kind": "Group", "name": "system:serviceaccounts"}
    policy = RbacPolicy(
        [],
        [],
        [binding("RoleBinding", "r", ("Role", "gone"), subject, namespace="perf")],
        [
            binding("ClusterRoleBinding", "a", ("ClusterRole", "gone"), subject),
            binding("ClusterRoleBinding", "b", ("ClusterRole", "gone"), subject),
        ],
    )
    request_ = Attributes(KB, "list", True, resource="pods", namespace="perf")
    decision = policy.authorize(request_)
    assert not decision.allowed
    assert decision.reason == (
        'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found,'
        ' role.rbac.authorization.k8s.io "gone" not found]'
    )
    assert forbidden_error(request_, decision.reason).message == (
        'pods is forbidden: User "system:serviceaccount:perf:kb" cannot list resource "pods"'
        ' in API group "" in the namespace "perf": ' + decision.reason
    )


def test_system_masters_may_do_anything() -> None:
    policy = RbacPolicy([], [], [], [])
    assert policy.authorize(
        Attributes(UserInfo("root", ("system:masters",)), "delete", True, resource="nodes")
    ).allowed
    assert not policy.authorize(
        Attributes(UserInfo("root"), "delete", True, resource="nodes")
    ).allowed


def test_forbidden_messages_quote_and_escape_as_the_api_server() -> None:
    error = forbidden_error(Attributes(KB, "get", False, path="/x<y>&z"))
    assert (
        error.message
        == 'forbidden: User "system:serviceaccount:perf:kb" cannot get path "/x&lt;y&gt;&amp;z"'
    )
    assert error.details == {}
    error = forbidden_error(attrs("patch", "deployments", group="apps", sub="scale", name="d"))
    assert error.message.startswith('deployments.apps "d" is forbidden: ')
    assert error.message.endswith(
        'cannot patch resource "deployments/scale" in API group "apps" at the cluster scope'
    )
    assert error.details == {"name": "d", "group": "apps", "kind": "deployments"}
