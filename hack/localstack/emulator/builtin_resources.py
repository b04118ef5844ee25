"""The built-in resources the emulator serves, and the two shapes of an Event; pure data.

Core `v1` Events and `events.k8s.io/v1` Events are one stored object seen through two API
versions, as on a real cluster: an event posted through either shows in `kubectl get events`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from localstack.emulator.tables import (
    DEFAULT_COLUMNS,
    EVENT_COLUMNS,
    JOB_COLUMNS,
    NAMESPACE_COLUMNS,
    POD_COLUMNS,
    Column,
)

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")
# Namespaces that exist from the start, as on a fresh cluster.
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclasses.dataclass(frozen=True)
class BuiltinResource:
    """Discovery information of one built-in resource."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    columns: tuple[Column, ...] = DEFAULT_COLUMNS
    verbs: tuple[str, ...] = STANDARD_VERBS

    @property
    def singular(self) -> str:
        return self.kind.lower()


BUILTIN_RESOURCES = (
    BuiltinResource(
        "", "v1", "namespaces", "Namespace", False, ("ns",), ("status",), columns=NAMESPACE_COLUMNS
    ),
    BuiltinResource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    BuiltinResource("", "v1", "secrets", "Secret", True),
    BuiltinResource("", "v1", "events", "Event", True, ("ev",), columns=EVENT_COLUMNS),
    BuiltinResource("", "v1", "pods", "Pod", True, ("po",), ("status",), ("all",), POD_COLUMNS),
    BuiltinResource("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    # serviceaccounts/token: TokenRequest (POST only), answered with a minted token.
    BuiltinResource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), ("token",)),
    BuiltinResource("", "v1", "services", "Service", True, ("svc",), ("status",), ("all",)),
    BuiltinResource("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    BuiltinResource(
        "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)
    ),
    BuiltinResource(
        "apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status",), ("all",)
    ),
    BuiltinResource("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",), ("all",)),
    BuiltinResource("batch", "v1", "jobs", "Job", True, (), ("status",), ("all",), JOB_COLUMNS),
    BuiltinResource(
        "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)
    ),
    BuiltinResource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    BuiltinResource("events.k8s.io", "v1", "events", "Event", True, ("ev",), columns=EVENT_COLUMNS),
    BuiltinResource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        ("status",),
        ("api-extensions",),
    ),
    BuiltinResource("coordination.k8s.io", "v1", "leases", "Lease", True),
    BuiltinResource("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    BuiltinResource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    BuiltinResource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    BuiltinResource(
        "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False
    ),
    # Stored and served, not evaluated: the emulator runs no CEL (the policy's expressions are
    # tested with a CEL interpreter in tests/unit/test_confinement.py).
    BuiltinResource(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        False,
        subresources=("status",),
        categories=("api-extensions",),
    ),
    BuiltinResource(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        False,
        categories=("api-extensions",),
    ),
    # Reviews are answered, never stored (see `reviews`).
    BuiltinResource(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        False,
        verbs=("create",),
    ),
    BuiltinResource(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
    ),
)

# events.k8s.io/v1 field -> core v1 field (the rest have the same name in both).
_EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_CORE_EVENT_FIELDS = {core: new for new, core in _EVENT_FIELDS.items()}


def event_to_core(event: Mapping[str, Any]) -> dict[str, Any]:
    """An events.k8s.io/v1 Event as the core v1 Event it is stored as."""
    core = {_EVENT_FIELDS.get(key, key): value for key, value in event.items()}
    core.update(apiVersion="v1", kind="Event")
    return core


def event_from_core(event: Mapping[str, Any]) -> dict[str, Any]:
    """A stored core v1 Event as events.k8s.io/v1 shows it."""
    converted = {_CORE_EVENT_FIELDS.get(key, key): value for key, value in event.items()}
    converted.update(apiVersion="events.k8s.io/v1", kind="Event")
    return converted


def event_field_label(label: str) -> str:
    """An events.k8s.io/v1 field-selector label as the stored core Event's field."""
    head, _, rest = label.partition(".")
    core = _EVENT_FIELDS.get(head, head)
    return f"{core}.{rest}" if rest else core
