"""The ``x-kubernetes-validations`` rules of a CRD's schema, checked on every write; pure.

As kubernetes/apiextensions-apiserver v0.33.0 (commit 1b7ab0f38c5b874936fb6cea84d68632bdd5ee44)
does it, in pkg/apiserver/schema/cel/validation.go (Validator.validate, validateExpressions,
validateMap, validateArray, fieldErrorForReason, ruleMessageOrDefault, ruleErrorString) and
pkg/registry/customresource/strategy.go (Validate, ValidateUpdate, hasBlockingErr):

- each rule sees ``self``, the value of the schema node it is declared on; rules on a null or
  absent value are not evaluated;
- a transition rule (one naming ``oldSelf``) runs only on an update where the node has an old
  value: properties of objects correlate by name, items of ``x-kubernetes-list-type: map``
  lists by their keys, items of other lists never (``optionalOldSelf`` rules likewise only
  with an old value: cel-python has no optional types);
- a rule that is not true refuses the write with ``<path>: Invalid value: "<schema type>":
  <message>`` (``failed rule: <rule>`` without a message; ``reason`` FieldValueForbidden,
  FieldValueRequired or FieldValueDuplicate word it as those errors do); a rule that cannot be
  evaluated with ``<error> evaluating rule: <message or rule>``;
- on an update, a failing rule without ``oldSelf`` on a value that did not change (or whose
  nearest correlated ancestor did not) is a warning, not an error (validation ratcheting,
  pkg/cel/common/equality.go of kubernetes/apiserver v0.33.0);
- the rules are skipped when the schema check already found a blocking error (unsupported
  value, required, too long, too many, wrong type), which is reported as
  ``<nil>: Invalid value: "null": some validation rules were not checked because the object was
  invalid; correct the existing errors to complete validation``.

Not modelled: the cost budget, rules under ``allOf``, the root's ``self`` restricted to
``apiVersion``, ``kind``, ``metadata.name`` and ``generateName`` (here it is the whole object).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from localstack.emulator.cel import CEL_ERRORS, error_text, evaluate_bool, evaluate_string, to_cel
from localstack.emulator.schema import FieldError

# Schema-check errors after which the API server does not evaluate the rules (hasBlockingErr).
BLOCKING_REASONS = frozenset(
    {
        "FieldValueNotSupported",
        "FieldValueRequired",
        "FieldValueTooLong",
        "FieldValueTooMany",
        "FieldValueTypeInvalid",
    }
)
NOT_CHECKED = FieldError(
    "<nil>",
    "FieldValueInvalid",
    'Invalid value: "null": some validation rules were not checked because the object was'
    " invalid; correct the existing errors to complete validation",
)
_OLD_SELF = re.compile(r"\boldSelf\b")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One entry of ``x-kubernetes-validations``."""

    rule: str
    message: str
    message_expression: str
    reason: str
    field_path: str
    uses_old_self: bool

    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> Rule:
        rule = str(entry.get("rule") or "")
        return cls(
            rule=rule,
            message=str(entry.get("message") or "").strip(),
            message_expression=str(entry.get("messageExpression") or ""),
            reason=str(entry.get("reason") or ""),
            field_path=str(entry.get("fieldPath") or ""),
            uses_old_self=bool(_OLD_SELF.search(rule)),
        )

    def error_string(self) -> str:
        """ruleErrorString: the message, else the rule."""
        return self.message or self.rule.strip()


@dataclasses.dataclass(frozen=True)
class RuleNode:
    """A schema node that has rules, or has descendants that do (others are left out)."""

    type: str
    rules: tuple[Rule, ...]
    properties: Mapping[str, RuleNode]
    additional: RuleNode | None
    items: RuleNode | None
    map_keys: tuple[str, ...]  # of an x-kubernetes-list-type: map list
    atomic_map: bool


def compile_rules(schema: Mapping[str, Any]) -> RuleNode | None:
    """The rules of an ``openAPIV3Schema``, or None when it declares none (the common case)."""
    rules = tuple(Rule.parse(entry) for entry in schema.get("x-kubernetes-validations") or ())
    properties = {
        name: node
        for name, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, Mapping) and (node := compile_rules(sub)) is not None
    }
    additional_schema = schema.get("additionalProperties")
    additional = (
        compile_rules(additional_schema) if isinstance(additional_schema, Mapping) else None
    )
    items_schema = schema.get("items")
    items = compile_rules(items_schema) if isinstance(items_schema, Mapping) else None
    if not rules and not properties and additional is None and items is None:
        return None
    map_list = schema.get("x-kubernetes-list-type") == "map"
    return RuleNode(
        type=str(schema.get("type") or ""),
        rules=rules,
        properties=properties,
        additional=additional,
        items=items,
        map_keys=tuple(schema.get("x-kubernetes-list-map-keys") or ()) if map_list else (),
        atomic_map=schema.get("x-kubernetes-map-type") == "atomic",
    )


@dataclasses.dataclass(frozen=True)
class _Correlation:
    """Validation ratcheting: the node's own (new, old) pair when it correlates with an old
    value, else the nearest ancestor's that does; nothing on a create."""

    current: tuple[Any, Any] | None = None
    nearest: tuple[Any, Any] | None = None

    def child(self, value: Any, old: Any) -> _Correlation:
        if self.current is None:
            return self
        return _Correlation(None if old is None else (value, old), self.current)

    def unchanged(self) -> bool:
        pair = self.current if self.current is not None else self.nearest
        return pair is not None and pair[0] == pair[1]


@dataclasses.dataclass
class RuleResult:
    """What the rules found: errors refuse the write, warnings (ratcheted errors) do not."""

    errors: list[FieldError] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


def check_rules(
    root: RuleNode, obj: Mapping[str, Any], old: Mapping[str, Any] | None
) -> RuleResult:
    """Every rule of ``root`` on ``obj`` (``old``: the stored object on an update)."""
    result = RuleResult()
    correlation = _Correlation() if old is None else _Correlation((obj, old), None)
    _walk(root, obj, old, "", correlation, result)
    return result


def _walk(
    node: RuleNode, value: Any, old: Any, path: str, correlation: _Correlation, result: RuleResult
) -> None:
    if value is None:
        return
    if node.rules:
        _evaluate(node, value, old, path, correlation, result)
    if isinstance(value, Mapping):
        old_map = old if isinstance(old, Mapping) and not node.atomic_map else {}
        if node.additional is not None:
            for key, item in value.items():
                item_old = old_map.get(key)
                _walk(
                    node.additional,
                    item,
                    item_old,
                    f"{path}[{key}]",
                    correlation.child(item, item_old),
                    result,
                )
        for key, item in value.items():
            sub = node.properties.get(key)
            if sub is not None:
                item_old = old_map.get(key)
                child_path = f"{path}.{key}" if path else key
                _walk(sub, item, item_old, child_path, correlation.child(item, item_old), result)
    elif isinstance(value, list) and node.items is not None:
        old_items = old if isinstance(old, list) else []
        for index, item in enumerate(value):
            item_old = _correlated_item(node.map_keys, item, old_items)
            _walk(
                node.items,
                item,
                item_old,
                f"{path}[{index}]",
                correlation.child(item, item_old),
                result,
            )


def _correlated_item(keys: Sequence[str], item: Any, old_items: Sequence[Any]) -> Any:
    """The old item with the same map keys (list-type map only; other lists do not correlate)."""
    if not keys or not isinstance(item, Mapping):
        return None
    wanted = tuple(item.get(key) for key in keys)
    for old_item in old_items:
        if isinstance(old_item, Mapping) and tuple(old_item.get(key) for key in keys) == wanted:
            return old_item
    return None


def _evaluate(
    node: RuleNode, value: Any, old: Any, path: str, correlation: _Correlation, result: RuleResult
) -> None:
    activation = {"self": to_cel(value)}
    if old is not None:
        activation["oldSelf"] = to_cel(old)
    field = path or "<nil>"
    shown = f'"{node.type}"'
    for rule in node.rules:
        if rule.uses_old_self and old is None:
            continue  # a transition rule needs an old value
        try:
            passed = evaluate_bool(rule.rule, activation)
        except CEL_ERRORS as exc:
            detail = f"{error_text(exc)} evaluating rule: {rule.error_string()}"
            result.errors.append(
                FieldError(field, "FieldValueInvalid", f"Invalid value: {shown}: {detail}")
            )
            continue
        if passed:
            continue
        at = _rule_path(field, path, rule.field_path)
        error = _rule_error(at, shown, _message(rule, activation), rule.reason)
        if not rule.uses_old_self and correlation.unchanged():
            result.warnings.append(str(error))
        else:
            result.errors.append(error)


def _message(rule: Rule, activation: Mapping[str, Any]) -> str:
    """The messageExpression's value, else the message, else ``failed rule: <rule>``."""
    default = rule.message or f"failed rule: {rule.rule.strip()}"
    if not rule.message_expression:
        return default
    try:
        return evaluate_string(rule.message_expression, activation) or default
    except CEL_ERRORS:
        return default


def _rule_path(field: str, path: str, field_path: str) -> str:
    """The rule's ``fieldPath`` (e.g. ``.name``) under the node's own path."""
    if not field_path:
        return field
    return f"{path}{field_path}" if path else field_path.lstrip(".")


def _rule_error(field: str, shown: str, detail: str, reason: str) -> FieldError:
    """fieldErrorForReason: Invalid unless the rule names another reason."""
    if reason == "FieldValueForbidden":
        return FieldError(field, reason, f"Forbidden: {detail}")
    if reason == "FieldValueRequired":
        return FieldError(field, reason, f"Required value: {detail}")
    if reason == "FieldValueDuplicate":
        return FieldError(field, reason, f"Duplicate value: {shown}")
    return FieldError(field, "FieldValueInvalid", f"Invalid value: {shown}: {detail}")
