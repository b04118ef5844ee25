"""Reading API requests and writing API responses: bodies, options, pages; pure (no I/O)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp.web
import yaml
from multidict import CIMultiDict

from localstack.emulator import protobuf
from localstack.emulator.errors import bad_request, unsupported_media_type
from localstack.emulator.paths import ResourcePath
from localstack.emulator.state import WriteOptions


def json_response(
    body: Any, *, status: int = 200, warnings: Sequence[str] = ()
) -> aiohttp.web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for warning in warnings:
        headers.add("Warning", f"299 - {json.dumps(warning)}")
    return aiohttp.web.json_response(body, status=status, headers=headers)


def decode_body(body: bytes, content_type: str) -> Any:
    """The request's JSON (or, for apply patches, YAML) document; None if there is no body."""
    if not body.strip():
        return None
    try:
        if "yaml" in content_type:
            return yaml.safe_load(body)
        return json.loads(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc


def is_json_or_yaml(content_type: str) -> bool:
    """Whether the body is in a format the emulator reads (not protobuf nor CBOR)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith(("+json", "+yaml"))


def read_body(body: bytes, content_type: str) -> Any:
    """The request's object: JSON, YAML (apply patches), or protobuf from `kubectl create`."""
    if content_type.split(";", 1)[0].strip().lower() == protobuf.MEDIA_TYPE:
        try:
            return protobuf.decode(body)
        except protobuf.ProtobufError as exc:
            raise unsupported_media_type(content_type, str(exc)) from exc
    if body and not is_json_or_yaml(content_type):
        raise unsupported_media_type(content_type)
    return decode_body(body, content_type)


def request_key(
    raw_request: aiohttp.web.BaseRequest, target: ResourcePath | None
) -> tuple[str, str, str]:
    """(client, verb, resource) of a request, for counting: the client is the User-Agent's
    first product (`kopf`, `OpenAPI-Generator`, `kubectl`), the verb the API server's
    (get, list, watch, create, update, patch, delete, deletecollection), the resource its
    plural with the subresource (`perfruns/status`), or `-` for discovery and other paths."""
    agent = raw_request.headers.get("User-Agent", "").split("/", 1)[0].split(" ", 1)[0] or "-"
    method = raw_request.method
    if target is None:
        return agent, method.lower(), "-"
    plural = target.plural + (f"/{target.subresource}" if target.subresource else "")
    if method == "GET":
        if raw_request.query.get("watch") in ("true", "1"):
            verb = "watch"
        else:
            verb = "get" if target.name else "list"
    elif method == "DELETE":
        verb = "delete" if target.name else "deletecollection"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
    return agent, verb, plural


def write_options(params: Mapping[str, str], body: Any) -> WriteOptions:
    options = body if isinstance(body, Mapping) else {}
    dry_run = params.get("dryRun") == "All" or options.get("dryRun") == ["All"]
    field_validation = params.get("fieldValidation") or "Warn"
    if field_validation not in ("Strict", "Warn", "Ignore"):
        raise bad_request(
            f"fieldValidation must be Strict, Warn or Ignore, not {field_validation!r}"
        )
    orphan = params.get("orphanDependents") == "true" or options.get("orphanDependents") is True
    propagation = (
        params.get("propagationPolicy")
        or options.get("propagationPolicy")
        or ("Orphan" if orphan else "Background")
    )
    return WriteOptions(dry_run=dry_run, field_validation=field_validation, propagation=propagation)


def paginate(
    items: list[dict[str, Any]], params: Mapping[str, str], revision: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of a sorted list (`limit`, `continue`) and the list's metadata."""
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}

    def position(item: Mapping[str, Any]) -> list[str]:
        return [item["metadata"].get("namespace") or "", item["metadata"]["name"]]

    start = 0
    if token := params.get("continue"):
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()))
        except ValueError as exc:
            raise bad_request(f"invalid continue token: {exc}") from exc
        start = next((i for i, item in enumerate(items) if position(item) > after), len(items))
    try:
        limit = int(params.get("limit") or 0)
    except ValueError as exc:
        raise bad_request(f"invalid limit: {exc}") from exc
    if limit <= 0 or start + limit >= len(items):
        return items[start:], metadata
    page = items[start : start + limit]
    metadata["continue"] = base64.urlsafe_b64encode(
        json.dumps(position(page[-1])).encode()
    ).decode()
    metadata["remainingItemCount"] = len(items) - start - limit
    return page, metadata
