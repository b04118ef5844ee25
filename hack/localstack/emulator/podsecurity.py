"""The API server's PodSecurity admission plugin on the emulator's writes; pure.

Every write, by any caller (the plugin exempts no user, namespace or runtime class by default),
is admitted as admission/admission.go Validate does, with the namespace's
`pod-security.kubernetes.io/*` labels resolved by `pod_security.namespace_policy`:

- Pods (create, and an update that changes a container image or the set of containers:
  isSignificantPodUpdate; the status and other ignored subresources are not checked): refused
  with 403 Forbidden when they violate the enforce level, with the library's Status (code,
  reason Forbidden, details {name, kind: pods}) and message
  `pods "NAME" is forbidden: violates PodSecurity "restricted:latest": ...`; when admitted, a
  Warning for what the warn level would refuse.
- Pod controllers (Jobs, CronJobs, Deployments, ReplicaSets, StatefulSets, DaemonSets,
  ReplicationControllers, PodTemplates; not their subresources): never refused, only warned
  about at the warn level (`would violate PodSecurity ...`), which follows an explicit enforce
  level when no warn label is set.
- Namespaces (not their subresources): a create, or an update that changes the label errors,
  with a label that does not parse is 422 Invalid; an update that makes enforce stricter warns
  about the namespace's pods that would be refused (EvaluatePodsInNamespace, reasons only,
  grouped per reason with the lexically first pod's name).

Where this differs from a real API server: the audit mode leaves no trace (no audit log), and
EvaluatePodsInNamespace's bounds (3000 pods, one second) are not applied.

Sources: kubernetes/pod-security-admission v0.36.2 (commit
39b45cd167e1bd665aaeefc6e1acc1cc753259f2) admission/admission.go (Validate L213-L224,
ValidateNamespace L229-L311, ignoredPodSubresources L316-L325, ValidatePod L329-L389,
ValidatePodController L393-L450, EvaluatePod L455-L528, EvaluatePodsInNamespace L539-L606,
decoratePodWarnings L609-L623, isSignificantPodUpdate L632-L671) and admission/response.go
(forbiddenResponse L52-L57, invalidResponse L60-L65); kubernetes/kubernetes
plugin/pkg/admission/security/podsecurity/admission.go (03f370be3e5a: Validate returns the
library's Status, message, reason, details and code, as a Forbidden StatusError; it handles
Create and Update).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from localstack.emulator.errors import forbidden, invalid
from localstack.pod_security import (
    POD_SPEC_RESOURCES,
    LevelVersion,
    Policy,
    Violation,
    check_pod,
    forbidden_message,
    format_version,
    go_quote,
    namespace_policy,
    pod_template,
    warning_message,
)

# admission/admission.go L316-L325
IGNORED_POD_SUBRESOURCES = frozenset(
    {"exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"}
)

PodsOf = Callable[[str], Iterable[Mapping[str, Any]]]


def _violations(level: LevelVersion, body: Mapping[str, Any]) -> list[Violation]:
    spec, meta = body.get("spec"), body.get("metadata")
    return check_pod(
        spec if isinstance(spec, Mapping) else {},
        meta if isinstance(meta, Mapping) else {},
        level.level,
        format_version(level.version),
    )


def admit(
    group: str,
    plural: str,
    subresource: str | None,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    namespace_labels: Mapping[str, str] | None,
    pods_of: PodsOf,
) -> tuple[str, ...]:
    """The warnings of an admitted create (old None) or update; raises the refusal.

    `namespace_labels` are the labels of the object's namespace (None for cluster-scoped
    objects); `pods_of(namespace)` lists a namespace's pods, for a namespace update.
    """
    if (group, plural) == ("", "namespaces"):
        return () if subresource else _admit_namespace(new, old, pods_of)
    if (group, plural) == ("", "pods"):
        if subresource in IGNORED_POD_SUBRESOURCES:
            return ()
        if old is not None and not _significant_update(new, old):
            return ()
        return _admit_pod(new, namespace_labels)
    if (group, plural) in POD_SPEC_RESOURCES and not subresource:
        return _admit_pod_controller(group, plural, new, namespace_labels)
    return ()


def _admit_pod(pod: Mapping[str, Any], labels: Mapping[str, str] | None) -> tuple[str, ...]:
    # admission/admission.go L352-L356: nothing to check in a fully privileged namespace
    policy, errors = namespace_policy(labels)
    if not errors and _fully_privileged(policy):
        return ()
    violations = _violations(policy.enforce, pod)
    if violations:
        name = str((pod.get("metadata") or {}).get("name", ""))
        message = forbidden_message("pods", name, policy.enforce, violations)
        details = {"name": name, "kind": "pods"} if name else {"kind": "pods"}
        raise forbidden(message, details)
    # admission/admission.go L508-L524: the warn level, when the pod is admitted
    warned = [] if policy.warn == policy.enforce else _violations(policy.warn, pod)
    return (warning_message(policy.warn, warned),) if warned else ()


def _admit_pod_controller(
    group: str, plural: str, body: Mapping[str, Any], labels: Mapping[str, str] | None
) -> tuple[str, ...]:
    policy, errors = namespace_policy(labels)
    # admission/admission.go L420-L423: only audit and warn apply to controllers
    if not errors and policy.warn.level == "privileged" and policy.audit.level == "privileged":
        return ()
    template = pod_template(group, plural, body)
    if template is None:
        return ()
    warned = _violations(policy.warn, template)
    return (warning_message(policy.warn, warned),) if warned else ()


def _admit_namespace(
    namespace: Mapping[str, Any], old: Mapping[str, Any] | None, pods_of: PodsOf
) -> tuple[str, ...]:
    meta = namespace.get("metadata") or {}
    name = str(meta.get("name", ""))
    policy, errors = namespace_policy(meta.get("labels"))
    old_policy, old_errors = namespace_policy((old or {}).get("metadata", {}).get("labels"))
    # admission/admission.go L248-L252 (create), L276-L279 (update: errors that changed)
    if errors and (old is None or not old_errors or errors != old_errors):
        causes = [(error.field, "FieldValueInvalid", error.body) for error in errors]
        raise invalid("Namespace", "", name, causes)
    if old is None:
        return ()
    # admission/admission.go L281-L295: only a stricter enforce level checks the pods
    new_enforce, old_enforce = policy.enforce, old_policy.enforce
    if new_enforce == old_enforce or new_enforce.level == "privileged":
        return ()
    if new_enforce.version == old_enforce.version and not _stricter(
        new_enforce.level, old_enforce.level
    ):
        return ()
    return _existing_pod_warnings(name, new_enforce, pods_of(name))


def _existing_pod_warnings(
    namespace: str, enforce: LevelVersion, pods: Iterable[Mapping[str, Any]]
) -> tuple[str, ...]:
    # admission/admission.go L539-L623: one warning per distinct list of reasons, named by
    # its lexically first pod and counting the others
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for pod in pods:
        violations = _violations(enforce, pod)
        if not violations:
            continue
        reasons = ", ".join(violation.reason for violation in violations)
        name = str((pod.get("metadata") or {}).get("name", ""))
        first[reasons] = min(first.get(reasons, name), name)
        count[reasons] = count.get(reasons, 0) + 1
    if not first:
        return ()
    decorated = []
    for reasons, name in first.items():
        others = count[reasons] - 1
        if others == 0:
            decorated.append(f"{name}: {reasons}")
        elif others == 1:
            decorated.append(f"{name} (and 1 other pod): {reasons}")
        else:
            decorated.append(f"{name} (and {others} other pods): {reasons}")
    header = (
        f"existing pods in namespace {go_quote(namespace)} violate the new PodSecurity"
        f" enforce level {go_quote(str(enforce))}"
    )
    return (header, *sorted(decorated))


def _fully_privileged(policy: Policy) -> bool:
    modes = (policy.enforce, policy.audit, policy.warn)
    return all(mode.level == "privileged" for mode in modes)


def _stricter(level: str, other: str) -> bool:
    """api/helpers.go CompareLevels(level, other) > 0."""
    order = ("privileged", "baseline", "restricted")
    return order.index(level) > order.index(other)


def _images(containers: Any) -> Sequence[Any]:
    items = containers if isinstance(containers, list) else []
    return [c.get("image") if isinstance(c, Mapping) else None for c in items]


def _significant_update(pod: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """admission/admission.go L632-L671 (isSignificantPodUpdate): a container's image, or the
    number of containers or init containers, changed, or an ephemeral container was added or
    changed its image."""
    spec, old_spec = pod.get("spec") or {}, old.get("spec") or {}
    for field in ("containers", "initContainers"):
        if _images(spec.get(field)) != _images(old_spec.get(field)):
            return True
    old_ephemeral = {
        c.get("name"): c.get("image")
        for c in old_spec.get("ephemeralContainers") or ()
        if isinstance(c, Mapping)
    }
    for container in spec.get("ephemeralContainers") or ():
        if not isinstance(container, Mapping):
            continue
        name = container.get("name")
        if name not in old_ephemeral or old_ephemeral[name] != container.get("image"):
            return True
    return False
