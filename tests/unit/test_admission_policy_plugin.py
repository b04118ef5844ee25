"""The emulator's ValidatingAdmissionPolicy plugin, by the plugin's rules in kubernetes/apiserver
v0.33.0 (pkg/admission/plugin/policy/validating: validator.go:140-187 for the decision,
dispatcher.go:289-305 and policy_decision.go:73-87 for the refusal)."""

from __future__ import annotations

from typing import Any

from localstack.emulator.admission_policy import AdmissionRequest, Denial, admission_denial

PREFIX = "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: "


def policy(validation: dict[str, Any], **spec: Any) -> dict[str, Any]:
    rules = [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
    ]
    return {
        "metadata": {"name": "p"},
        "spec": {"matchConstraints": {"resourceRules": rules}, "validations": [validation], **spec},
    }


BINDING = {"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}}


def request(resource: str = "pods", operation: str = "CREATE") -> AdmissionRequest:
    pod = {"metadata": {"name": "x", "labels": {"a": "1"}}}
    return AdmissionRequest("alice", operation, "", "v1", resource, "", "ns", "x", pod, None, None)


def test_a_false_validation_refuses_with_its_reason_and_message() -> None:
    found = admission_denial(
        [policy({"expression": "false", "reason": "Forbidden", "message": "no"})],
        [BINDING],
        request(),
    )
    assert found == Denial(403, "Forbidden", PREFIX + "no")


def test_without_reason_or_message_it_is_invalid_and_quotes_the_expression() -> None:
    found = admission_denial([policy({"expression": " 1 == 2 "})], [BINDING], request())
    assert found == Denial(422, "Invalid", PREFIX + "failed expression: 1 == 2")


def test_an_expression_in_error_refuses_under_fail_and_passes_under_ignore() -> None:
    broken = {"expression": "object.metadata.missing == 'x'"}
    found = admission_denial([policy(broken)], [BINDING], request())
    assert found is not None and (found.status, found.reason) == (422, "Invalid")
    assert found.message.startswith(PREFIX)
    assert admission_denial([policy(broken, failurePolicy="Ignore")], [BINDING], request()) is None


def test_only_matching_requests_and_deny_bindings_count() -> None:
    refusing = [policy({"expression": "false"})]
    assert admission_denial(refusing, [BINDING], request(resource="secrets")) is None
    assert admission_denial(refusing, [BINDING], request(operation="DELETE")) is None
    warn = {**BINDING, "spec": {"policyName": "p", "validationActions": ["Warn"]}}
    assert admission_denial(refusing, [warn], request()) is None
    unmatched = [
        policy({"expression": "false"}, matchConditions=[{"name": "m", "expression": "false"}])
    ]
    assert admission_denial(unmatched, [BINDING], request()) is None
    assert (
        admission_denial(
            [policy({"expression": "object.metadata.labels.a == '1'"})], [BINDING], request()
        )
        is None
    )
