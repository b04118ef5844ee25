"""The operator's ClusterRole grants what its code calls on its own cluster, and nothing more.

What the code calls is derived, not listed: the bodies of KubeApi's methods (kube/api.py) are
read with `ast`; each `self.<group>.<client method>(...)` is looked up in the Kubernetes client,
whose request builder names the HTTP method and the URL path, so `self.core.read_namespaced_secret`
becomes ("", "secrets", "get"). Custom-object calls name their API group and plural in their
arguments: module constants (GROUP, PERFRUNS), or parameters whose values are read off every
call site in the package. kopf's own requests (watching what the handlers serve, patching its
annotations, posting Events, scanning CRDs) are derived from handlers/registration.py.
A new API call, or a role edited by hand, fails this test until both agree again.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
import yaml

import perftest_operator
from perftest_operator import GROUP
from perftest_operator.kube import api as kube_api

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(perftest_operator.__file__).resolve().parent
ROLE = REPO / "manifests" / "base" / "clusterrole.yaml"

CLIENTS: dict[str, Any] = {
    "core": kubernetes.client.CoreV1Api,
    "batch": kubernetes.client.BatchV1Api,
    "custom": kubernetes.client.CustomObjectsApi,
    "rbac": kubernetes.client.RbacAuthorizationV1Api,
    "authorization": kubernetes.client.AuthorizationV1Api,
}
# Discovery documents (GET /api/v1, /apis/<group>/<version>): open to every authenticated client
# (system:discovery), so no role grants them.
DISCOVERY = {("core", "get_api_resources"), ("custom", "get_api_resources")}
# KubeApi methods whose objects the contract with kube-burner-ocp names (a workload's
# prerequisites, read at reconcile): their permissions come from that data, every version's.
CONTRACT_READS = {"get_object"}

# KubeApi methods called only with a remote target's client (built from the kubeconfig in a
# PerfTest's Secret), or on the hub only when the operator runs outside it (Settings.in_cluster
# False: `make run`, with the user's kubeconfig): what they need is granted by that kubeconfig,
# never by the hub's role, which applies only to the operator's pod.
REMOTE_ONLY = {
    # kube-burner's ServiceAccount, ClusterRole and binding, created on a remote target only
    # (controller/job_start.py, prepare_target `if remote`). On the operator's own cluster an admin
    # binds manifests/kube-burner/clusterrole.yaml: the operator never grants RBAC there.
    "apply_rbac_object": "kube-burner's RBAC on a remote target",
    # TokenSource.JOB_ACCOUNT (target/endpoints.py): a token minted for the Job's ServiceAccount
    # to read thanos-querier from outside the cluster; in its pod the operator uses its own.
    "mint_service_account_token": "TokenRequest on a remote target or from outside the hub",
    # The URL of thanos-querier's Route (PrometheusEndpoint.url None: from outside the
    # cluster only); in its pod on the hub the operator uses the in-cluster Service URL.
    "get_namespaced_object": "thanos-querier Route of a remote target or from outside the hub",
    # A remote target's ConfigMap is owned by its Job (controller/job_start.py _owned_by_job, `if
    # remote`); on the hub the PerfRun owns it from creation.
    "set_owner": "ConfigMap ownership on a remote target",
}

# Not API resources: GET /version is open to every authenticated client
# (system:public-info-viewer), so no role grants it.
NON_RESOURCE_CALLS = {("version", "get_code")}

Permission = tuple[str, str, str]  # (apiGroup, resource, verb)


def granted(rules: list[dict[str, Any]]) -> set[Permission]:
    """Every (apiGroup, resource, verb) a role's rules name."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


# --- the Kubernetes client: what request a client method makes ---------------------------------


def request_of(client: Any, method: str) -> tuple[str, str]:
    """(HTTP method, URL path template) of a client method, read from its request builder."""
    builder = getattr(client, f"_{method}_serialize", None)
    assert builder is not None, f"{client.__name__}.{method}: no request builder"
    source = inspect.getsource(builder)
    (http,) = set(re.findall(r"method='(\w+)'", source))
    (path,) = set(re.findall(r"resource_path='([^']+)'", source))
    return http, path


def permission_of(http: str, path: str, values: dict[str, str]) -> Permission:
    """The RBAC permission an HTTP request on a path template needs; `values` fill {group}, {plural}."""
    segments = path.strip("/").split("/")
    if segments[0] == "api":
        group, rest = "", segments[2:]
    else:
        group, rest = segments[1], segments[3:]
    group = values.get("group", group) if group == "{group}" else group
    if len(rest) > 2 and rest[0] == "namespaces" and rest[1] == "{namespace}":
        rest = rest[2:]
    resource = values.get("plural", rest[0]) if rest[0] == "{plural}" else rest[0]
    named = len(rest) > 1
    if len(rest) > 2:
        resource = f"{resource}/{rest[2]}"  # a subresource: status, token
    verb = {
        ("GET", True): "get",
        ("GET", False): "list",
        ("POST", True): "create",
        ("POST", False): "create",
        ("PUT", True): "update",
        ("PATCH", True): "patch",
        ("DELETE", True): "delete",
        ("DELETE", False): "deletecollection",
    }[(http, named)]
    assert "{" not in group + resource, f"unresolved {path} with {values}"
    return group, resource, verb


# --- KubeApi's method bodies -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCall:
    api_method: str  # KubeApi's method
    client: str  # core, batch, custom, rbac
    method: str  # the client's method
    args: tuple[ast.expr, ...]  # positional arguments, when called where it is named
    parameters: tuple[str, ...]  # the KubeApi method's own parameters


def kube_api_class() -> ast.ClassDef:
    tree = ast.parse(Path(kube_api.__file__).read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ClusterApi"]
    return cls


def client_calls() -> list[ClientCall]:
    """Every `self.<client>.<method>` in KubeApi's methods, called or passed on (a dict of them)."""
    found = []
    for function in kube_api_class().body:
        if not isinstance(function, ast.FunctionDef):
            continue
        parameters = tuple(a.arg for a in function.args.args + function.args.kwonlyargs)
        called = {id(node.func): node for node in ast.walk(function) if isinstance(node, ast.Call)}
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "self"
                and node.value.attr in CLIENTS
            ):
                call = called.get(id(node))
                found.append(
                    ClientCall(
                        function.name,
                        node.value.attr,
                        node.attr,
                        tuple(call.args) if call else (),
                        parameters,
                    )
                )
    return found


def other_client_calls() -> set[tuple[str, str]]:
    """Calls on client objects that are not one of CLIENTS (e.g. VersionApi's get_code)."""
    found = set()
    for function in kube_api_class().body:
        if not isinstance(function, ast.FunctionDef) or function.name == "__init__":
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id not in ("self", "exc", "kubernetes", "loader", "cls")
                and not node.func.attr.startswith("_")
                and node.func.value.id in ("version", "api")
            ):
                found.add((node.func.value.id, node.func.attr))
    return found


@functools.cache
def _parsed_package() -> tuple[tuple[str, ast.Module], ...]:
    parsed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("perftest_operator", *path.relative_to(PACKAGE).with_suffix("").parts))
        parsed.append((name.removesuffix(".__init__"), ast.parse(path.read_text(encoding="utf-8"))))
    return tuple(parsed)


def package_modules() -> Iterator[tuple[str, ast.Module]]:
    """(module name, syntax tree) of every module of the package."""
    yield from _parsed_package()


def constant(module: Any, node: ast.expr) -> Any:
    """The value of a literal or of a module-level name in `module`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and hasattr(module, node.id):
        return getattr(module, node.id)
    raise AssertionError(f"cannot read {ast.unparse(node)} in {module.__name__}")


def call_sites(api_method: str, wanted: set[str]) -> list[dict[str, Any]]:
    """The `wanted` arguments (by parameter name) of every call of `<x>.api_method(...)`."""
    names = list(inspect.signature(getattr(kube_api.ClusterApi, api_method)).parameters)[1:]
    sites = []
    for module_name, tree in package_modules():
        if module_name == "perftest_operator.kube.cached":
            continue  # StepReads passes its arguments on: its callers are the call sites
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == api_method
            ):
                continue
            module = importlib.import_module(module_name)  # for its constants
            args: list[tuple[Any, ast.expr | None]] = []  # (value, or the node to read it from)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    args.extend((value, None) for value in constant(module, arg.value))
                else:
                    args.append((None, arg))
            bound = dict(zip(names, args, strict=False))
            sites.append(
                {
                    name: value if expr is None else constant(module, expr)
                    for name, (value, expr) in bound.items()
                    if name in wanted
                }
            )
    return sites


def prerequisite_permissions() -> set[Permission]:
    """get on each object a supported version's prerequisites read (controller.prerequisite_checks)."""
    from perftest_operator.contract.load import SUPPORTED_VERSIONS, load_contract
    from perftest_operator.target.prerequisites import object_key

    needed = set()
    for version in SUPPORTED_VERSIONS:
        for workload in load_contract(version).workloads.values():
            for prerequisite in workload.prerequisites:
                if prerequisite.check.value in ("deploymentAvailable", "objectField"):
                    group, resource, _, _ = object_key(prerequisite)
                    needed.add((group, resource, "get"))
    return needed


def permissions_of(call: ClientCall) -> set[Permission]:
    if (call.client, call.method) in DISCOVERY:
        return set()
    if call.api_method in CONTRACT_READS:
        return prerequisite_permissions()
    http, path = request_of(CLIENTS[call.client], call.method)
    if "{group}" not in path and "{plural}" not in path:
        return {permission_of(http, path, {})}
    names = list(inspect.signature(getattr(CLIENTS[call.client], call.method)).parameters)[1:]
    bound = dict(zip(names, call.args, strict=False))
    values: dict[str, Any] = {}
    generic: list[str] = []
    for key in ("group", "plural"):
        node = bound[key]
        if isinstance(node, ast.Name) and node.id in call.parameters:
            generic.append(node.id)  # filled in by the callers of the KubeApi method
            values[key] = node.id
        else:
            values[key] = constant(kube_api, node)
    if not generic:
        return {permission_of(http, path, values)}
    sites = call_sites(call.api_method, set(generic))
    assert sites, f"KubeApi.{call.api_method} is never called"
    return {
        permission_of(http, path, {key: site[param] for key, param in values.items()})
        for site in sites
    }


def code_permissions() -> dict[str, set[Permission]]:
    """KubeApi method -> the permissions its API calls need."""
    by_method: dict[str, set[Permission]] = {}
    for call in client_calls():
        by_method.setdefault(call.api_method, set()).update(permissions_of(call))
    return by_method


# --- kopf ----------------------------------------------------------------------------------------------


def watched_resources() -> set[tuple[str, str]]:
    """(group, plural) of every resource handlers/registration.py registers kopf handlers for:
    `kopf.on.*(GROUP, VERSION, "perfruns")` and `kopf.on.event("batch", "v1", "jobs")`."""
    tree = ast.parse((PACKAGE / "handlers" / "registration.py").read_text(encoding="utf-8"))
    resources = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and len(node.args) >= 3):
            continue
        group, plural = node.args[0], node.args[2]
        if not (isinstance(plural, ast.Constant) and isinstance(plural.value, str)):
            continue
        if isinstance(group, ast.Name) and group.id == "GROUP":
            resources.add((GROUP, plural.value))
        elif isinstance(group, ast.Constant) and isinstance(group.value, str):
            resources.add((group.value, plural.value))
    return resources


def kopf_permissions() -> set[Permission]:
    """What kopf itself asks of the API server for this operator (cluster-wide, standalone)."""
    needed: set[Permission] = set()
    for group, plural in watched_resources():
        # kopf lists and watches what it serves.
        needed |= {(group, plural, verb) for verb in ("list", "watch")}
        if group == GROUP:
            # and patches ours: its progress and diff-base annotations (settings.persistence)
            # and, with timers or deletion handlers, its finalizer. Other resources have only
            # raw event handlers, which kopf never writes to.
            needed.add((group, plural, "patch"))
    # kopf posts Events of its own (warnings and errors of handlers).
    needed.add(("", "events", "create"))
    # kopf scans CRDs to find the resources its handlers name.
    needed |= {("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("list", "watch")}
    return needed


# ownerReferences with blockOwnerDeletion need `update` on the owner's finalizers where the
# OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift): a PerfRun is owned by
# its PerfTest (api/perfrun.py build_perfrun), its Job and ConfigMap by the PerfRun
# (runner/manifests.py). Not a request the operator makes, so not derivable from its calls.
OWNER_REFERENCES: set[Permission] = {
    (GROUP, "perftests/finalizers", "update"),
    (GROUP, "perfruns/finalizers", "update"),
}


# --- the tests -------------------------------------------------------------------------------------------


def hub_permissions() -> set[Permission]:
    from_code = {
        permission
        for method, permissions in code_permissions().items()
        if method not in REMOTE_ONLY
        for permission in permissions
    }
    return from_code | kopf_permissions() | OWNER_REFERENCES


def test_the_derivation_reads_what_it_should() -> None:
    """Spot checks that the reading of kube/api.py gives what a person reads there."""
    by_method = code_permissions()
    assert by_method["read_secret_key"] == {("", "secrets", "get")}
    assert by_method["create_perfrun"] == {
        (GROUP, "perfruns", "create"),
        (GROUP, "perfruns", "get"),
    }
    assert by_method["replace_perftest_status"] == {(GROUP, "perftests/status", "patch")}
    assert by_method["list_job_pods"] == {("", "pods", "list")}
    assert by_method["mint_service_account_token"] == {("", "serviceaccounts/token", "create")}
    assert by_method["apply_rbac_object"] == {
        ("", "serviceaccounts", "create"),
        ("rbac.authorization.k8s.io", "clusterroles", "create"),
        ("rbac.authorization.k8s.io", "clusterroles", "update"),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "create"),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "update"),
    }
    # Generic methods: the resources their callers name.
    assert by_method["get_cluster_object"] == {
        ("config.openshift.io", "infrastructures", "get"),
        ("config.openshift.io", "clusterversions", "get"),
    }
    assert by_method["list_cluster_objects"] == {("aro.openshift.io", "clusters", "list")}
    assert by_method["get_namespaced_object"] == {("route.openshift.io", "routes", "get")}
    assert watched_resources() == {(GROUP, "perftests"), (GROUP, "perfruns"), ("batch", "jobs")}


def test_every_api_call_is_accounted_for() -> None:
    """Each KubeApi method that calls the API is either the hub's or marked remote-only."""
    methods = set(code_permissions())
    assert set(REMOTE_ONLY) <= methods, "a remote-only method is gone: update REMOTE_ONLY"
    assert other_client_calls() <= NON_RESOURCE_CALLS
    # Remote-only methods are never called on the hub's own client.
    for module_name, tree in package_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in REMOTE_ONLY:
                receiver = ast.unparse(node.value)
                assert receiver != "ctx.api", f"{module_name}: {receiver}.{node.attr}"


def the_role_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = yaml.safe_load(ROLE.read_text(encoding="utf-8"))["rules"]
    return rules


def test_the_cluster_role_grants_what_the_code_calls_and_no_more() -> None:
    in_role = granted(the_role_rules())
    needed = hub_permissions()
    assert sorted(needed - in_role) == [], "the role lacks these"
    assert sorted(in_role - needed) == [], "the role grants these, the code never asks for them"


def test_the_cluster_role_names_every_resource_and_verb_and_no_object_or_path() -> None:
    """A wildcard would grant what the code never asks for; resourceNames would refuse what it
    asks for (PerfTests and runs of any name); nonResourceURLs are not API resources."""
    rules = the_role_rules()
    assert all(rule.keys() == {"apiGroups", "resources", "verbs"} for rule in rules)
    assert all("*" not in permission for permission in granted(rules))


def test_the_operator_never_lists_or_watches_secrets() -> None:
    """It reads the one key a PerfTest names (a kubeconfig, a token); a list or watch would give
    its account every Secret of every namespace. Derived: a new call that lists them fails here."""
    for permissions in (granted(the_role_rules()), hub_permissions()):
        assert {verb for _, resource, verb in permissions if resource == "secrets"} == {"get"}
