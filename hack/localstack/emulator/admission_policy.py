"""ValidatingAdmissionPolicies on the emulator's writes, evaluated with a CEL interpreter; pure.

The API server's ValidatingAdmissionPolicy plugin (kubernetes.io/docs/reference/access-authn-authz/
validating-admission-policy/) as far as the operator's own policy needs it:

- a binding (``validationActions`` with ``Deny``) names its policy; no ``paramRef``, no
  ``matchResources`` (every namespace and object);
- the policy's ``matchConstraints.resourceRules`` select the request by API group, version,
  resource (``*``, ``*/*``, ``resource/sub``) and operation (CREATE, UPDATE, DELETE, CONNECT);
- every ``matchConditions`` expression must be true for the policy to apply;
- each of ``validations`` must be true; the first false one refuses the request with its
  ``reason`` (Invalid when none) and its ``message`` (``failed expression: <expression>`` when
  none), an expression that cannot be evaluated with its error's text when ``failurePolicy`` is
  Fail (kubernetes/apiserver v0.33.0, commit 9529108a5dff5a998bca0afd61510c9c0e34b2e3,
  pkg/admission/plugin/policy/validating/validator.go:140-187);
- the refusal is ``admission.NewForbidden`` of ``ValidatingAdmissionPolicy '<policy>' with
  binding '<binding>' denied request: <message>``, its reason and code replaced by the
  validation's (Forbidden 403, Unauthorized 401, RequestEntityTooLarge 413, else Invalid 422)
  and the message added as a cause (validating/dispatcher.go:289-305, policy_decision.go:73-87):
  ``<resource> "<name>" is forbidden: ValidatingAdmissionPolicy ...`` (pkg/admission/errors.go:
  53-62, apimachinery's NewForbidden).

The variables are the documented ones: ``object`` and ``oldObject`` (null on CREATE and DELETE
respectively), ``request`` (``userInfo.username``, ``operation``, ``resource``, ``subResource``,
``namespace``, ``name``), ``namespaceObject`` (null for cluster-scoped resources). CEL runs in
cel-python (``celpy``, through `cel`): standard CEL, without Kubernetes' extension libraries
(the operator's policy uses none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localstack.emulator.cel import CEL_ERRORS, evaluate_bool, to_cel

ADMISSION_GROUP = "admissionregistration.k8s.io"
DEFAULT_REASON = "Invalid"
STATUS_OF_REASON = {
    "Invalid": 422,
    "Forbidden": 403,
    "Unauthorized": 401,
    "RequestEntityTooLarge": 413,
}


@dataclass(frozen=True)
class AdmissionRequest:
    """What a policy sees of one write."""

    username: str
    operation: str  # CREATE | UPDATE | DELETE | CONNECT
    group: str
    version: str
    resource: str
    subresource: str
    namespace: str
    name: str
    obj: Mapping[str, Any] | None
    old: Mapping[str, Any] | None
    namespace_object: Mapping[str, Any] | None


@dataclass(frozen=True)
class Denial:
    """A refusal: the Status's code and reason, and the plugin's message (before the API server
    prefixes ``<resource> "<name>" is forbidden: ``)."""

    status: int
    reason: str
    message: str


def _matches(values: Sequence[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def _rule_matches(rule: Mapping[str, Any], request: AdmissionRequest) -> bool:
    resources = rule.get("resources") or []
    if request.subresource:
        path = f"{request.resource}/{request.subresource}"
        resource_ok = any(
            r in ("*/*", path, f"{request.resource}/*", f"*/{request.subresource}")
            for r in resources
        )
    else:
        resource_ok = any(r in ("*", request.resource) for r in resources)
    return (
        resource_ok
        and _matches(rule.get("apiGroups") or [], request.group)
        and _matches(rule.get("apiVersions") or [], request.version)
        and _matches(rule.get("operations") or [], request.operation)
    )


def _activation(request: AdmissionRequest) -> dict[str, Any]:
    variables = {
        "object": request.obj,
        "oldObject": request.old,
        "namespaceObject": request.namespace_object,
        "request": {
            "userInfo": {"username": request.username},
            "operation": request.operation,
            "resource": {
                "group": request.group,
                "version": request.version,
                "resource": request.resource,
            },
            "subResource": request.subresource,
            "namespace": request.namespace,
            "name": request.name,
        },
    }
    return {name: to_cel(value) for name, value in variables.items()}


def admission_denial(
    policies: Sequence[Mapping[str, Any]],
    bindings: Sequence[Mapping[str, Any]],
    request: AdmissionRequest,
) -> Denial | None:
    """Why the bound policies refuse ``request``, or None when they let it through."""
    by_name = {str(p["metadata"]["name"]): p for p in policies}
    activation: dict[str, Any] | None = None
    for binding in bindings:
        spec = binding.get("spec") or {}
        if "Deny" not in (spec.get("validationActions") or []):
            continue
        policy = by_name.get(str(spec.get("policyName")))
        if policy is None:
            continue
        policy_spec = policy.get("spec") or {}
        rules = (policy_spec.get("matchConstraints") or {}).get("resourceRules") or []
        if not any(_rule_matches(rule, request) for rule in rules):
            continue
        activation = activation or _activation(request)
        prefix = (
            f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding "
            f"'{binding['metadata']['name']}' denied request: "
        )
        fail = policy_spec.get("failurePolicy", "Fail") == "Fail"
        try:
            applies = all(
                evaluate_bool(str(c["expression"]), activation)
                for c in policy_spec.get("matchConditions") or []
            )
            if not applies:
                continue
            for validation in policy_spec.get("validations") or []:
                if not evaluate_bool(str(validation["expression"]), activation):
                    reason = str(validation.get("reason") or DEFAULT_REASON)
                    message = str(
                        validation.get("message")
                        or f"failed expression: {str(validation['expression']).strip()}"
                    )
                    return Denial(STATUS_OF_REASON.get(reason, 422), reason, prefix + message)
        except CEL_ERRORS as exc:
            if fail:
                return Denial(422, DEFAULT_REASON, prefix + str(exc))
    return None
