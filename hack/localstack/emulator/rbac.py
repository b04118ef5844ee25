"""The API server's RBAC authorizer for the emulator: request attributes, rules, bindings; pure.

Who is authorized, and how (the emulator's documented semantics):

- Requests without a token, or with a token the emulator did not mint, are administrators and
  are never evaluated here (see `tokens`). Identities come from ServiceAccount tokens
  minted through the TokenRequest API: `system:serviceaccount:<ns>:<name>` in the groups
  `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
- A request is allowed when one rule of one role bound to the identity allows it; there are no
  deny rules. Members of `system:masters` are allowed everything (the API server's privileged
  group authorizer, `k8s.io/apiserver/pkg/authorization/authorizerfactory/builtin.go`).
- Which bindings apply (`pkg/registry/rbac/validation/rule.go`, VisitRulesFor / appliesTo):
  every ClusterRoleBinding, then, for a request in a namespace, the RoleBindings of that
  namespace only. A RoleBinding grants its Role (of its own namespace) or a ClusterRole within
  its namespace; a ClusterRoleBinding grants its ClusterRole everywhere. Subjects: `User`
  (the user name), `Group` (one of the groups), `ServiceAccount` (namespace + name; in a
  RoleBinding an empty namespace means the binding's, in a ClusterRoleBinding it matches
  nothing). A binding whose role does not exist grants nothing, and a denial then ends with
  `RBAC: role.rbac.authorization.k8s.io "NAME" not found` as on a real cluster.
- Rule matching (`pkg/apis/rbac/v1/evaluation_helpers.go`, `plugin/pkg/auth/authorizer/rbac/
  rbac.go` RuleAllows): verbs, apiGroups and resources match exactly or by `*`; a resource
  `pods/log` matches the subresource, `*/scale` any resource's `scale`; resourceNames, when
  given, must hold the request's name, so they never match a request without one (list, watch,
  create, deletecollection), unless a list or watch selects one object with
  `fieldSelector=metadata.name=NAME` (then the API server takes NAME as the request's name);
  nonResourceURLs match exactly, by a trailing `*` prefix, or `*`.
- Request attributes come from the URL as `k8s.io/apiserver/pkg/endpoints/request/
  requestinfo.go` derives them: GET of a name is get, without a name list (watch with
  `?watch=` anything but 0/false), DELETE without a name deletecollection, POST create, PUT
  update, PATCH patch; `/api/v1/namespaces/NAME` is in the namespace NAME (so a RoleBinding
  in NAME can grant `get namespaces`), `namespaces/NAME/status|finalize` are its
  subresources. Any other path (`/version`, `/api`, `/apis/g/v`, `/openapi/v3`, `/healthz`)
  is a non-resource request with the HTTP method as verb. The deprecated `/api/v1/watch/...`
  and `proxy` path verbs are not modelled (the emulator serves neither).
- Non-resource URLs are granted as on a fresh cluster by the default ClusterRoles
  `system:discovery`, `system:public-info-viewer` and `system:basic-user` bound to
  `system:authenticated` (stored in the emulator at start, see `rbac_defaults`):
  discovery, OpenAPI, /version and the health paths for every authenticated identity.
- Aggregated ClusterRoles: a ClusterRole with an `aggregationRule` grants the union of the
  rules of the ClusterRoles its selectors match (what kube-controller-manager's
  clusterrole-aggregation controller writes into its `rules`); the stored object's `rules`
  field is not rewritten by the emulator.
- A denial is a 403 Status worded by `responsewriters.forbiddenMessage` and
  `apierrors.NewForbidden` (see `forbidden_error`).
- Writes of roles and bindings are further checked for privilege escalation once authorized
  (`escalation`).

Sources (kubernetes v1.32 and its staging repositories): k8s.io/apiserver v0.32.0
(9d863059eefc) pkg/endpoints/request/requestinfo.go, pkg/endpoints/handlers/responsewriters/
errors.go, pkg/authorization/union/union.go; k8s.io/apimachinery v0.32.0 pkg/api/errors/
errors.go (NewForbidden), pkg/util/errors/errors.go (Aggregate), pkg/runtime/conversion.go
(boolean query parameters); kubernetes/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go
(03bf11a309fd), plugin/pkg/auth/authorizer/rbac/rbac.go (01aa0f3f6052),
pkg/registry/rbac/validation/rule.go (05c351a9037b); and the RBAC documentation,
https://kubernetes.io/docs/reference/access-authn-authz/rbac/ (default roles, aggregated
ClusterRoles, referring to subresources and resourceNames).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from kmock import KubernetesError

from localstack.emulator.object_selectors import LabelSelector, Operator, Requirement

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
AUTHENTICATED_GROUP = "system:authenticated"
PRIVILEGED_GROUP = "system:masters"
RBAC_GROUP = "rbac.authorization.k8s.io"
ALL = "*"

# requestinfo.go: subresources of a namespace, not namespaced resources called "status".
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclasses.dataclass(frozen=True)
class UserInfo:
    """An authenticated identity: its user name and groups."""

    name: str
    groups: tuple[str, ...] = ()


def service_account_user(namespace: str, name: str) -> UserInfo:
    """The identity of a ServiceAccount's token, as the API server's token authenticator
    gives it (k8s.io/apiserver pkg/authentication/serviceaccount/util.go)."""
    return UserInfo(
        f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
        (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}", AUTHENTICATED_GROUP),
    )


@dataclasses.dataclass(frozen=True)
class Attributes:
    """What a request asks to do, in the authorizer's terms (authorizer.AttributesRecord)."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def _query_true(value: str) -> bool:
    """A boolean query parameter as apimachinery converts it: only 0 and false are false."""
    return value != "0" and value.lower() != "false"


def _selected_name(field_selector: str) -> str:
    """The name a field selector pins (`metadata.name=x` or `==x` as one of its terms)."""
    for term in field_selector.split(","):
        key, equals, value = term.partition("=")
        if not equals or key.endswith("!"):
            continue
        value = value.removeprefix("=").strip()
        # path.IsValidPathSegmentName: no '/', no '%', not '.' or '..'.
        if key.strip() == "metadata.name" and value not in ("", ".", "..") and "/" not in value:
            return value if "%" not in value else ""
    return ""


def request_attributes(
    user: UserInfo, method: str, path: str, query: Mapping[str, str]
) -> Attributes:
    """The attributes the API server authorizes an HTTP request by (requestinfo.go)."""
    parts = [part for part in path.strip("/").split("/")] if path.strip("/") else []
    non_resource = Attributes(user=user, verb=method.lower(), resource_request=False, path=path)
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return non_resource
    group = ""
    rest = parts[1:]
    if parts[0] == "apis":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = _METHOD_VERBS.get(method.upper(), "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 else ""
    if not name and verb == "get":
        watch = "watch" in query and _query_true(query["watch"])
        verb = "watch" if watch else "list"
        name = _selected_name(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        user=user,
        verb=verb,
        resource_request=True,
        path=path,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


# Rules.


@dataclasses.dataclass(frozen=True)
class PolicyRule:
    """One rule of a Role or ClusterRole (rbac/v1 PolicyRule)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PolicyRule:
        def strings(key: str) -> tuple[str, ...]:
            values = body.get(key) or ()
            return tuple(str(value) for value in values)

        return cls(
            verbs=strings("verbs"),
            api_groups=strings("apiGroups"),
            resources=strings("resources"),
            resource_names=strings("resourceNames"),
            non_resource_urls=strings("nonResourceURLs"),
        )


# Membership tests on the rule's tuples (not loops over them): a ServiceAccount's request walks
# every rule it holds.


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    return ALL in rule.verbs or verb in rule.verbs


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    return ALL in rule.api_groups or group in rule.api_groups


def resource_matches(rule: PolicyRule, combined: str, subresource: str) -> bool:
    """`combined` is `resource` or `resource/subresource`; `*/sub` matches any resource's sub."""
    resources = rule.resources
    if ALL in resources or combined in resources:
        return True
    return bool(subresource) and f"*/{subresource}" in resources


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    for candidate in rule.non_resource_urls:
        if candidate in (ALL, path):
            return True
        if candidate.endswith("*") and path.startswith(candidate.rstrip("*")):
            return True
    return False


def rule_allows(attributes: Attributes, rule: PolicyRule) -> bool:
    if not verb_matches(rule, attributes.verb):
        return False
    if not attributes.resource_request:
        return non_resource_url_matches(rule, attributes.path)
    combined = attributes.resource
    if attributes.subresource:
        combined = f"{combined}/{attributes.subresource}"
    return (
        api_group_matches(rule, attributes.api_group)
        and resource_matches(rule, combined, attributes.subresource)
        and resource_name_matches(rule, attributes.name)
    )


# Bindings.


def go_quote(text: str) -> str:
    """Go's %q for the printable strings found in names."""
    return json.dumps(text, ensure_ascii=False)


@dataclasses.dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""

    def key(self, binding_namespace: str) -> tuple[str, str] | None:
        """The user name or group this subject stands for, or None if it stands for nobody."""
        if self.kind == "User":
            return ("user", self.name)
        if self.kind == "Group":
            return ("group", self.name)
        if self.kind == "ServiceAccount":
            namespace = self.namespace or binding_namespace
            if not namespace:
                return None
            return ("user", f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{self.name}")
        return None

    def describe(self, binding_namespace: str) -> str:
        if self.kind == "ServiceAccount":
            namespace = self.namespace or binding_namespace
            return f"{self.kind} {go_quote(self.name + '/' + namespace)}"
        return f"{self.kind} {go_quote(self.name)}"


@dataclasses.dataclass(frozen=True)
class Binding:
    """A RoleBinding (namespace set) or ClusterRoleBinding (namespace empty)."""

    name: str
    namespace: str
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Binding:
        meta = body.get("metadata") or {}
        ref = body.get("roleRef") or {}
        subjects = tuple(
            Subject(str(s.get("kind", "")), str(s.get("name", "")), str(s.get("namespace") or ""))
            for s in body.get("subjects") or ()
            if isinstance(s, Mapping)
        )
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace") or ""),
            role_kind=str(ref.get("kind", "")),
            role_name=str(ref.get("name", "")),
            subjects=subjects,
        )

    def first_subject(self, user: UserInfo) -> Subject | None:
        """The first subject that applies to `user` (appliesTo in rule.go)."""
        for subject in self.subjects:
            key = subject.key(self.namespace)
            if key == ("user", user.name) or (key and key[0] == "group" and key[1] in user.groups):
                return subject
        return None

    def describe(self, subject: Subject) -> str:
        """The source an allowed request names (rule.go's binding describers)."""
        if self.namespace:
            return (
                f"RoleBinding {go_quote(self.name + '/' + self.namespace)} of {self.role_kind}"
                f" {go_quote(self.role_name)} to {subject.describe(self.namespace)}"
            )
        return (
            f"ClusterRoleBinding {go_quote(self.name)} of {self.role_kind}"
            f" {go_quote(self.role_name)} to {subject.describe('')}"
        )


def label_selector(body: Any) -> LabelSelector | None:
    """A metav1.LabelSelector (matchLabels, matchExpressions); None if it is not one."""
    if not isinstance(body, Mapping):
        return None
    operators = {
        "In": Operator.IN,
        "NotIn": Operator.NOT_IN,
        "Exists": Operator.EXISTS,
        "DoesNotExist": Operator.DOES_NOT_EXIST,
    }
    requirements = [
        Requirement(str(key), Operator.EQUALS, frozenset({str(value)}))
        for key, value in (body.get("matchLabels") or {}).items()
    ]
    for expression in body.get("matchExpressions") or ():
        operator = operators.get(str(expression.get("operator")))
        if operator is None:
            return None
        values = frozenset(str(value) for value in expression.get("values") or ())
        requirements.append(Requirement(str(expression.get("key")), operator, values))
    return LabelSelector(tuple(requirements))


@dataclasses.dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def aggregate_errors(errors: Sequence[str]) -> str:
    """utilerrors.NewAggregate(errors).Error(): one message, or `[a, b]` without repeats."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


Grant = tuple[str, PolicyRule]  # (source, rule)


@dataclasses.dataclass(frozen=True)
class UnresolvedRole:
    """A binding's role reference that names no role: absent, or of a kind that is neither
    Role nor ClusterRole. The API server words it by where it looked the role up."""

    kind: str
    name: str

    def _unsupported(self) -> str | None:
        if self.kind in ("Role", "ClusterRole"):
            return None
        return f"unsupported role reference kind: {go_quote(self.kind)}"

    def lister_text(self) -> str:
        """As the authorizer reports it: its informers' listers' NotFound (singular kind)."""
        return self._unsupported() or (
            f"{self.kind.lower()}.{RBAC_GROUP} {go_quote(self.name)} not found"
        )

    def registry_text(self) -> str:
        """As the RBAC storage reports it (the escalation checks read roles through the
        registry, pkg/registry/rbac/rest/storage_rbac.go): the store's NotFound, plural."""
        return self._unsupported() or (
            f"{self.kind.lower()}s.{RBAC_GROUP} {go_quote(self.name)} not found"
        )


class RbacPolicy:
    """The roles and bindings of one moment, indexed by subject; immutable once built.

    Rules are resolved per (identity, namespace) on first use and kept, so a request costs a
    walk through that identity's rules only. Build a new policy when RBAC objects change.
    """

    def __init__(
        self,
        roles: Iterable[Mapping[str, Any]],
        cluster_roles: Iterable[Mapping[str, Any]],
        role_bindings: Iterable[Mapping[str, Any]],
        cluster_role_bindings: Iterable[Mapping[str, Any]],
    ) -> None:
        self._roles: dict[tuple[str, str], tuple[PolicyRule, ...]] = {}
        for body in roles:
            meta = body.get("metadata") or {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name", "")))
            self._roles[key] = self._rules_of(body)
        self._cluster_roles = {
            str((body.get("metadata") or {}).get("name", "")): body for body in cluster_roles
        }
        self._cluster_rules: dict[str, tuple[PolicyRule, ...]] = {}
        # Bindings by the subject keys that can select them, in name order per list.
        self._cluster_bindings = self._index(
            sorted((Binding.from_body(b) for b in cluster_role_bindings), key=lambda b: b.name)
        )
        by_namespace: dict[str, list[Binding]] = {}
        for body in role_bindings:
            binding = Binding.from_body(body)
            by_namespace.setdefault(binding.namespace, []).append(binding)
        self._namespace_bindings = {
            namespace: self._index(sorted(bindings, key=lambda b: b.name))
            for namespace, bindings in by_namespace.items()
        }
        self._resolved: dict[tuple[UserInfo, str], tuple[list[Grant], list[UnresolvedRole]]] = {}

    @staticmethod
    def _rules_of(body: Mapping[str, Any]) -> tuple[PolicyRule, ...]:
        return tuple(
            PolicyRule.from_body(rule)
            for rule in body.get("rules") or ()
            if isinstance(rule, Mapping)
        )

    @staticmethod
    def _index(bindings: Sequence[Binding]) -> dict[tuple[str, str], list[tuple[int, Binding]]]:
        index: dict[tuple[str, str], list[tuple[int, Binding]]] = {}
        for position, binding in enumerate(bindings):
            for subject in binding.subjects:
                key = subject.key(binding.namespace)
                if key is not None:
                    entries = index.setdefault(key, [])
                    if not entries or entries[-1][1] is not binding:
                        entries.append((position, binding))
        return index

    def cluster_role_rules(
        self, name: str, _seen: frozenset[str] = frozenset()
    ) -> tuple[PolicyRule, ...]:
        """A ClusterRole's rules; for an aggregated one, the union of the selected roles'."""
        cached = self._cluster_rules.get(name)
        if cached is not None:
            return cached
        body = self._cluster_roles.get(name)
        if body is None:
            return ()
        aggregation = body.get("aggregationRule")
        if not isinstance(aggregation, Mapping):
            rules = self._rules_of(body)
        else:
            # The clusterrole-aggregation controller: roles matching any selector, itself
            # excepted, in name order; each rule once.
            selected: list[str] = []
            for selector_body in aggregation.get("clusterRoleSelectors") or ():
                selector = label_selector(selector_body)
                if selector is None:
                    continue
                for other, other_body in sorted(self._cluster_roles.items()):
                    labels = (other_body.get("metadata") or {}).get("labels")
                    if other != name and other not in selected and selector.matches(labels):
                        selected.append(other)
            union: list[PolicyRule] = []
            for other in sorted(selected):
                if other in _seen:
                    continue
                for rule in self.cluster_role_rules(other, _seen | {name}):
                    if rule not in union:
                        union.append(rule)
            rules = tuple(union)
        if not _seen:
            self._cluster_rules[name] = rules
        return rules

    def role_reference_rules(
        self, kind: str, name: str, namespace: str
    ) -> tuple[tuple[PolicyRule, ...], UnresolvedRole | None]:
        """The rules a role reference of a binding in `namespace` ("" for a ClusterRoleBinding)
        grants, or why it grants none (rule.go GetRoleReferenceRules)."""
        if kind == "ClusterRole":
            if name not in self._cluster_roles:
                return (), UnresolvedRole(kind, name)
            return self.cluster_role_rules(name), None
        if kind == "Role":
            rules = self._roles.get((namespace, name))
            if rules is None:
                return (), UnresolvedRole(kind, name)
            return rules, None
        return (), UnresolvedRole(kind, name)

    @staticmethod
    def _applicable(
        index: Mapping[tuple[str, str], list[tuple[int, Binding]]], user: UserInfo
    ) -> list[Binding]:
        found: dict[int, Binding] = {}
        for key in (("user", user.name), *(("group", group) for group in user.groups)):
            for position, binding in index.get(key, ()):
                found[position] = binding
        return [found[position] for position in sorted(found)]

    def grants(self, user: UserInfo, namespace: str) -> tuple[list[Grant], list[UnresolvedRole]]:
        """Every (source, rule) that applies to `user` in `namespace`, and the role references
        that resolved to nothing (VisitRulesFor)."""
        key = (user, namespace)
        resolved = self._resolved.get(key)
        if resolved is not None:
            return resolved
        grants: list[Grant] = []
        errors: list[UnresolvedRole] = []
        bindings = self._applicable(self._cluster_bindings, user)
        if namespace:
            bindings += self._applicable(self._namespace_bindings.get(namespace, {}), user)
        for binding in bindings:
            subject = binding.first_subject(user)
            if subject is None:
                continue
            rules, error = self.role_reference_rules(
                binding.role_kind, binding.role_name, binding.namespace
            )
            if error is not None:
                errors.append(error)
                continue
            source = binding.describe(subject)
            grants.extend((source, rule) for rule in rules)
        self._resolved[key] = (grants, errors)
        return grants, errors

    def authorize(self, attributes: Attributes) -> Decision:
        """Allowed with the rule's source, or not with the resolution errors (rbac.go)."""
        if PRIVILEGED_GROUP in attributes.user.groups:
            return Decision(True)
        grants, errors = self.grants(attributes.user, attributes.namespace)
        for source, rule in grants:
            if rule_allows(attributes, rule):
                return Decision(True, f"RBAC: allowed by {source}")
        texts = [error.lister_text() for error in errors]
        return Decision(False, f"RBAC: {aggregate_errors(texts)}" if errors else "")

    def rules(self, user: UserInfo, namespace: str) -> Iterator[PolicyRule]:
        """The rules that apply to `user` in `namespace` (for inspection)."""
        for _, rule in self.grants(user, namespace)[0]:
            yield rule


# Denials.

# responsewriters/errors.go: "Avoid emitting errors that look like valid HTML. Quotes are okay."
_SANITIZED = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def forbidden_message(attributes: Attributes) -> str:
    """responsewriters.forbiddenMessage (k8s.io/apiserver v0.32.0):

    if !attributes.IsResourceRequest() {
        return fmt.Sprintf("User %q cannot %s path %q", username, verb, path)
    }
    resource := attributes.GetResource()
    if subresource := attributes.GetSubresource(); len(subresource) > 0 {
        resource = resource + "/" + subresource
    }
    if ns := attributes.GetNamespace(); len(ns) > 0 {
        return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", ...)
    }
    return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", ...)
    """
    user, verb = go_quote(attributes.user.name), attributes.verb
    if not attributes.resource_request:
        return f"User {user} cannot {verb} path {go_quote(attributes.path)}"
    resource = attributes.resource
    if attributes.subresource:
        resource = f"{resource}/{attributes.subresource}"
    head = (
        f"User {user} cannot {verb} resource {go_quote(resource)}"
        f" in API group {go_quote(attributes.api_group)}"
    )
    if attributes.namespace:
        return f"{head} in the namespace {go_quote(attributes.namespace)}"
    return f"{head} at the cluster scope"


def forbidden_error(attributes: Attributes, reason: str = "") -> KubernetesError:
    """The 403 the API server sends (responsewriters.ForbiddenStatusError + NewForbidden):

    message := forbiddenMessage(attributes) [+ ": " + reason]
    gr := GroupResource{Group: attributes.GetAPIGroup(), Resource: attributes.GetResource()}
    apierrors.NewForbidden(gr, attributes.GetName(), message)
        -> "forbidden: MSG" if gr is empty, "RESOURCE[.GROUP] is forbidden: MSG" without a
           name, `RESOURCE[.GROUP] "NAME" is forbidden: MSG` with one;
           details {group, kind: resource, name}, reason Forbidden, code 403.
    """
    message = forbidden_message(attributes).translate(_SANITIZED)
    if reason:
        message = f"{message}: {reason}"
    group, resource, name = attributes.api_group, attributes.resource, attributes.name
    qualified = f"{resource}.{group}" if group else resource
    if not group and not resource:
        text = f"forbidden: {message}"
    elif not name:
        text = f"{qualified} is forbidden: {message}"
    else:
        text = f"{qualified} {go_quote(name)} is forbidden: {message}"
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if resource:
        details["kind"] = resource
    return KubernetesError(status=403, reason="Forbidden", message=text, details=details)
