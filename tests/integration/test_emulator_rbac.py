"""RBAC for ServiceAccount tokens, checked against the rules' documented semantics.

Each test states a rule of the Kubernetes RBAC authorizer (the RBAC documentation,
https://kubernetes.io/docs/reference/access-authn-authz/rbac/, and the sources cited in
`localstack.emulator.rbac`) and exercises it through a ServiceAccount's minted token. The tests
run against the emulator, or against a real cluster when PERFTEST_TEST_KUBECONFIG is set: a real
authorizer sees new bindings a moment after they are written, so every test first waits until
what it granted is allowed, and only then checks what must be denied. Writes of roles and
bindings by a token are refused when they would grant what the token does not hold, unless it
may `escalate` or `bind` (the privilege-escalation tests).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.emulator.process import running_emulator

RBAC = "rbac.authorization.k8s.io"
ACCOUNT = "kb"
# How long a real cluster's authorizer may take to see a new binding, or its token
# authenticator a deleted ServiceAccount.
PROPAGATION_SECONDS = 20.0

Call = Callable[[], Any]


# Helpers.


def status_of(call: Call) -> int:
    """The HTTP status a call ends with (200 when it returns)."""
    try:
        call()
    except ApiException as exc:
        return int(exc.status)
    return 200


def allowed(call: Call) -> bool:
    """Authorized: anything but 403 (a 404 for a missing object comes after authorization)."""
    return status_of(call) != 403


def eventually(probe: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PROPAGATION_SECONDS
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {PROPAGATION_SECONDS}s")
        time.sleep(0.2)


def granted(call: Call) -> None:
    """Wait until `call` is authorized (a real authorizer learns of bindings a moment late)."""
    eventually(lambda: allowed(call), "allowed")


def forbidden(call: Call) -> dict[str, Any]:
    """The Status body of the 403 that `call` must end with."""
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 403, caught.value.body
    body: dict[str, Any] = json.loads(caught.value.body)
    return body


def raw(client: kubernetes.client.ApiClient, method: str, path: str) -> Any:
    """A request to any path with the client's credentials (raises ApiException on errors)."""
    headers = {"Accept": "application/json"}
    token = client.configuration.api_key.get("authorization")
    if token:
        headers["Authorization"] = token
    response = client.rest_client.request(method, client.configuration.host + path, headers=headers)
    response.read()
    if not 200 <= response.status <= 299:
        raise ApiException(http_resp=response)
    return response


def user_of(namespace: str, name: str = ACCOUNT) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def rule(groups: list[str], resources: list[str], verbs: list[str], **more: Any) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **more}


def sa_subject(namespace: str | None, name: str = ACCOUNT) -> dict[str, Any]:
    subject = {"kind": "ServiceAccount", "name": name}
    if namespace is not None:
        subject["namespace"] = namespace
    return subject


def role_ref(kind: str, name: str) -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": kind, "name": name}


class Rbac:
    """Creates roles and bindings as the administrator; removes the cluster-scoped ones after."""

    def __init__(self, admin: kubernetes.client.ApiClient) -> None:
        self.api = kubernetes.client.RbacAuthorizationV1Api(admin)
        self.suffix = secrets.token_hex(3)
        self._cluster_roles: list[str] = []
        self._cluster_bindings: list[str] = []

    def role(self, namespace: str, name: str, *rules: dict[str, Any]) -> None:
        body = {"metadata": {"name": name}, "rules": list(rules)}
        self.api.create_namespaced_role(namespace, body)

    def role_binding(
        self, namespace: str, name: str, ref: dict[str, str], *subjects: dict[str, Any]
    ) -> None:
        body = {"metadata": {"name": name}, "roleRef": ref, "subjects": list(subjects)}
        self.api.create_namespaced_role_binding(namespace, body)

    def cluster_role(self, name: str, *rules: dict[str, Any], **more: Any) -> str:
        """A ClusterRole named `name-<suffix>` (cluster-scoped names are shared by all tests)."""
        unique = f"{name}-{self.suffix}"
        metadata = {"name": unique, **more.pop("metadata", {})}
        self.api.create_cluster_role({"metadata": metadata, "rules": list(rules), **more})
        self._cluster_roles.append(unique)
        return unique

    def cluster_role_binding(
        self, name: str, ref: dict[str, str], *subjects: dict[str, Any]
    ) -> str:
        unique = f"{name}-{self.suffix}"
        body = {"metadata": {"name": unique}, "roleRef": ref, "subjects": list(subjects)}
        self.api.create_cluster_role_binding(body)
        self._cluster_bindings.append(unique)
        return unique

    def created_by_others(self, kind: str, name: str) -> str:
        """`name-<suffix>`, for a ClusterRole or ClusterRoleBinding a test's account creates:
        removed after the test like the administrator's."""
        unique = f"{name}-{self.suffix}"
        made = self._cluster_roles if kind == "ClusterRole" else self._cluster_bindings
        made.append(unique)
        return unique

    def cleanup(self) -> None:
        for name in self._cluster_bindings:
            with contextlib.suppress(ApiException):
                self.api.delete_cluster_role_binding(name)
        for name in self._cluster_roles:
            with contextlib.suppress(ApiException):
                self.api.delete_cluster_role(name)


@pytest.fixture()
def admin(cluster: Cluster) -> kubernetes.client.ApiClient:
    return cluster.api_client()


@pytest.fixture()
def rbac(admin: kubernetes.client.ApiClient) -> Iterator[Rbac]:
    made = Rbac(admin)
    yield made
    made.cleanup()


def make_account(admin: kubernetes.client.ApiClient, namespace: str, name: str = ACCOUNT) -> None:
    kubernetes.client.CoreV1Api(admin).create_namespaced_service_account(
        namespace, {"metadata": {"name": name}}
    )


@pytest.fixture()
def sa(cluster: Cluster, admin: kubernetes.client.ApiClient, namespace: str) -> Any:
    """The CoreV1Api of the ServiceAccount `kb` of the test's namespace, with its own token."""
    make_account(admin, namespace)
    return kubernetes.client.CoreV1Api(cluster.service_account_client(namespace, ACCOUNT))


@pytest.fixture()
def other_namespace(admin: kubernetes.client.ApiClient, namespace: str) -> Iterator[str]:
    core = kubernetes.client.CoreV1Api(admin)
    name = f"{namespace}-b"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


def watching(core: Any, namespace: str) -> Call:
    """A watch of the namespace's ConfigMaps, closed as soon as it is answered."""

    def start() -> None:
        core.list_namespaced_config_map(
            namespace, watch=True, timeout_seconds=1, _preload_content=False
        ).close()

    return start


def client_of(core: Any) -> kubernetes.client.ApiClient:
    client: kubernetes.client.ApiClient = core.api_client
    return client


# Identity and the 403 Status.


def test_a_token_without_bindings_is_denied_with_the_api_servers_status(
    sa: Any, namespace: str
) -> None:
    user = user_of(namespace)
    body = forbidden(lambda: sa.list_namespaced_pod(namespace))
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'pods is forbidden: User "{user}" cannot list resource "pods" in API group ""'
        f' in the namespace "{namespace}"',
        "reason": "Forbidden",
        "details": {"kind": "pods"},
        "code": 403,
    }
    body = forbidden(lambda: sa.read_node("n1"))
    assert body["message"] == (
        f'nodes "n1" is forbidden: User "{user}" cannot get resource "nodes" in API group ""'
        " at the cluster scope"
    )
    assert body["details"] == {"name": "n1", "kind": "nodes"}
    batch = kubernetes.client.BatchV1Api(client_of(sa))
    body = forbidden(lambda: batch.list_namespaced_job(namespace))
    assert body["message"] == (
        f'jobs.batch is forbidden: User "{user}" cannot list resource "jobs" in API group'
        f' "batch" in the namespace "{namespace}"'
    )
    assert body["details"] == {"group": "batch", "kind": "jobs"}
    body = forbidden(
        lambda: sa.create_namespaced_service_account_token(ACCOUNT, namespace, {"spec": {}})
    )
    assert body["message"] == (
        f'serviceaccounts "{ACCOUNT}" is forbidden: User "{user}" cannot create resource'
        f' "serviceaccounts/token" in API group "" in the namespace "{namespace}"'
    )
    assert body["details"] == {"name": ACCOUNT, "kind": "serviceaccounts"}


def test_non_resource_urls_of_the_default_discovery_roles_are_open_to_every_token(
    sa: Any, namespace: str
) -> None:
    client = client_of(sa)
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/batch/v1", "/openapi/v3"):
        assert raw(client, "GET", path).status == 200, path
    assert raw(client, "GET", "/healthz").status == 200
    # Outside system:discovery and system:public-info-viewer: a non-resource denial.
    with pytest.raises(ApiException) as caught:
        raw(client, "GET", "/metrics")
    assert caught.value.status == 403
    body = json.loads(caught.value.body)
    assert (body["reason"], body["code"]) == ("Forbidden", 403)
    assert body["message"] == f'forbidden: User "{user_of(namespace)}" cannot get path "/metrics"'


# Rules: verbs, groups, resources, subresources, names, wildcards.


def test_verbs_are_granted_one_by_one(sa: Any, rbac: Rbac, namespace: str) -> None:
    rbac.role(namespace, "read", rule([""], ["configmaps"], ["get", "list"]))
    rbac.role_binding(namespace, "read", role_ref("Role", "read"), sa_subject(namespace))
    granted(lambda: sa.list_namespaced_config_map(namespace))
    assert allowed(lambda: sa.read_namespaced_config_map("absent", namespace))
    cm = {"metadata": {"name": "c"}}
    assert not allowed(lambda: sa.create_namespaced_config_map(namespace, cm))
    assert not allowed(lambda: sa.patch_namespaced_config_map("c", namespace, {}))
    assert not allowed(lambda: sa.replace_namespaced_config_map("c", namespace, cm))
    assert not allowed(lambda: sa.delete_namespaced_config_map("c", namespace))
    body = forbidden(watching(sa, namespace))
    assert 'cannot watch resource "configmaps" in API group ""' in body["message"]
    # Only the verbs, only this resource: secrets stay closed.
    assert not allowed(lambda: sa.list_namespaced_secret(namespace))


def test_api_groups_must_match_the_requests_group(sa: Any, rbac: Rbac, namespace: str) -> None:
    # Events are served by the core group and by events.k8s.io: the same objects, two groups.
    rbac.role(namespace, "core-events", rule([""], ["events"], ["list"]))
    rbac.role_binding(
        namespace, "core-events", role_ref("Role", "core-events"), sa_subject(namespace)
    )
    events = kubernetes.client.EventsV1Api(client_of(sa))
    granted(lambda: sa.list_namespaced_event(namespace))
    body = forbidden(lambda: events.list_namespaced_event(namespace))
    assert body["message"].startswith("events.events.k8s.io is forbidden: ")
    assert 'in API group "events.k8s.io"' in body["message"]


def test_a_wildcard_matches_every_verb_group_or_resource(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    rbac.role(
        namespace,
        "wild",
        rule(["*"], ["events"], ["list"]),  # any group
        rule([""], ["*"], ["get"]),  # any core resource, subresources too
        rule(["batch"], ["jobs"], ["*"]),  # any verb
    )
    rbac.role_binding(namespace, "wild", role_ref("Role", "wild"), sa_subject(namespace))
    batch = kubernetes.client.BatchV1Api(client_of(sa))
    events = kubernetes.client.EventsV1Api(client_of(sa))
    granted(lambda: events.list_namespaced_event(namespace))
    assert allowed(lambda: sa.list_namespaced_event(namespace))
    assert allowed(lambda: sa.read_namespaced_secret("absent", namespace))
    assert allowed(lambda: sa.read_namespaced_pod_status("absent", namespace))
    assert allowed(lambda: batch.list_namespaced_job(namespace))
    assert allowed(lambda: batch.delete_collection_namespaced_job(namespace))
    assert allowed(lambda: batch.create_namespaced_job(namespace, {"metadata": {"name": "j"}}))
    # Each wildcard covers only its own field.
    assert not allowed(lambda: sa.list_namespaced_secret(namespace))  # get only
    assert not allowed(lambda: sa.list_namespaced_pod(namespace))
    leases = kubernetes.client.CoordinationV1Api(client_of(sa))
    assert not allowed(lambda: leases.read_namespaced_lease("absent", namespace))  # core only


def test_subresources_are_resources_of_their_own(sa: Any, rbac: Rbac, namespace: str) -> None:
    rbac.role(
        namespace,
        "sub",
        rule([""], ["pods"], ["get"]),
        rule([""], ["serviceaccounts/token"], ["create"]),
        rule(["*"], ["*/status"], ["update"]),
    )
    rbac.role_binding(namespace, "sub", role_ref("Role", "sub"), sa_subject(namespace))
    granted(lambda: sa.read_namespaced_pod("absent", namespace))
    # `pods` does not cover `pods/status`, and `serviceaccounts/token` not `serviceaccounts`.
    body = forbidden(lambda: sa.read_namespaced_pod_status("absent", namespace))
    assert 'cannot get resource "pods/status" in API group ""' in body["message"]
    assert body["details"] == {"name": "absent", "kind": "pods"}
    minted = sa.create_namespaced_service_account_token(
        ACCOUNT, namespace, {"spec": {"expirationSeconds": 600}}
    )
    assert minted.status.token
    assert not allowed(lambda: sa.read_namespaced_service_account(ACCOUNT, namespace))
    # `*/status` is any resource's status subresource, and not the resources themselves.
    pod = {"metadata": {"name": "absent"}, "spec": {"containers": []}}
    assert allowed(lambda: sa.replace_namespaced_pod_status("absent", namespace, pod))
    batch = kubernetes.client.BatchV1Api(client_of(sa))
    job = {"metadata": {"name": "absent"}, "spec": {"template": {}}}
    assert allowed(lambda: batch.replace_namespaced_job_status("absent", namespace, job))
    assert not allowed(lambda: batch.replace_namespaced_job("absent", namespace, job))


def test_resource_names_allow_only_requests_that_name_one_of_them(
    sa: Any, rbac: Rbac, admin: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(admin)
    for name in ("mine", "other"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    every_verb = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    rbac.role(namespace, "named", rule([""], ["configmaps"], every_verb, resourceNames=["mine"]))
    rbac.role_binding(namespace, "named", role_ref("Role", "named"), sa_subject(namespace))
    granted(lambda: sa.read_namespaced_config_map("mine", namespace))
    assert allowed(lambda: sa.patch_namespaced_config_map("mine", namespace, {"data": {"a": "b"}}))
    assert not allowed(lambda: sa.read_namespaced_config_map("other", namespace))
    # No name in the request: list, watch, create and deletecollection never match.
    assert not allowed(lambda: sa.list_namespaced_config_map(namespace))
    assert not allowed(watching(sa, namespace))
    assert not allowed(
        lambda: sa.create_namespaced_config_map(namespace, {"metadata": {"name": "mine"}})
    )
    body = forbidden(lambda: sa.delete_collection_namespaced_config_map(namespace))
    assert 'cannot deletecollection resource "configmaps"' in body["message"]
    # ...except a list that selects one object by name: that name is the request's name.
    listed = sa.list_namespaced_config_map(namespace, field_selector="metadata.name=mine")
    assert [item.metadata.name for item in listed.items] == ["mine"]
    assert not allowed(
        lambda: sa.list_namespaced_config_map(namespace, field_selector="metadata.name=other")
    )
    assert allowed(lambda: sa.delete_namespaced_config_map("mine", namespace))


def test_delete_without_a_name_is_deletecollection(sa: Any, rbac: Rbac, namespace: str) -> None:
    rbac.role(namespace, "delete", rule([""], ["configmaps"], ["delete"]))
    rbac.role_binding(namespace, "delete", role_ref("Role", "delete"), sa_subject(namespace))
    granted(lambda: sa.delete_namespaced_config_map("absent", namespace))
    body = forbidden(lambda: sa.delete_collection_namespaced_config_map(namespace))
    assert body["message"] == (
        f'configmaps is forbidden: User "{user_of(namespace)}" cannot deletecollection resource'
        f' "configmaps" in API group "" in the namespace "{namespace}"'
    )
    rbac.role(namespace, "sweep", rule([""], ["configmaps"], ["deletecollection"]))
    rbac.role_binding(namespace, "sweep", role_ref("Role", "sweep"), sa_subject(namespace))
    granted(lambda: sa.delete_collection_namespaced_config_map(namespace))


# Bindings: where they grant, and to whom.


def test_a_rolebinding_to_a_clusterrole_grants_within_its_namespace_only(
    cluster: Cluster,
    admin: kubernetes.client.ApiClient,
    sa: Any,
    rbac: Rbac,
    namespace: str,
    other_namespace: str,
) -> None:
    reader = rbac.cluster_role("reader", rule([""], ["configmaps", "nodes"], ["list"]))
    rbac.role_binding(namespace, "reader", role_ref("ClusterRole", reader), sa_subject(namespace))
    granted(lambda: sa.list_namespaced_config_map(namespace))
    assert not allowed(lambda: sa.list_namespaced_config_map(other_namespace))
    body = forbidden(lambda: sa.list_config_map_for_all_namespaces())
    assert body["message"].endswith(
        'cannot list resource "configmaps" in API group "" at the cluster scope'
    )
    assert not allowed(lambda: sa.list_node())  # cluster-scoped: no namespace to grant in
    # A RoleBinding's Role is looked up in the binding's own namespace.
    rbac.role(other_namespace, "local", rule([""], ["secrets"], ["list"]))
    rbac.role_binding(namespace, "local", role_ref("Role", "local"), sa_subject(namespace))
    body = forbidden(lambda: sa.list_namespaced_secret(namespace))
    assert body["message"].endswith(f': RBAC: role.{RBAC} "local" not found')


def test_a_clusterrolebinding_grants_in_every_namespace_and_at_the_cluster_scope(
    sa: Any, rbac: Rbac, namespace: str, other_namespace: str
) -> None:
    reader = rbac.cluster_role("reader", rule([""], ["configmaps", "nodes"], ["list"]))
    rbac.cluster_role_binding("reader", role_ref("ClusterRole", reader), sa_subject(namespace))
    granted(lambda: sa.list_config_map_for_all_namespaces())
    assert allowed(lambda: sa.list_namespaced_config_map(namespace))
    assert allowed(lambda: sa.list_namespaced_config_map(other_namespace))
    assert allowed(lambda: sa.list_node())
    assert not allowed(lambda: sa.list_namespaced_secret(namespace))


def test_group_and_user_subjects(
    cluster: Cluster,
    admin: kubernetes.client.ApiClient,
    rbac: Rbac,
    namespace: str,
    other_namespace: str,
) -> None:
    make_account(admin, namespace)
    make_account(admin, other_namespace)
    here = kubernetes.client.CoreV1Api(cluster.service_account_client(namespace, ACCOUNT))
    there = kubernetes.client.CoreV1Api(cluster.service_account_client(other_namespace, ACCOUNT))
    group = {"apiGroup": RBAC, "kind": "Group", "name": f"system:serviceaccounts:{namespace}"}
    rbac.role(namespace, "cm", rule([""], ["configmaps"], ["list"]))
    rbac.role_binding(namespace, "cm", role_ref("Role", "cm"), group)
    granted(lambda: here.list_namespaced_config_map(namespace))
    # The group of the namespace's accounts: not an account of another namespace.
    assert not allowed(lambda: there.list_namespaced_config_map(namespace))
    everyone = {"apiGroup": RBAC, "kind": "Group", "name": "system:serviceaccounts"}
    rbac.role(namespace, "secrets", rule([""], ["secrets"], ["list"]))
    rbac.role_binding(namespace, "secrets", role_ref("Role", "secrets"), everyone)
    granted(lambda: there.list_namespaced_secret(namespace))
    # A User subject with the account's user name is the account.
    user = {"apiGroup": RBAC, "kind": "User", "name": user_of(other_namespace)}
    rbac.role(namespace, "pods", rule([""], ["pods"], ["list"]))
    rbac.role_binding(namespace, "pods", role_ref("Role", "pods"), user)
    granted(lambda: there.list_namespaced_pod(namespace))
    assert not allowed(lambda: here.list_namespaced_pod(namespace))
    # A ServiceAccount subject without a namespace, in a RoleBinding, is the binding's.
    rbac.role(namespace, "svc", rule([""], ["services"], ["list"]))
    rbac.role_binding(namespace, "svc", role_ref("Role", "svc"), sa_subject(None))
    granted(lambda: here.list_namespaced_service(namespace))
    assert not allowed(lambda: there.list_namespaced_service(namespace))


def test_a_namespace_is_in_itself(
    sa: Any, rbac: Rbac, namespace: str, other_namespace: str
) -> None:
    rbac.role(namespace, "ns", rule([""], ["namespaces"], ["get", "list"]))
    rbac.role_binding(namespace, "ns", role_ref("Role", "ns"), sa_subject(namespace))
    granted(lambda: sa.read_namespace(namespace))
    body = forbidden(lambda: sa.read_namespace(other_namespace))
    assert body["message"] == (
        f'namespaces "{other_namespace}" is forbidden: User "{user_of(namespace)}" cannot get'
        f' resource "namespaces" in API group "" in the namespace "{other_namespace}"'
    )
    body = forbidden(lambda: sa.list_namespace())
    assert body["message"].endswith(
        'cannot list resource "namespaces" in API group "" at the cluster scope'
    )


def test_an_aggregated_clusterrole_grants_the_rules_of_the_roles_it_selects(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    label = f"perftest.dev/aggregate-{rbac.suffix}"
    rbac.cluster_role(
        "part", rule([""], ["configmaps"], ["list"]), metadata={"labels": {label: "true"}}
    )
    rbac.cluster_role(
        "unselected", rule([""], ["secrets"], ["list"]), metadata={"labels": {label: "no"}}
    )
    whole = rbac.cluster_role(
        "whole", aggregationRule={"clusterRoleSelectors": [{"matchLabels": {label: "true"}}]}
    )
    rbac.role_binding(namespace, "whole", role_ref("ClusterRole", whole), sa_subject(namespace))
    granted(lambda: sa.list_namespaced_config_map(namespace))
    assert not allowed(lambda: sa.list_namespaced_secret(namespace))


# Privilege escalation: writing roles and bindings (the RBAC documentation's "Privilege
# escalation prevention and bootstrapping"; the sources in `localstack.emulator.escalation`).


def groups_of(namespace: str) -> str:
    """The groups of a ServiceAccount's token as Go's %q prints a []string."""
    return f'["system:serviceaccounts" "system:serviceaccounts:{namespace}" "system:authenticated"]'


def not_held(namespace: str, *missing: str) -> str:
    """ConfirmNoEscalation's message for the account `kb` of `namespace`."""
    return (
        f'user "{user_of(namespace)}" (groups={groups_of(namespace)}) is attempting to grant'
        " RBAC permissions not currently held:\n" + "\n".join(missing)
    )


def rbac_of(core: Any) -> kubernetes.client.RbacAuthorizationV1Api:
    return kubernetes.client.RbacAuthorizationV1Api(client_of(core))


def test_a_role_may_grant_only_what_its_author_holds(sa: Any, rbac: Rbac, namespace: str) -> None:
    rbac.role(
        namespace,
        "author",
        rule([RBAC], ["roles"], ["create", "patch"]),
        rule([""], ["pods"], ["get", "list"]),
    )
    rbac.role_binding(namespace, "author", role_ref("Role", "author"), sa_subject(namespace))
    mine = rbac_of(sa)
    readers = {"metadata": {"name": "readers"}, "rules": [rule([""], ["pods"], ["get", "list"])]}
    granted(lambda: mine.create_namespaced_role(namespace, readers))
    watchers = [rule([""], ["pods"], ["get", "list", "watch"])]
    body = forbidden(
        lambda: mine.create_namespaced_role(
            namespace, {"metadata": {"name": "watchers"}, "rules": watchers}
        )
    )
    assert body["message"] == f'roles.{RBAC} "watchers" is forbidden: ' + not_held(
        namespace, '{APIGroups:[""], Resources:["pods"], Verbs:["watch"]}'
    )
    assert body["reason"] == "Forbidden"
    assert body["details"] == {"name": "watchers", "group": RBAC, "kind": "roles"}
    # An update is checked as a create is.
    body = forbidden(lambda: mine.patch_namespaced_role("readers", namespace, {"rules": watchers}))
    assert body["message"].startswith(f'roles.{RBAC} "readers" is forbidden: user ')
    assert rbac.api.read_namespaced_role("readers", namespace).rules[0].verbs == ["get", "list"]


def test_escalate_lifts_the_check_for_the_roles_it_names(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    rbac.role(
        namespace,
        "author",
        rule([RBAC], ["roles"], ["create", "update"]),
        rule([RBAC], ["roles"], ["escalate"], resourceNames=["mine"]),
    )
    rbac.role_binding(namespace, "author", role_ref("Role", "author"), sa_subject(namespace))
    rbac.role(namespace, "mine")
    mine = rbac_of(sa)
    secrets = [rule([""], ["secrets"], ["list"])]
    granted(
        lambda: mine.replace_namespaced_role(
            "mine", namespace, {"metadata": {"name": "mine"}, "rules": secrets}
        )
    )
    # It granted what it does not hold, and still does not hold it.
    assert rbac.api.read_namespaced_role("mine", namespace).rules[0].resources == ["secrets"]
    assert not allowed(lambda: sa.list_namespaced_secret(namespace))
    # Only the roles it names; a create names none (the request's name is the URL's).
    other = {"metadata": {"name": "other"}, "rules": secrets}
    body = forbidden(lambda: mine.create_namespaced_role(namespace, other))
    assert body["message"].endswith('{APIGroups:[""], Resources:["secrets"], Verbs:["list"]}')
    mine_again = {"metadata": {"name": "mine"}, "rules": secrets}
    rbac.api.delete_namespaced_role("mine", namespace)
    assert status_of(lambda: mine.create_namespaced_role(namespace, mine_again)) == 403
    # Unrestricted, escalate lifts it for a create too.
    rbac.role(namespace, "escalator", rule([RBAC], ["roles"], ["escalate"]))
    rbac.role_binding(namespace, "escalator", role_ref("Role", "escalator"), sa_subject(namespace))
    granted(lambda: mine.create_namespaced_role(namespace, other))


def test_a_clusterrole_may_grant_only_what_clusterrolebindings_grant(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    creator = rbac.cluster_role("creator", rule([RBAC], ["clusterroles"], ["create"]))
    rbac.cluster_role_binding("creator", role_ref("ClusterRole", creator), sa_subject(namespace))
    rbac.role(namespace, "pods", rule([""], ["pods"], ["list"]))
    rbac.role_binding(namespace, "pods", role_ref("Role", "pods"), sa_subject(namespace))
    mine = rbac_of(sa)
    empty = rbac.created_by_others("ClusterRole", "empty")
    granted(lambda: mine.create_cluster_role({"metadata": {"name": empty}}))
    granted(lambda: sa.list_namespaced_pod(namespace))
    # Held in its namespace, not cluster-wide: a ClusterRole may not grant it.
    listers = rbac.created_by_others("ClusterRole", "listers")
    body_of = {"metadata": {"name": listers}, "rules": [rule([""], ["pods"], ["list"])]}
    body = forbidden(lambda: mine.create_cluster_role(body_of))
    assert body["message"] == f'clusterroles.{RBAC} "{listers}" is forbidden: ' + not_held(
        namespace, '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}'
    )
    reader = rbac.cluster_role("reader", rule([""], ["pods"], ["list"]))
    rbac.cluster_role_binding("reader", role_ref("ClusterRole", reader), sa_subject(namespace))
    granted(lambda: mine.create_cluster_role(body_of))


def test_a_binding_needs_the_roles_permissions_or_bind_on_it(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    rbac.role(
        namespace,
        "binder",
        rule([RBAC], ["rolebindings"], ["create"]),
        rule([""], ["pods"], ["get"]),
    )
    rbac.role_binding(namespace, "binder", role_ref("Role", "binder"), sa_subject(namespace))
    rbac.role(namespace, "getters", rule([""], ["pods"], ["get"]))
    rbac.role(namespace, "listers", rule([""], ["pods"], ["get", "list"]))
    rbac.role(namespace, "watchers", rule([""], ["pods"], ["watch"]))
    mine = rbac_of(sa)
    someone = {"apiGroup": RBAC, "kind": "User", "name": "someone"}

    def bind(ref: str) -> Call:
        body = {"metadata": {"name": ref}, "roleRef": role_ref("Role", ref), "subjects": [someone]}
        return lambda: mine.create_namespaced_role_binding(namespace, body)

    granted(bind("getters"))
    body = forbidden(bind("listers"))
    assert body["message"] == f'rolebindings.{RBAC} "listers" is forbidden: ' + not_held(
        namespace, '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}'
    )
    assert body["details"] == {"name": "listers", "group": RBAC, "kind": "rolebindings"}
    # The role is read before anything else: an absent one is not found.
    with pytest.raises(ApiException) as caught:
        bind("absent")()
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == f'roles.{RBAC} "absent" not found'
    # bind, restricted to one role by resourceNames.
    rbac.role(
        namespace, "bind-listers", rule([RBAC], ["roles"], ["bind"], resourceNames=["listers"])
    )
    rbac.role_binding(
        namespace, "bind-listers", role_ref("Role", "bind-listers"), sa_subject(namespace)
    )
    granted(bind("listers"))
    body = forbidden(bind("watchers"))
    assert body["message"].endswith('{APIGroups:[""], Resources:["pods"], Verbs:["watch"]}')


def test_a_clusterrolebinding_needs_the_rules_cluster_wide(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    binder = rbac.cluster_role(
        "binder", rule([RBAC], ["clusterrolebindings", "rolebindings"], ["create"])
    )
    rbac.cluster_role_binding("binder", role_ref("ClusterRole", binder), sa_subject(namespace))
    rbac.role(namespace, "pods", rule([""], ["pods"], ["get"]))
    rbac.role_binding(namespace, "pods", role_ref("Role", "pods"), sa_subject(namespace))
    getter = rbac.cluster_role("getter", rule([""], ["pods"], ["get"]))
    mine = rbac_of(sa)
    someone = {"apiGroup": RBAC, "kind": "User", "name": "someone"}
    ref = role_ref("ClusterRole", getter)
    # Held in its namespace: a RoleBinding there may grant the ClusterRole...
    local = {"metadata": {"name": "getter"}, "roleRef": ref, "subjects": [someone]}
    granted(lambda: mine.create_namespaced_role_binding(namespace, local))
    # ...a ClusterRoleBinding, which grants it everywhere, may not.
    name = rbac.created_by_others("ClusterRoleBinding", "getter")
    body = forbidden(
        lambda: mine.create_cluster_role_binding(
            {"metadata": {"name": name}, "roleRef": ref, "subjects": [someone]}
        )
    )
    assert body["message"] == f'clusterrolebindings.{RBAC} "{name}" is forbidden: ' + not_held(
        namespace, '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}'
    )


# Watches.


def test_a_watch_is_authorized_when_it_starts(
    sa: Any, rbac: Rbac, admin: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(admin)
    rbac.role(namespace, "list", rule([""], ["configmaps"], ["list"]))
    rbac.role_binding(namespace, "list", role_ref("Role", "list"), sa_subject(namespace))
    granted(lambda: sa.list_namespaced_config_map(namespace))
    stream = kubernetes.watch.Watch().stream(
        sa.list_namespaced_config_map, namespace, timeout_seconds=5
    )
    with pytest.raises(ApiException) as caught:
        next(stream)
    assert caught.value.status == 403

    rbac.role(namespace, "watch", rule([""], ["configmaps"], ["watch"]))
    rbac.role_binding(namespace, "watch", role_ref("Role", "watch"), sa_subject(namespace))
    watch = watching(sa, namespace)
    granted(watch)
    since = core.list_namespaced_config_map(namespace).metadata.resource_version
    selector = "perftest.dev/watched=yes"
    labelled = {"labels": {"perftest.dev/watched": "yes"}}
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "first", **labelled}})
    stream = kubernetes.watch.Watch().stream(
        sa.list_namespaced_config_map,
        namespace,
        resource_version=since,
        label_selector=selector,
        timeout_seconds=60,
    )
    assert next(stream)["object"].metadata.name == "first"
    # Revoked while it runs: the watch goes on (it was authorized when it started).
    rbac.api.delete_namespaced_role_binding("watch", namespace)
    eventually(lambda: not allowed(watch), "denied")
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "second", **labelled}})
    assert next(stream)["object"].metadata.name == "second"


# SubjectAccessReviews.


def access_review(user: str, groups: list[str], **attributes: Any) -> dict[str, Any]:
    key = "nonResourceAttributes" if "path" in attributes else "resourceAttributes"
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, key: attributes},
    }


def test_subject_access_reviews_answer_as_the_authorizer_decides(
    sa: Any, rbac: Rbac, admin: kubernetes.client.ApiClient, namespace: str
) -> None:
    reviews = kubernetes.client.AuthorizationV1Api(admin)
    user = user_of(namespace)
    groups = [
        "system:serviceaccounts",
        f"system:serviceaccounts:{namespace}",
        "system:authenticated",
    ]
    list_pods = {"namespace": namespace, "verb": "list", "resource": "pods"}
    answer = reviews.create_subject_access_review(access_review(user, groups, **list_pods))
    assert answer.status.allowed is False
    assert not answer.status.denied

    rbac.role(namespace, "pods", rule([""], ["pods"], ["list"]))
    rbac.role_binding(namespace, "pods", role_ref("Role", "pods"), sa_subject(namespace))
    granted(lambda: sa.list_namespaced_pod(namespace))
    answer = reviews.create_subject_access_review(access_review(user, groups, **list_pods))
    assert answer.status.allowed is True
    assert answer.status.reason == (
        f'RBAC: allowed by RoleBinding "pods/{namespace}" of Role "pods" to ServiceAccount'
        f' "{ACCOUNT}/{namespace}"'
    )
    assert answer.spec.resource_attributes.resource == "pods"
    # Every attribute counts: another namespace, verb, group, subresource or name.
    for changed in (
        {"namespace": "default"},
        {"verb": "watch"},
        {"group": "batch"},
        {"subresource": "log"},
    ):
        denied = reviews.create_subject_access_review(
            access_review(user, groups, **{**list_pods, **changed})
        )
        assert denied.status.allowed is False, changed
    # Non-resource attributes: discovery is granted to system:authenticated, not to the user.
    version = {"path": "/version", "verb": "get"}
    assert reviews.create_subject_access_review(
        access_review(user, groups, **version)
    ).status.allowed
    alone = reviews.create_subject_access_review(access_review(user, [], **version))
    assert alone.status.allowed is False


def test_only_administrators_create_subject_access_reviews_and_anyone_asks_about_itself(
    sa: Any, rbac: Rbac, namespace: str
) -> None:
    mine = kubernetes.client.AuthorizationV1Api(client_of(sa))
    body = forbidden(
        lambda: mine.create_subject_access_review(
            access_review("someone", [], namespace=namespace, verb="get", resource="pods")
        )
    )
    assert body["message"] == (
        f'subjectaccessreviews.authorization.k8s.io is forbidden: User "{user_of(namespace)}"'
        ' cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io"'
        " at the cluster scope"
    )
    rbac.role(namespace, "cm", rule([""], ["configmaps"], ["get"]))
    rbac.role_binding(namespace, "cm", role_ref("Role", "cm"), sa_subject(namespace))
    granted(lambda: sa.read_namespaced_config_map("absent", namespace))

    def self_review(verb: str) -> bool:
        attributes = {"namespace": namespace, "verb": verb, "resource": "configmaps"}
        review = {"spec": {"resourceAttributes": attributes}}
        return bool(mine.create_self_subject_access_review(review).status.allowed)

    assert self_review("get") is True
    assert self_review("delete") is False


def test_a_review_needs_attributes_and_a_subject(admin: kubernetes.client.ApiClient) -> None:
    reviews = kubernetes.client.AuthorizationV1Api(admin)
    with pytest.raises(ApiException) as caught:
        reviews.create_subject_access_review({"spec": {"user": "someone"}})
    assert caught.value.status == 422
    assert "exactly one of nonResourceAttributes or resourceAttributes must be specified" in (
        caught.value.body
    )
    with pytest.raises(ApiException) as caught:
        reviews.create_subject_access_review(
            {"spec": {"nonResourceAttributes": {"path": "/version", "verb": "get"}}}
        )
    assert caught.value.status == 422
    assert "at least one of user or group must be specified" in caught.value.body


# Tokens: what they are worth, and for how long.


def test_a_token_of_a_deleted_service_account_is_unauthorized(
    cluster: Cluster, admin: kubernetes.client.ApiClient, namespace: str
) -> None:
    make_account(admin, namespace)
    client = cluster.service_account_client(namespace, ACCOUNT)
    assert raw(client, "GET", "/version").status == 200
    core = kubernetes.client.CoreV1Api(admin)
    core.delete_namespaced_service_account(ACCOUNT, namespace)
    eventually(lambda: status_of(lambda: raw(client, "GET", "/version")) == 401, "401")
    with pytest.raises(ApiException) as caught:
        raw(client, "GET", "/api/v1/namespaces")
    assert caught.value.status == 401
    assert json.loads(caught.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    # Bound to the account's uid: a new account of the same name does not revive it.
    make_account(admin, namespace)
    assert status_of(lambda: raw(client, "GET", "/version")) == 401


def test_tokens_live_at_least_ten_minutes(
    admin: kubernetes.client.ApiClient, namespace: str
) -> None:
    make_account(admin, namespace)
    core = kubernetes.client.CoreV1Api(admin)
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_service_account_token(
            ACCOUNT, namespace, {"spec": {"expirationSeconds": 599}}
        )
    assert caught.value.status == 422
    assert "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than" in (
        caught.value.body
    )


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


async def test_a_token_is_unauthorized_once_it_has_expired(
    cluster: Cluster, tmp_path: Path
) -> None:
    if not cluster.emulated:
        pytest.skip("waits out a token's lifetime (ten minutes at least) on the emulator's clock")
    import asyncio

    clock = MovableClock()
    async with running_emulator(tmp_path, clock=clock) as emulator:
        local = Cluster(kubeconfig=emulator.kubeconfig, emulated=True)

        def mint() -> kubernetes.client.ApiClient:
            make_account(local.api_client(), "default")
            return local.service_account_client("default", ACCOUNT, expiration_seconds=600)

        # Synchronous clients in threads: this event loop serves the emulator.
        client = await asyncio.to_thread(mint)
        version = lambda: status_of(lambda: raw(client, "GET", "/version"))  # noqa: E731
        assert await asyncio.to_thread(version) == 200
        # The API server accepts a token for a minute past its expiry (go-jose's leeway).
        clock.now += datetime.timedelta(seconds=600 + 60)
        assert await asyncio.to_thread(version) == 200
        clock.now += datetime.timedelta(seconds=1)
        assert await asyncio.to_thread(version) == 401


def test_requests_without_a_minted_token_are_administrators(
    cluster: Cluster, namespace: str
) -> None:
    if not cluster.emulated:
        pytest.skip("the emulator's own semantics: a real cluster refuses unknown tokens")
    client = cluster.api_client()  # the kubeconfig's token, which the emulator did not mint
    assert raw(client, "GET", "/api/v1/nodes").status == 200
    client.configuration.api_key = {}
    assert raw(client, "GET", f"/api/v1/namespaces/{namespace}/secrets").status == 200
    client.configuration.api_key = {"authorization": "Bearer emulator-token.x.y.not-minted"}
    assert raw(client, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles").status == 200
