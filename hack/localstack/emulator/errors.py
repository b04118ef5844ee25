"""Kubernetes API errors as the real apiserver words them (Status bodies); pure builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kmock import KubernetesError


def qualified(plural: str, group: str) -> str:
    """`perftests.perftest.dev`, or just `configmaps` for the core group (as in messages)."""
    return f"{plural}.{group}" if group else plural


def status_body(error: KubernetesError) -> dict[str, Any]:
    """The `Status` object a real apiserver sends for an error."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": error.message or "",
        "reason": error.reason or "",
        "code": error.status,
    }
    if error.details:
        body["details"] = error.details
    return body


def _details(plural: str, group: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": plural}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(plural: str, group: str, name: str) -> KubernetesError:
    return KubernetesError(
        status=404,
        reason="NotFound",
        message=f'{qualified(plural, group)} "{name}" not found',
        details=_details(plural, group, name),
    )


def resource_not_found() -> KubernetesError:
    """The URL names no resource the server knows (an unknown group, version or plural)."""
    return KubernetesError(
        status=404,
        reason="NotFound",
        message="the server could not find the requested resource",
        details={},
    )


def already_exists(plural: str, group: str, name: str) -> KubernetesError:
    return KubernetesError(
        status=409,
        reason="AlreadyExists",
        message=f'{qualified(plural, group)} "{name}" already exists',
        details=_details(plural, group, name),
    )


def conflict(plural: str, group: str, name: str) -> KubernetesError:
    return KubernetesError(
        status=409,
        reason="Conflict",
        message=(
            f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": the object'
            " has been modified; please apply your changes to the latest version and try again"
        ),
        details=_details(plural, group, name),
    )


def invalid(
    kind: str, group: str, name: str, causes: Sequence[tuple[str, str, str]]
) -> KubernetesError:
    """422 Invalid; `causes` are (field, reason, message-without-field) triples."""
    texts = [f"{field}: {message}" if field else message for field, _, message in causes]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    qualified_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "causes": [
            {"reason": reason, "message": message, "field": field}
            for field, reason, message in causes
        ],
    }
    if group:
        details["group"] = group
    return KubernetesError(
        status=422,
        reason="Invalid",
        message=f'{qualified_kind} "{name}" is invalid: {summary}',
        details=details,
    )


def unprocessable(message: str) -> KubernetesError:
    """422 for a patch that cannot be applied (e.g. a failed JSON-patch `test`)."""
    return KubernetesError(
        status=422,
        reason="Invalid",
        message=f"the server rejected our request due to an error in our request: {message}",
        details={},
    )


def bad_request(message: str) -> KubernetesError:
    return KubernetesError(status=400, reason="BadRequest", message=message, details={})


def forbidden(message: str, details: Mapping[str, Any] | None = None) -> KubernetesError:
    return KubernetesError(status=403, reason="Forbidden", message=message, details=details or {})


def method_not_allowed(method: str) -> KubernetesError:
    return KubernetesError(
        status=405,
        reason="MethodNotAllowed",
        message=f"the server does not allow this method on the requested resource ({method})",
        details={},
    )


def unsupported_media_type(content_type: str, problem: str = "") -> KubernetesError:
    hint = f" ({problem})" if problem else ""
    return KubernetesError(
        status=415,
        reason="UnsupportedMediaType",
        message=f"the body of the request was in an unknown format{hint} - accepted media types"
        f" include: application/json, application/json-patch+json,"
        f" application/merge-patch+json, application/apply-patch+yaml (got {content_type!r})",
        details={},
    )


def expired(since: int, oldest: int) -> KubernetesError:
    """410 Gone for a watch that starts before the oldest change the server still remembers."""
    return KubernetesError(
        status=410,
        reason="Expired",
        message=f"too old resource version: {since} ({oldest})",
        details={},
    )
