"""The emulator's RBAC privilege-escalation prevention, without a server.

Coverage cases are upstream's own (k8s.io/component-helpers v0.32.0 auth/rbac/validation/
policy_comparator_test.go, kubernetes pkg/registry/rbac/validation/policy_compact_test.go);
messages restate the Go formats cited in `localstack.emulator.escalation`.
"""

from __future__ import annotations

from typing import Any

import pytest
from kmock import KubernetesError

from localstack.emulator.escalation import (
    AGGREGATION_REFUSED,
    check_write,
    compact_rules,
    compact_string,
    covers,
    escalation_message,
    only_gc_fields_change,
)
from localstack.emulator.rbac import (
    RBAC_GROUP,
    PolicyRule,
    RbacPolicy,
    UserInfo,
    request_attributes,
    service_account_user,
)

KB = service_account_user("perf", "kb")
GROUPS = '["system:serviceaccounts" "system:serviceaccounts:perf" "system:authenticated"]'
HEAD = f'user "system:serviceaccount:perf:kb" (groups={GROUPS}) is attempting to grant RBAC'
HEAD += " permissions not currently held:\n"


def r(
    groups: tuple[str, ...] = (),
    resources: tuple[str, ...] = (),
    verbs: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    urls: tuple[str, ...] = (),
) -> PolicyRule:
    return PolicyRule(verbs, groups, resources, names, urls)


# Covers: policy_comparator_test.go, case by case (owner rules, servant rules, uncovered).
@pytest.mark.parametrize(
    ("owner", "servant", "uncovered"),
    [
        pytest.param([r(("v1",), ("builds",), ("get",))], [r(("v1",), ("builds",), ("get",))], [], id="ExactMatch"),
        pytest.param([r(("v1",), ("*/scale",), ("get",))], [r(("v1",), ("foo/scale",), ("get",))], [], id="SubresourceWildcard"),
        pytest.param(
            [r(("v1",), ("deployments",), ("delete",)), r(("v1",), ("builds",), ("delete",)),
             r(("v1",), ("builds", "deployments"), ("update",))],
            [r(("v1",), ("builds", "deployments"), ("delete", "update"))], [], id="MultipleRulesCoveringSingleRule"),
        pytest.param(
            [r(("group1", "group2"), ("builds", "deployments"), ("delete", "update"))],
            [r(("group1",), ("deployments",), ("delete",)), r(("group2",), ("builds", "deployments"), ("update",))],
            [], id="SingleAPIGroupsCoveringMultiple"),
        pytest.param(
            [r(("v1",), ("builds", "deployments"), ("delete", "update")), r(("v1",), ("pods",), ("delete",))],
            [r(("v1",), ("builds", "deployments", "pods"), ("delete", "update"))],
            [r(("v1",), ("pods",), ("update",))], id="MultipleRulesMissingSingleVerbResourceCombination"),
        pytest.param([r(("*",), ("roles",), ("get",))], [r(("group1", "group2"), ("roles",), ("get",))], [], id="APIGroupStarCoveringMultiple"),
        pytest.param([r(("dummy-group",), ("roles",), ("get",))], [r(("*",), ("roles",), ("get",))],
                     [r(("*",), ("roles",), ("get",))], id="EnumerationNotCoveringAPIGroupStar"),
        pytest.param([r(("v1",), ("roles",), ("*",))], [r(("v1",), ("roles",), ("watch", "list"))], [], id="VerbStarCoveringMultiple"),
        pytest.param(
            [r(("v1",), ("roles",), ("get", "list", "watch", "create", "update", "delete", "exec"))],
            [r(("v1",), ("roles",), ("*",))], [r(("v1",), ("roles",), ("*",))], id="EnumerationNotCoveringVerbStar"),
        pytest.param([r(("v1",), ("*",), ("get",))], [r(("v1",), ("resourcegroup:deployments",), ("get",))], [], id="ResourceStarCoveringMultiple"),
        pytest.param([r(("v1",), ("roles", "resourcegroup:deployments"), ("get",))], [r(("v1",), ("*",), ("get",))],
                     [r(("v1",), ("*",), ("get",))], id="EnumerationNotCoveringResourceStar"),
        pytest.param([r(("v1",), ("pods",), ("get",))], [r(("v1",), ("pods",), ("get",), ("foo", "bar"))], [], id="ResourceNameEmptyCoveringMultiple"),
        pytest.param([r(("v1",), ("pods",), ("get",), ("foo", "bar"))], [r(("v1",), ("pods",), ("get",))],
                     [r(("v1",), ("pods",), ("get",))], id="EnumerationNotCoveringResourceNameEmpty"),
        pytest.param([r(verbs=("*",), urls=("*",))], [r(verbs=("*",), urls=("/apis", "/apis/v1", "/"))], [], id="NonResourceURLsStar"),
        pytest.param([r(verbs=("*",), urls=("/apis/*",))], [r(verbs=("get",), urls=("/apis", "/apis/v1"))],
                     [r(verbs=("get",), urls=("/apis",))], id="NonResourceURLsStarAfterPrefixDoesntCover"),
        pytest.param([r(verbs=("*",), urls=("/apis/*",))], [r(verbs=("get",), urls=("/apis/v1/foo", "/apis/v1"))], [], id="NonResourceURLsStarAfterPrefix"),
        pytest.param([r(("v1",), ("builds",), ("get",))], [r(("v1",), ("builds",), ("get",), urls=("/apis",))],
                     [r(verbs=("get",), urls=("/apis",))], id="NonResourceURLsWithOtherFieldsFailure"),
    ],
)  # fmt: skip
def test_covers_as_upstream_tests_it(
    owner: list[PolicyRule], servant: list[PolicyRule], uncovered: list[PolicyRule]
) -> None:
    assert covers(owner, servant) == (not uncovered, uncovered)


def test_a_resource_does_not_cover_its_subresources() -> None:
    held, missing = covers([r(("",), ("pods",), ("get",))], [r(("",), ("pods/log",), ("get",))])
    assert (held, missing) == (False, [r(("",), ("pods/log",), ("get",))])


def test_compact_rules_as_upstream_tests_it() -> None:
    # policy_compact_test.go TestCompactRules "simple", compared as a set (upstream sorts).
    rules = [
        r(("",), ("builds",), ("get",)),
        r(("",), ("builds",), ("list",)),
        r(("",), ("builds",), ("update", "patch")),
        r(("extensions",), ("daemonsets",), ("create",)),
        r(("extensions",), ("daemonsets",), ("delete",)),
        r(("extensions",), ("daemonsets",), ("patch",), ("",)),
        r(("extensions",), ("daemonsets",), ("get",), ("foo",)),
        r(("extensions",), ("daemonsets",), ("list",), ("foo",)),
        r(("",), ("dolphins",), ("educate",)),
        r(("",), ("pirates",)),
        r(("",), ("pods",)),
        r(("",), ("pods",), ("create",)),
    ]
    assert set(compact_rules(rules)) == {
        r(("extensions",), ("daemonsets",), ("create", "delete")),
        r(("extensions",), ("daemonsets",), ("patch",), ("",)),
        r(("extensions",), ("daemonsets",), ("get", "list"), ("foo",)),
        r(("",), ("builds",), ("get", "list", "update", "patch")),
        r(("",), ("dolphins",), ("educate",)),
        r(("",), ("pirates",)),
        r(("",), ("pods",), ("create",)),
    }
    # "complex multi-group", "multi-resource", "named-resource", "non-resource": unchanged.
    for unchanged in (
        [
            r(("", "builds.openshift.io"), ("builds",), ("get",)),
            r(("", "builds.openshift.io"), ("builds",), ("list",)),
        ],
        [r(("",), ("builds", "images"), ("get",)), r(("",), ("builds", "images"), ("list",))],
        [r(("",), ("builds",), ("get",), ("a", "b")), r(("",), ("builds",), ("list",), ("c", "d"))],
        [
            r(("",), ("builds",), ("get",), urls=("/",)),
            r(("",), ("builds",), ("get",), urls=("/f",)),
        ],
    ):
        assert compact_rules(unchanged) == unchanged


def test_compact_string_writes_the_non_empty_fields_in_order_with_go_quoting() -> None:
    assert compact_string(r(("",), ("pods",), ("get", "list"))) == (
        '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}'
    )
    assert compact_string(r(("apps",), ("deployments/scale",), ("patch",), ("d",))) == (
        '{APIGroups:["apps"], Resources:["deployments/scale"], ResourceNames:["d"], Verbs:["patch"]}'
    )
    assert compact_string(r(verbs=("get",), urls=("/metrics",))) == (
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}'
    )


def test_the_message_lists_each_missing_permission_once_sorted_after_compaction() -> None:
    missing = [
        r(("",), ("pods",), ("watch",)),
        r(("apps",), ("deployments",), ("create",)),
        r(("",), ("pods",), ("get",)),
        r(("",), ("pods",), ("get",), ("p",)),
        r(("",), ("pods",), ("get",), ("p",)),
        r(verbs=("get",), urls=("/metrics",)),
    ]
    assert escalation_message(KB, missing) == HEAD + "\n".join(
        [
            '{APIGroups:[""], Resources:["pods"], ResourceNames:["p"], Verbs:["get" "get"]}',
            '{APIGroups:[""], Resources:["pods"], Verbs:["watch" "get"]}',
            '{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}',
            '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
        ]
    )
    assert escalation_message(UserInfo("u"), [r(("",), ("pods",), ("get",))]) == (
        'user "u" (groups=[]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}'
    )


# check_write against a policy: what a write by `kb` in namespace perf is answered.

PODS_GET = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
PODS_READ = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
KB_SUBJECT = {"kind": "ServiceAccount", "name": "kb", "namespace": "perf"}


def role(name: str, *rules: dict[str, Any], namespace: str = "perf", **more: Any) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": meta, "rules": list(rules), **more}


def binding(
    name: str, kind: str, ref: str, namespace: str = "perf", **ref_fields: str
) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    ref_body = {"apiGroup": RBAC_GROUP, "kind": kind, "name": ref, **ref_fields}
    return {"metadata": meta, "roleRef": ref_body, "subjects": [KB_SUBJECT]}


def policy(
    *,
    roles: tuple[dict[str, Any], ...] = (),
    cluster_roles: tuple[dict[str, Any], ...] = (),
    role_bindings: tuple[dict[str, Any], ...] = (),
    cluster_role_bindings: tuple[dict[str, Any], ...] = (),
) -> RbacPolicy:
    return RbacPolicy(roles, cluster_roles, role_bindings, cluster_role_bindings)


def write(method: str, path: str, user: UserInfo = KB) -> Any:
    return request_attributes(user, method, path, {})


ROLES = f"/apis/{RBAC_GROUP}/v1/namespaces/perf/roles"
CLUSTER_ROLES = f"/apis/{RBAC_GROUP}/v1/clusterroles"
ROLE_BINDINGS = f"/apis/{RBAC_GROUP}/v1/namespaces/perf/rolebindings"
CLUSTER_ROLE_BINDINGS = f"/apis/{RBAC_GROUP}/v1/clusterrolebindings"


def refusal(call: Any) -> KubernetesError:
    with pytest.raises(KubernetesError) as caught:
        call()
    return caught.value


HOLDS_GET = policy(
    roles=(role("held", PODS_GET),),
    role_bindings=(binding("held", "Role", "held"),),
)


def test_a_role_may_grant_what_its_author_holds_and_nothing_more() -> None:
    check_write(HOLDS_GET, write("POST", ROLES), role("new", PODS_GET), None)
    error = refusal(
        lambda: check_write(HOLDS_GET, write("POST", ROLES), role("new", PODS_READ), None)
    )
    assert (error.status, error.reason) == (403, "Forbidden")
    assert error.message == (
        f'roles.{RBAC_GROUP} "new" is forbidden: '
        + HEAD
        + '{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}'
    )
    assert error.details == {"name": "new", "group": RBAC_GROUP, "kind": "roles"}
    # Held in perf only: a Role of another namespace may not grant it.
    other = f"/apis/{RBAC_GROUP}/v1/namespaces/other/roles"
    refusal(
        lambda: check_write(
            HOLDS_GET, write("POST", other), role("n", PODS_GET, namespace="other"), None
        )
    )
    # A ClusterRole counts only what ClusterRoleBindings grant.
    refusal(
        lambda: check_write(
            HOLDS_GET, write("POST", CLUSTER_ROLES), role("n", PODS_GET, namespace=""), None
        )
    )


def test_updates_are_checked_unless_only_garbage_collection_fields_change() -> None:
    old = role("granted", PODS_READ)
    old["metadata"]["uid"] = "u-1"
    attributes = write("PATCH", f"{ROLES}/granted")
    owned = {
        **old,
        "metadata": {**old["metadata"], "ownerReferences": [{"uid": "o"}], "finalizers": ["f"]},
    }
    assert only_gc_fields_change(owned, old)
    check_write(HOLDS_GET, attributes, owned, old)
    labelled = {**old, "metadata": {**old["metadata"], "labels": {"a": "b"}}}
    assert not only_gc_fields_change(labelled, old)
    error = refusal(lambda: check_write(HOLDS_GET, attributes, labelled, old))
    assert error.message.startswith(f'roles.{RBAC_GROUP} "granted" is forbidden: {HEAD}')
    # Go's semantic equality: an empty list is an absent one.
    assert only_gc_fields_change({**old, "metadata": {**old["metadata"], "labels": {}}}, old)


def test_escalate_lifts_the_check_for_the_names_it_holds() -> None:
    escalate = {"apiGroups": [RBAC_GROUP], "resources": ["roles"], "verbs": ["escalate"]}
    anything = policy(
        roles=(role("esc", escalate),), role_bindings=(binding("esc", "Role", "esc"),)
    )
    check_write(anything, write("POST", ROLES), role("new", PODS_READ), None)
    named = policy(
        roles=(role("esc", {**escalate, "resourceNames": ["mine"]}),),
        role_bindings=(binding("esc", "Role", "esc"),),
    )
    old = role("mine")
    check_write(named, write("PUT", f"{ROLES}/mine"), role("mine", PODS_READ), old)
    refusal(
        lambda: check_write(named, write("PUT", f"{ROLES}/other"), role("other", PODS_READ), old)
    )
    # A create names no object (requestinfo.go): a named escalate does not lift it.
    refusal(lambda: check_write(named, write("POST", ROLES), role("mine", PODS_READ), None))


def test_an_aggregation_rule_needs_every_permission() -> None:
    aggregated = role(
        "agg", namespace="", aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}
    )
    create = write("POST", CLUSTER_ROLES)
    error = refusal(lambda: check_write(HOLDS_GET, create, aggregated, None))
    assert error.message == f'clusterroles.{RBAC_GROUP} "agg" is forbidden: {AGGREGATION_REFUSED}'
    everything = [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ]
    admin = policy(
        cluster_roles=(role("all", *everything, namespace=""),),
        cluster_role_bindings=(binding("all", "ClusterRole", "all", namespace=""),),
    )
    check_write(admin, create, aggregated, None)
    # Removing one needs it too; an empty selector list aggregates nothing.
    refusal(
        lambda: check_write(
            HOLDS_GET, write("PUT", f"{CLUSTER_ROLES}/agg"), role("agg", namespace=""), aggregated
        )
    )
    check_write(
        HOLDS_GET,
        create,
        role("e", namespace="", aggregationRule={"clusterRoleSelectors": []}),
        None,
    )


def test_a_binding_needs_the_roles_permissions_or_bind_on_it() -> None:
    roles = (role("held", PODS_GET), role("readers", PODS_READ))
    kb = policy(roles=roles, role_bindings=(binding("held", "Role", "held"),))
    create = write("POST", ROLE_BINDINGS)
    check_write(kb, create, binding("b", "Role", "held"), None)
    error = refusal(lambda: check_write(kb, create, binding("b", "Role", "readers"), None))
    assert error.message == (
        f'rolebindings.{RBAC_GROUP} "b" is forbidden: '
        + HEAD
        + '{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}'
    )
    assert error.details == {"name": "b", "group": RBAC_GROUP, "kind": "rolebindings"}
    bind = {
        "apiGroups": [RBAC_GROUP],
        "resources": ["roles"],
        "verbs": ["bind"],
        "resourceNames": ["readers"],
    }
    binder = policy(
        roles=(*roles, role("binder", bind)),
        role_bindings=(binding("held", "Role", "held"), binding("binder", "Role", "binder")),
    )
    check_write(binder, create, binding("b", "Role", "readers"), None)
    # resourceNames: bind on "readers" only.
    watchers = policy(
        roles=(*roles, role("binder", bind), role("watchers", PODS_READ)),
        role_bindings=(binding("binder", "Role", "binder"),),
    )
    refusal(lambda: check_write(watchers, create, binding("b", "Role", "watchers"), None))
    # An empty apiGroup is defaulted before the check: bind on the RBAC group still applies.
    check_write(binder, create, binding("b", "Role", "readers", apiGroup=""), None)


def test_a_binding_to_an_absent_role_is_not_found_and_an_unknown_kind_an_error() -> None:
    create = write("POST", ROLE_BINDINGS)
    error = refusal(lambda: check_write(HOLDS_GET, create, binding("b", "Role", "gone"), None))
    assert (error.status, error.reason) == (404, "NotFound")
    assert error.message == f'roles.{RBAC_GROUP} "gone" not found'
    error = refusal(
        lambda: check_write(HOLDS_GET, create, binding("b", "ClusterRole", "gone"), None)
    )
    assert error.message == f'clusterroles.{RBAC_GROUP} "gone" not found'
    error = refusal(lambda: check_write(HOLDS_GET, create, binding("b", "Group", "x"), None))
    assert (error.status, error.reason, error.message) == (
        500, "", 'unsupported role reference kind: "Group"',
    )  # fmt: skip


def test_a_clusterrolebinding_needs_the_rules_cluster_wide() -> None:
    reader = role("reader", PODS_GET, namespace="")
    kb = policy(roles=(role("held", PODS_GET),), cluster_roles=(reader,),
                role_bindings=(binding("held", "Role", "held"),))  # fmt: skip
    # Held in perf: a RoleBinding in perf may grant the ClusterRole, a ClusterRoleBinding not.
    check_write(kb, write("POST", ROLE_BINDINGS), binding("b", "ClusterRole", "reader"), None)
    error = refusal(
        lambda: check_write(
            kb,
            write("POST", CLUSTER_ROLE_BINDINGS),
            binding("b", "ClusterRole", "reader", namespace=""),
            None,
        )
    )
    assert error.message.startswith(f'clusterrolebindings.{RBAC_GROUP} "b" is forbidden: {HEAD}')
    # bind on clusterroles in perf (a Role may grant it) lets a RoleBinding in perf bind it.
    bind = {"apiGroups": [RBAC_GROUP], "resources": ["clusterroles"], "verbs": ["bind"]}
    empty = policy(cluster_roles=(role("admin", PODS_READ, namespace=""),),
                   roles=(role("binder", bind),), role_bindings=(binding("binder", "Role", "binder"),))  # fmt: skip
    check_write(empty, write("POST", ROLE_BINDINGS), binding("b", "ClusterRole", "admin"), None)


def test_roles_bound_but_absent_are_named_as_the_registry_names_them() -> None:
    kb = policy(
        role_bindings=(binding("gone", "Role", "gone"),),
        cluster_role_bindings=(binding("gone", "ClusterRole", "gone", namespace=""),),
    )
    error = refusal(lambda: check_write(kb, write("POST", ROLES), role("new", PODS_GET), None))
    assert error.message.endswith(
        '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}; resolution errors: ['
        f'[clusterroles.{RBAC_GROUP} "gone" not found, roles.{RBAC_GROUP} "gone" not found]]'
    )


def test_privileged_users_and_other_resources_are_not_checked() -> None:
    root = UserInfo("root", ("system:masters",))
    check_write(policy(), write("POST", ROLES, root), role("new", PODS_READ), None)
    check_write(
        policy(), write("POST", "/api/v1/namespaces/perf/configmaps"), {"rules": [PODS_READ]}, None
    )
