"""Parses Kubernetes API object URLs into group/version/plural/namespace/name; pure."""

from __future__ import annotations

import dataclasses

# Subresources of namespaces, which would otherwise read as `namespaces/{ns}/{plural}`.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclasses.dataclass(frozen=True)
class ResourcePath:
    """Where a request points: a resource's collection, an object, or an object's subresource."""

    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_resource_path(path: str) -> ResourcePath | None:
    """The object address in an API path; None for discovery and non-API paths.

    `/api/v1/namespaces/x` is the namespace `x`, not the namespace-scoped collection `x`;
    `/api/v1/namespaces/x/configmaps/y` is the configmap `y` in the namespace `x`.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None

    namespace: str | None = None
    namespaced_path = len(rest) >= 4 or (len(rest) == 3 and rest[2] not in _NAMESPACE_SUBRESOURCES)
    if rest[0] == "namespaces" and namespaced_path:
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    subresource = "/".join(rest[2:]) or None
    return ResourcePath(group, version, plural, namespace, name, subresource)
