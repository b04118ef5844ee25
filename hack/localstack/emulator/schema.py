"""Structural OpenAPI v3 schemas of CRDs: pruning, defaulting and validation; pure.

What the real apiserver does to a custom resource on every write, in the same order:
unknown fields are pruned (unless `x-kubernetes-preserve-unknown-fields`), structural
`default`s are filled in, then the object is validated, and every violation is reported
with its field path in the apiserver's own words.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import jsonschema  # type: ignore[import-untyped]

# Keys that never constrain a value (documentation, or handled outside jsonschema).
_ANNOTATION_KEYS = frozenset(
    {"nullable", "default", "format", "description", "example", "externalDocs", "title"}
)
_SCHEMA_MAP_KEYS = frozenset({"properties", "patternProperties", "definitions"})
_SCHEMA_LIST_KEYS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_KEYS = frozenset({"items", "additionalProperties", "not"})
# Fields every object has, whatever its schema says.
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One violation: `field` as in `spec.metrics[0].name`, and the apiserver's message."""

    field: str
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _translate(node: Any) -> Any:
    """An OpenAPI v3 (Kubernetes flavour) schema as a JSON-schema draft-4 schema."""
    if not isinstance(node, Mapping):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in _ANNOTATION_KEYS:
            continue
        if key in _SCHEMA_MAP_KEYS and isinstance(value, Mapping):
            result[key] = {name: _translate(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            result[key] = [_translate(sub) for sub in value]
        elif key in _SCHEMA_KEYS:
            result[key] = _translate(value)
        else:
            result[key] = value
    if node.get("x-kubernetes-int-or-string"):
        result.pop("anyOf", None)
        result["type"] = ["integer", "string"]
    if node.get("nullable"):
        if "type" in result:
            types = result["type"] if isinstance(result["type"], list) else [result["type"]]
            result["type"] = [*types, "null"]
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    return result


def format_path(path: Iterable[str | int]) -> str:
    """`spec.metrics[0].name` from ("spec", "metrics", 0, "name")."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _render_value(value: Any) -> str:
    """A value as Go's `%#v` shows it in apiserver messages (objects only by their type)."""
    if isinstance(value, Mapping):
        return '"object"'
    if isinstance(value, list):
        return '"array"'
    return json.dumps(value)


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case _:
            return "object"


def _field_errors(error: jsonschema.ValidationError) -> Iterator[FieldError]:
    path = list(error.absolute_path)
    field = format_path(path) or "<root>"
    value = error.instance
    shown = _render_value(value)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    expected = error.validator_value
    invalid = f"Invalid value: {shown}: {field} in body"
    match error.validator:
        case "required":
            for name in expected:
                if isinstance(value, Mapping) and name not in value:
                    yield FieldError(
                        format_path([*path, name]), "FieldValueRequired", "Required value"
                    )
        case "minimum":
            bound = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
            yield FieldError(field, "FieldValueInvalid", f"{invalid} should be {bound} {expected}")
        case "maximum":
            bound = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
            yield FieldError(field, "FieldValueInvalid", f"{invalid} should be {bound} {expected}")
        case "enum":
            supported = ", ".join(json.dumps(option) for option in expected if option is not None)
            message = f"Unsupported value: {shown}: supported values: {supported}"
            yield FieldError(field, "FieldValueNotSupported", message)
        case "type":
            types = expected if isinstance(expected, list) else [expected]
            actual = _json_type(value)
            message = (
                f'Invalid value: "{actual}": {field} in body must be of type'
                f' {" or ".join(t for t in types if t != "null")}: "{actual}"'
            )
            yield FieldError(field, "FieldValueTypeInvalid", message)
        case "pattern":
            yield FieldError(field, "FieldValueInvalid", f"{invalid} should match '{expected}'")
        case "minLength":
            message = f"{invalid} should be at least {expected} chars long"
            yield FieldError(field, "FieldValueInvalid", message)
        case "maxLength":
            yield FieldError(
                field, "FieldValueTooLong", f"Too long: may not be longer than {expected}"
            )
        case "minItems":
            message = f"Invalid value: {len(value)}: {field} in body should have at least {expected} items"
            yield FieldError(field, "FieldValueInvalid", message)
        case "maxItems":
            message = f"Too many: {len(value)}: must have at most {expected} items"
            yield FieldError(field, "FieldValueTooMany", message)
        case "oneOf":
            message = f"{invalid} must validate one and only one schema (oneOf)"
            yield FieldError(field, "FieldValueInvalid", message)
        case "anyOf":
            message = f"{invalid} must validate at least one schema (anyOf)"
            yield FieldError(field, "FieldValueInvalid", message)
        case "not":
            yield FieldError(
                field, "FieldValueInvalid", f"{invalid} must not validate the schema (not)"
            )
        case "uniqueItems":
            yield FieldError(field, "FieldValueDuplicate", f"Duplicate value: {shown}")
        case _:
            yield FieldError(field, "FieldValueInvalid", f"{invalid}: {error.message}")


def _prune(value: Any, schema: Mapping[str, Any], path: list[str | int], unknown: list[str]) -> Any:
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] | None = schema.get("properties")
        additional = schema.get("additionalProperties")
        keep_unknown = (
            bool(schema.get("x-kubernetes-preserve-unknown-fields")) or additional is True
        )
        embedded = bool(schema.get("x-kubernetes-embedded-resource"))
        pruned: dict[str, Any] = {}
        for key, item in value.items():
            if properties is not None and key in properties:
                pruned[key] = _prune(item, properties[key], [*path, key], unknown)
            elif isinstance(additional, Mapping):
                pruned[key] = _prune(item, additional, [*path, key], unknown)
            elif keep_unknown or (embedded and key in _ROOT_FIELDS):
                pruned[key] = item
            else:
                unknown.append(format_path([*path, key]))
        return pruned
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [
            _prune(item, schema["items"], [*path, index], unknown)
            for index, item in enumerate(value)
        ]
    return value


def _default(value: Any, schema: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        result = dict(value)
        for key, sub in properties.items():
            absent = key not in result or (result[key] is None and not sub.get("nullable"))
            if absent and "default" in sub:
                result[key] = copy.deepcopy(sub["default"])
        for key, item in result.items():
            if key in properties:
                result[key] = _default(item, properties[key])
            elif isinstance(additional, Mapping):
                result[key] = _default(item, additional)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_default(item, schema["items"]) for item in value]
    return value


@dataclasses.dataclass(frozen=True)
class StructuralSchema:
    """A CRD version's `openAPIV3Schema`, ready to prune, default and validate objects."""

    schema: Mapping[str, Any]
    validator: jsonschema.protocols.Validator

    @classmethod
    def compile(cls, openapi_v3: Mapping[str, Any]) -> StructuralSchema:
        translated = _translate(openapi_v3)
        properties = dict(translated.get("properties") or {})
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
        translated["properties"] = properties
        return cls(schema=openapi_v3, validator=jsonschema.Draft4Validator(translated))

    def prune(self, obj: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The object without fields the schema does not declare, and those fields' paths."""
        unknown: list[str] = []
        rest = {key: value for key, value in obj.items() if key not in _ROOT_FIELDS}
        pruned = _prune(rest, self.schema, [], unknown)
        kept = {key: obj[key] for key in _ROOT_FIELDS if key in obj}
        return {**kept, **pruned}, unknown

    def default(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The object with the schema's structural defaults filled in where fields are absent."""
        rest = {key: value for key, value in obj.items() if key not in _ROOT_FIELDS}
        defaulted = _default(rest, self.schema)
        kept = {key: obj[key] for key in _ROOT_FIELDS if key in obj}
        return {**kept, **defaulted}

    def validate(self, obj: Mapping[str, Any]) -> list[FieldError]:
        """Every violation, in the order the schema is walked, without duplicates."""
        found: dict[tuple[str, str], FieldError] = {}
        for error in self.validator.iter_errors(obj):
            for field_error in _field_errors(error):
                found.setdefault((field_error.field, field_error.message), field_error)
        return list(found.values())


def unknown_field_warnings(fields: Sequence[str]) -> list[str]:
    """What the apiserver says about pruned fields with `fieldValidation=Warn`."""
    return [f'unknown field "{field}"' for field in fields]
