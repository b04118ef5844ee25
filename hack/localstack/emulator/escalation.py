"""The API server's RBAC privilege-escalation prevention on writes of roles and bindings; pure.

The API server stores Roles, ClusterRoles, RoleBindings and ClusterRoleBindings behind
"policy-based" storages that refuse a write which would grant more than its author holds. The
emulator does the same for the identities it authorizes by RBAC (tokens it minted; every other
caller is an administrator and never gets here, as a `system:masters` member never does on a
real cluster: EscalationAllowed). Authorization of the request itself (`create roles`, ...)
comes first and is not repeated here.

- Roles and ClusterRoles (create, update, patch, apply): allowed when the identity may
  `escalate` the resource (RoleEscalationAuthorized: verb `escalate`, API version `*`, the
  request's namespace and name; a create names no object, so an `escalate` restricted by
  resourceNames lifts nothing there), or when every rule of the object is covered by the rules
  the identity holds in the request's namespace (ConfirmNoEscalation with RulesFor: a Role's
  namespace's RoleBindings and all ClusterRoleBindings; for a ClusterRole, ClusterRoleBindings
  only). A ClusterRole with an aggregationRule (written, or being replaced) also needs `*` on
  everything.
- RoleBindings and ClusterRoleBindings: allowed when the identity may `bind` the role it
  references (BindingAuthorized: verb `bind` on `roles` or `clusterroles` named roleRef.name, in
  roleRef.apiGroup, in the binding's namespace or cluster-wide), or when it holds every rule of
  that role in the binding's namespace. The role is read first: an absent one is 404 NotFound.
- An update that changes only owner references, finalizers and selfLink is not checked
  (IsOnlyMutatingGCFields).
- Coverage (component-helpers Covers): each rule is broken down into one verb x group x
  resource (x resource name) pieces, or URL x verb, and each piece must be covered by one held
  rule: verbs, groups and resources by `*` or by name, a `res/sub` also by `*/sub`; a piece
  without resource names only by a rule without them; URLs exactly or by a trailing `*`.
- Refusal: 403 Forbidden, `apierrors.NewForbidden(<resource>.rbac.authorization.k8s.io, name,
  err)`, where err lists the uncovered pieces, merged per group/resource/name (CompactRules),
  each in CompactString's form, sorted and unique:

      roles.rbac.authorization.k8s.io "NAME" is forbidden: user "U" (groups=["G1" "G2"]) is
      attempting to grant RBAC permissions not currently held:
      {APIGroups:[""], Resources:["pods"], Verbs:["get"]}

  followed by `; resolution errors: [...]` when a role bound to the identity is absent.

Where this differs from a real API server: the check runs where the emulator's write path
allows (after the namespace exists, before validation and the resourceVersion check, as in the
registry); managedFields, which the emulator does not keep, are not compared for
IsOnlyMutatingGCFields.

Sources (read here; the kubernetes/kubernetes repository is too large to fetch, so each file is
the one stored version the search index holds, named by its commit):
kubernetes/kubernetes pkg/registry/rbac/role/policybased/storage.go (aed80471ab6f),
pkg/registry/rbac/clusterrole/policybased/storage.go (f57072c8cd5e),
pkg/registry/rbac/rolebinding/policybased/storage.go (the version with StorageVersion and
BindingAuthorized in Create and Update), pkg/registry/rbac/escalation_check.go (the version
with RoleEscalationAuthorized), pkg/registry/rbac/helpers.go (135f88469513,
IsOnlyMutatingGCFields), pkg/registry/rbac/validation/rule.go (2821f1617e3c,
ConfirmNoEscalation, GetRoleReferenceRules), pkg/registry/rbac/validation/policy_compact.go
(the version whose simple rules hold at most one resource name; its test 2cf80cd7fad2),
pkg/registry/rbac/rest/storage_rbac.go (d4858aa6f356, the registry-backed rule resolver),
pkg/apis/rbac/v1/defaults.go (7c30c06e721d, roleRef.apiGroup defaulted),
pkg/apis/rbac/v1/evaluation_helpers.go (CompactString); k8s.io/component-helpers v0.32.0
(a44681c9856e) auth/rbac/validation/policy_comparator.go (Covers, BreakdownRule); k8s.io/
apimachinery v0.32.0 pkg/api/errors/errors.go (NewForbidden), pkg/util/errors/errors.go
(Aggregate); k8s.io/apiserver v0.32.0 pkg/endpoints/handlers/responsewriters/status.go
(ErrorToAPIStatus: a plain error is a 500 with an empty reason). The RBAC documentation,
https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kmock import KubernetesError

from localstack.emulator.errors import forbidden, not_found
from localstack.emulator.rbac import (
    ALL,
    PRIVILEGED_GROUP,
    RBAC_GROUP,
    Attributes,
    PolicyRule,
    RbacPolicy,
    UnresolvedRole,
    UserInfo,
    aggregate_errors,
    go_quote,
)

ROLE_RESOURCES = frozenset({"roles", "clusterroles"})
BINDING_RESOURCES = frozenset({"rolebindings", "clusterrolebindings"})
# The resource a roleRef's kind names (BindingAuthorized).
_REFERENCED = {"Role": "roles", "ClusterRole": "clusterroles"}
# clusterrole/policybased/storage.go: an aggregationRule can gather anything.
FULL_AUTHORITY = (
    PolicyRule(verbs=(ALL,), api_groups=(ALL,), resources=(ALL,)),
    PolicyRule(verbs=(ALL,), non_resource_urls=(ALL,)),
)
AGGREGATION_REFUSED = "must have cluster-admin privileges to use the aggregationRule"
# helpers.go IsOnlyMutatingGCFields: what the garbage collector changes.
_GC_FIELDS = ("ownerReferences", "finalizers", "selfLink")


# Coverage (component-helpers auth/rbac/validation/policy_comparator.go).


def breakdown_rule(rule: PolicyRule) -> list[PolicyRule]:
    """BreakdownRule: one piece per group x resource x verb (x resource name), then per URL x
    verb; a purely computational function with no side effects."""
    pieces: list[PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    pieces.extend(
                        PolicyRule((verb,), (group,), (resource,), (name,))
                        for name in rule.resource_names
                    )
                else:
                    pieces.append(PolicyRule((verb,), (group,), (resource,)))
    for url in rule.non_resource_urls:
        pieces.extend(PolicyRule((verb,), non_resource_urls=(url,)) for verb in rule.verbs)
    return pieces


def _has_all(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    return set(wanted) <= set(owned)


def _resources_cover(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    if ALL in owned or _has_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        _, slash, subresource = path.partition("/")
        if not slash or f"*/{subresource}" not in owned:
            return False
    return True


def _url_covers(owned: str, path: str) -> bool:
    return owned == path or (owned.endswith("*") and path.startswith(owned.rstrip("*")))


def rule_covers(owner: PolicyRule, piece: PolicyRule) -> bool:
    """ruleCovers: whether `owner` allows everything `piece` (one verb, resource and name, or
    one URL) allows."""
    verbs = ALL in owner.verbs or _has_all(owner.verbs, piece.verbs)
    groups = ALL in owner.api_groups or _has_all(owner.api_groups, piece.api_groups)
    resources = _resources_cover(owner.resources, piece.resources)
    urls = all(
        any(_url_covers(owned, path) for owned in owner.non_resource_urls)
        for path in piece.non_resource_urls
    )
    if piece.resource_names:
        names = not owner.resource_names or _has_all(owner.resource_names, piece.resource_names)
    else:
        names = not owner.resource_names
    return verbs and groups and resources and names and urls


def covers(
    owner_rules: Sequence[PolicyRule], servant_rules: Iterable[PolicyRule]
) -> tuple[bool, list[PolicyRule]]:
    """Covers: whether `owner_rules` allow all that `servant_rules` allow, and the pieces they
    do not; a purely computational function with no side effects."""
    uncovered = [
        piece
        for servant in servant_rules
        for piece in breakdown_rule(servant)
        if not any(rule_covers(owner, piece) for owner in owner_rules)
    ]
    return not uncovered, uncovered


# The refusal's words.


def compact_rules(rules: Iterable[PolicyRule]) -> list[PolicyRule]:
    """CompactRules: rules of one group, one resource and at most one resource name, and
    nothing else, merged into one rule per (group, resource, name) with their verbs in order;
    the others as they are, first."""
    compacted: list[PolicyRule] = []
    simple: dict[tuple[str, str, tuple[str, ...]], PolicyRule] = {}
    for rule in rules:
        is_simple = (
            len(rule.resource_names) <= 1
            and not rule.non_resource_urls
            and len(rule.api_groups) == 1
            and len(rule.resources) == 1
        )
        if not is_simple:
            compacted.append(rule)
            continue
        key = (rule.api_groups[0], rule.resources[0], rule.resource_names)
        merged = simple.get(key)
        simple[key] = (
            rule if merged is None else dataclasses.replace(merged, verbs=merged.verbs + rule.verbs)
        )
    return compacted + list(simple.values())


def _go_strings(values: Sequence[str]) -> str:
    """Go's %q of a []string: `["a" "b"]`."""
    return "[" + " ".join(go_quote(value) for value in values) + "]"


def compact_string(rule: PolicyRule) -> str:
    """CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`, non-empty fields."""
    fields = (
        ("APIGroups", rule.api_groups),
        ("Resources", rule.resources),
        ("NonResourceURLs", rule.non_resource_urls),
        ("ResourceNames", rule.resource_names),
        ("Verbs", rule.verbs),
    )
    return "{" + ", ".join(f"{name}:{_go_strings(v)}" for name, v in fields if v) + "}"


def escalation_message(
    user: UserInfo, missing: Iterable[PolicyRule], resolution_errors: Sequence[str] = ()
) -> str:
    """ConfirmNoEscalation's error: who, and what it does not hold (sorted, unique)."""
    held_not = sorted({compact_string(rule) for rule in compact_rules(missing)})
    message = (
        f"user {go_quote(user.name)} (groups={_go_strings(user.groups)}) is attempting to grant"
        " RBAC permissions not currently held:\n" + "\n".join(held_not)
    )
    if resolution_errors:
        # fmt %v of a []error holding RulesFor's one Aggregate.
        message += f"; resolution errors: [{aggregate_errors(resolution_errors)}]"
    return message


def escalation_forbidden(resource: str, name: str, message: str) -> KubernetesError:
    """apierrors.NewForbidden(rbac.Resource(resource), name, err)."""
    qualified = f"{resource}.{RBAC_GROUP}"
    head = f"{qualified} {go_quote(name)}" if name else qualified
    details: dict[str, Any] = {"name": name} if name else {}
    details.update(group=RBAC_GROUP, kind=resource)
    return forbidden(f"{head} is forbidden: {message}", details)


def unresolved_error(role: UnresolvedRole) -> KubernetesError:
    """GetRoleReferenceRules's error as the binding's write answers it: the store's 404, or
    a plain error (500, empty reason) for a kind that is neither Role nor ClusterRole."""
    plural = _REFERENCED.get(role.kind)
    if plural is not None:
        return not_found(plural, RBAC_GROUP, role.name)
    return KubernetesError(status=500, reason="", message=role.registry_text(), details={})


# The checks.


def confirm_no_escalation(
    policy: RbacPolicy, user: UserInfo, namespace: str, rules: Sequence[PolicyRule]
) -> str | None:
    """ConfirmNoEscalation: None when `user` holds all of `rules` in `namespace`, else the
    error's message."""
    grants, unresolved = policy.grants(user, namespace)
    held, missing = covers([rule for _, rule in grants], rules)
    if held:
        return None
    return escalation_message(user, missing, [role.registry_text() for role in unresolved])


def _rules_of(body: Mapping[str, Any]) -> tuple[PolicyRule, ...]:
    rules = body.get("rules")
    if not isinstance(rules, list):
        return ()
    return tuple(PolicyRule.from_body(rule) for rule in rules if isinstance(rule, Mapping))


def _name_of(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata")
    return str(meta.get("name") or "") if isinstance(meta, Mapping) else ""


def _has_aggregation_rule(body: Mapping[str, Any] | None) -> bool:
    rule = body.get("aggregationRule") if body is not None else None
    return isinstance(rule, Mapping) and bool(rule.get("clusterRoleSelectors"))


def _without_zero_values(value: Any) -> Any:
    """Go's view of a decoded object: absent, null, "" and empty lists and maps are alike
    (equality.Semantic treats nil and empty slices and maps as equal)."""
    if isinstance(value, Mapping):
        kept = {key: _without_zero_values(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_without_zero_values(item) for item in value]
    return value


def only_gc_fields_change(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """IsOnlyMutatingGCFields: `new` is `old` once its owner references, finalizers and
    selfLink are taken from `old` (TypeMeta and managedFields left out: see the module doc)."""

    def comparable(body: Mapping[str, Any], gc_from: Mapping[str, Any]) -> Any:
        meta = dict(body.get("metadata") or {})
        source = gc_from.get("metadata") or {}
        for field in (*_GC_FIELDS, "managedFields"):
            meta.pop(field, None)
            if field in source and field != "managedFields":
                meta[field] = source[field]
        rest = {key: item for key, item in body.items() if key not in ("apiVersion", "kind")}
        return _without_zero_values({**rest, "metadata": meta})

    return bool(comparable(new, old) == comparable(old, old))


def check_write(
    policy: RbacPolicy,
    request: Attributes,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None,
) -> None:
    """Raise what the API server answers a write of an RBAC object that would escalate: the
    request's attributes (already authorized), the object it would store (as sent or patched,
    before validation) and the one it replaces (None for a create)."""
    if request.api_group != RBAC_GROUP or PRIVILEGED_GROUP in request.user.groups:
        return
    if request.resource in ROLE_RESOURCES:
        _check_role(policy, request, new, old)
    elif request.resource in BINDING_RESOURCES:
        _check_binding(policy, request, new, old)


def _check_role(
    policy: RbacPolicy,
    request: Attributes,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None,
) -> None:
    escalate = dataclasses.replace(request, verb="escalate", api_version="*", subresource="")
    if policy.authorize(escalate).allowed:
        return
    if old is not None and only_gc_fields_change(new, old):
        return
    name = _name_of(new)
    message = confirm_no_escalation(policy, request.user, request.namespace, _rules_of(new))
    if message is not None:
        raise escalation_forbidden(request.resource, name, message)
    aggregating = _has_aggregation_rule(new) or _has_aggregation_rule(old)
    if request.resource != "clusterroles" or not aggregating:
        return
    if confirm_no_escalation(policy, request.user, request.namespace, FULL_AUTHORITY):
        raise escalation_forbidden(request.resource, name, AGGREGATION_REFUSED)


def _check_binding(
    policy: RbacPolicy,
    request: Attributes,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None,
) -> None:
    if old is not None and only_gc_fields_change(new, old):
        return
    ref = new.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    kind, role = str(ref.get("kind") or ""), str(ref.get("name") or "")
    # Decoding defaults an empty apiGroup before the storage sees it (defaults.go).
    group = str(ref.get("apiGroup") or RBAC_GROUP)
    referenced = _REFERENCED.get(kind)
    if referenced is not None:
        bind = Attributes(
            user=request.user,
            verb="bind",
            resource_request=True,
            api_group=group,
            api_version="*",
            resource=referenced,
            namespace=request.namespace,
            name=role,
        )
        if policy.authorize(bind).allowed:
            return
    rules, unresolved = policy.role_reference_rules(kind, role, request.namespace)
    if unresolved is not None:
        raise unresolved_error(unresolved)
    message = confirm_no_escalation(policy, request.user, request.namespace, rules)
    if message is not None:
        raise escalation_forbidden(request.resource, _name_of(new), message)
