"""A minimal OpenAPI v3 description of the served resources, for kubectl; pure.

kubectl (client-go's QueryParamVerifierV3) reads `/openapi/v3` to learn whether the server
validates fields itself: if the PATCH operation of a resource takes the `fieldValidation`
query parameter, `kubectl apply` sends `fieldValidation=Strict` and skips client-side
validation (which would need the full `/openapi/v2` document). CRD schemas are included as
components, tagged with their group/version/kind, so `kubectl explain` can show them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from localstack.emulator.resources import ServedResource

_QUERY_PARAMETERS = ("fieldValidation", "dryRun", "fieldManager")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _component_name(served: ServedResource) -> str:
    reversed_group = (
        ".".join(reversed(served.group.split("."))) if served.group else "io.k8s.api.core"
    )
    return f"{reversed_group}.{served.version}.{served.kind}"


def _gvk(served: ServedResource) -> dict[str, str]:
    return {"group": served.group, "version": served.version, "kind": served.kind}


def _operation(served: ServedResource, action: str) -> dict[str, Any]:
    return {
        "operationId": f"{action}{served.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(served),
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for name in _QUERY_PARAMETERS
        ],
        "responses": {"200": {"description": "OK"}},
    }


def _item_paths(served: ServedResource) -> dict[str, Any]:
    prefix = "/" + _gv_path(served.group, served.version)
    scope = "/namespaces/{namespace}" if served.namespaced else ""
    item = f"{prefix}{scope}/{served.plural}/{{name}}"
    operations = {
        "get": _operation(served, "get"),
        "put": _operation(served, "put"),
        "patch": _operation(served, "patch"),
    }
    paths = {item: operations}
    for subresource in served.subresources:
        paths[f"{item}/{subresource}"] = operations
    return paths


def _component(served: ServedResource) -> dict[str, Any]:
    schema: dict[str, Any] = dict(served.schema.schema) if served.schema else {"type": "object"}
    schema["x-kubernetes-group-version-kind"] = [_gvk(served)]
    return schema


def group_version_document(
    group: str, version: str, served: Iterable[ServedResource]
) -> dict[str, Any]:
    """The OpenAPI v3 document of one group/version (`/openapi/v3/apis/{group}/{version}`)."""
    members = [s for s in served if s.group == group and s.version == version]
    paths: dict[str, Any] = {}
    for member in members:
        paths.update(_item_paths(member))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {
            "schemas": {_component_name(member): _component(member) for member in members}
        },
    }


def _digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()


def index_document(served: Iterable[ServedResource]) -> dict[str, Any]:
    """`/openapi/v3`: every group/version with a URL whose hash changes with the content."""
    resources = list(served)
    group_versions = dict.fromkeys((s.group, s.version) for s in resources)
    paths = {}
    for group, version in group_versions:
        digest = _digest(group_version_document(group, version, resources))
        path = _gv_path(group, version)
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
