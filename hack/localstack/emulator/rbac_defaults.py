"""The default ClusterRoles and ClusterRoleBindings the emulator starts with; pure data.

A fresh cluster's API server reconciles these at start (kubernetes/kubernetes
plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go; the RBAC documentation's
"Default roles and role bindings" / "API discovery roles",
https://kubernetes.io/docs/reference/access-authn-authz/rbac/). Only the three that every
authenticated identity holds are stored: they make discovery, OpenAPI, /version and the health
paths readable, and SelfSubjectAccessReviews creatable, for every ServiceAccount, as on a real
cluster (`system:public-info-viewer` is also bound to `system:unauthenticated` there; the
emulator has no anonymous identity: a request without a token is an administrator).

The copy of policy.go read for this (an older commit) grants system:discovery `get` on /healthz,
/version, /version/, /openapi, /openapi/*, /api, /api/*, /apis, /apis/*, and
system:public-info-viewer on /healthz, /version, /version/; /livez and /readyz, which current
releases add to both, are taken from memory of v1.16+ and were not checked against a source.
"""

from __future__ import annotations

from typing import Any

_RBAC_VERSION = "rbac.authorization.k8s.io/v1"
_BOOTSTRAP = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}
_PUBLIC_INFO_URLS = ["/livez", "/readyz", "/healthz", "/version", "/version/"]
_DISCOVERY_URLS = [
    *_PUBLIC_INFO_URLS,
    "/openapi",
    "/openapi/*",
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
]


def _cluster_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": _RBAC_VERSION,
        "kind": "ClusterRole",
        "metadata": {"name": name, **_BOOTSTRAP},
        "rules": rules,
    }


def _binding(name: str, groups: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": _RBAC_VERSION,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, **_BOOTSTRAP},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
            for group in groups
        ],
    }


DEFAULT_CLUSTER_ROLES = (
    _cluster_role("system:discovery", [{"verbs": ["get"], "nonResourceURLs": _DISCOVERY_URLS}]),
    _cluster_role(
        "system:basic-user",
        [
            {
                "verbs": ["create"],
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            }
        ],
    ),
    _cluster_role(
        "system:public-info-viewer", [{"verbs": ["get"], "nonResourceURLs": _PUBLIC_INFO_URLS}]
    ),
)
DEFAULT_CLUSTER_ROLE_BINDINGS = (
    _binding("system:discovery", ["system:authenticated"]),
    _binding("system:basic-user", ["system:authenticated"]),
    _binding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
)
