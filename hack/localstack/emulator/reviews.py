"""SubjectAccessReviews and SelfSubjectAccessReviews (authorization.k8s.io/v1) answered; pure.

The API server answers both with the authorizer that guards its own requests
(kubernetes/kubernetes pkg/registry/authorization/subjectaccessreview/rest.go and
selfsubjectaccessreview/rest.go, pkg/registry/authorization/util/helpers.go
ResourceAttributesFrom / NonResourceAttributesFrom), so the emulator does too:

- a SubjectAccessReview asks about `spec.user` with exactly `spec.groups` (the API server adds
  no group: ask with `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
  `system:authenticated` to get the answer a ServiceAccount's own requests would get);
- a SelfSubjectAccessReview asks about the requester (an administrator is allowed everything);
- `status.allowed` is true, with `status.reason` naming the binding that allows it
  (`RBAC: allowed by ...`), or false; RBAC never denies outright, so `status.denied` stays
  false, and `status.reason` is empty unless a binding's role was missing.

Creating either is itself authorized like any request: `create subjectaccessreviews` in
`authorization.k8s.io` at the cluster scope (administrators only, unless granted), and
`create selfsubjectaccessreviews`, which every authenticated identity holds through
`system:basic-user`. Validation follows pkg/apis/authorization/validation/validation.go.
LocalSubjectAccessReviews and SelfSubjectRulesReviews are not served.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from localstack.emulator.errors import bad_request, invalid
from localstack.emulator.rbac import Attributes, Decision, UserInfo

GROUP = "authorization.k8s.io"


def _invalid_value(value: Any) -> str:
    """field.Invalid's rendering of a bad value: strings quoted, nil as "null"."""
    if value is None:
        return '"null"'
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def _spec(kind: str, body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise bad_request("the body of the request must be a JSON object")
    declared = body.get("kind")
    if declared and declared != kind:
        raise bad_request(
            f"the kind of the object ({declared}) does not match the kind of the URL ({kind})"
        )
    spec = body.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _validate(
    kind: str, body: Mapping[str, Any], spec: Mapping[str, Any], *, self_review: bool
) -> None:
    causes: list[tuple[str, str, str]] = []
    resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if resource is not None and non_resource is not None:
        causes.append(
            (
                "spec.nonResourceAttributes",
                "FieldValueInvalid",
                f"Invalid value: {_invalid_value(non_resource)}: cannot be specified in"
                " combination with resourceAttributes",
            )
        )
    if resource is None and non_resource is None:
        causes.append(
            (
                "spec.resourceAttributes",
                "FieldValueInvalid",
                'Invalid value: "null": exactly one of nonResourceAttributes or'
                " resourceAttributes must be specified",
            )
        )
    if not self_review and not spec.get("user") and not spec.get("groups"):
        causes.append(
            (
                "spec.user",
                "FieldValueInvalid",
                f"Invalid value: {_invalid_value(spec.get('user') or '')}: at least one of user"
                " or group must be specified",
            )
        )
    meta = body.get("metadata")
    if isinstance(meta, Mapping) and any(v for k, v in meta.items() if k != "managedFields"):
        causes.append(("metadata", "FieldValueInvalid", "Invalid value: must be empty"))
    if causes:
        raise invalid(kind, GROUP, "", causes)


def review_subject(body: Any) -> UserInfo:
    """The identity a SubjectAccessReview asks about (validated)."""
    spec = _spec("SubjectAccessReview", body)
    _validate("SubjectAccessReview", body, spec, self_review=False)
    groups = tuple(str(group) for group in spec.get("groups") or ())
    return UserInfo(str(spec.get("user") or ""), groups)


def review_attributes(kind: str, body: Any, user: UserInfo) -> Attributes:
    """What the review asks `user` may do, as the authorizer's attributes."""
    spec = _spec(kind, body)
    _validate(kind, body, spec, self_review=kind == "SelfSubjectAccessReview")
    resource = spec.get("resourceAttributes")
    if isinstance(resource, Mapping):
        return Attributes(
            user=user,
            verb=str(resource.get("verb") or ""),
            resource_request=True,
            api_group=str(resource.get("group") or ""),
            api_version=str(resource.get("version") or "*"),
            resource=str(resource.get("resource") or ""),
            subresource=str(resource.get("subresource") or ""),
            namespace=str(resource.get("namespace") or ""),
            name=str(resource.get("name") or ""),
        )
    non_resource = spec.get("nonResourceAttributes") or {}
    return Attributes(
        user=user,
        verb=str(non_resource.get("verb") or ""),
        resource_request=False,
        path=str(non_resource.get("path") or ""),
    )


def review_response(kind: str, body: Any, decision: Decision) -> dict[str, Any]:
    """The review as the API server sends it back: the spec as asked, and the status."""
    status: dict[str, Any] = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    spec = copy.deepcopy(dict(_spec(kind, body)))
    return {
        "kind": kind,
        "apiVersion": f"{GROUP}/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def is_review(group: str, plural: str) -> str | None:
    """The review kind a resource path creates, if it is one."""
    if group != GROUP:
        return None
    return {
        "subjectaccessreviews": "SubjectAccessReview",
        "selfsubjectaccessreviews": "SelfSubjectAccessReview",
    }.get(plural)
