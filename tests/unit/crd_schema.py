"""The CRDs as an API server reads them: load, walk, default, validate, prune (for the tests).

What an API server does with a CRD's schema, as far as the tests need it: jsonschema for the
OpenAPI part, the uniqueness of list-type map and set items, defaulting top-down, pruning of
undeclared fields, the rules that make a schema structural, and the CEL rules (cel_errors,
apart from schema_errors: the emulator does not run them, a real API server does).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from localstack.emulator.crd_rules import check_rules, compile_rules
from perftest_operator import GROUP, VERSION

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
PLURALS = ("perftests", "perfruns")


# --- reading the CRDs ----------------------------------------------------------------------------


@functools.cache
def load_crd(plural: str) -> dict[str, Any]:
    """The CRD as written in crds/ (read once; callers must not change it)."""
    crd = yaml.safe_load((CRDS / f"{plural}.{GROUP}.yaml").read_text(encoding="utf-8"))
    assert isinstance(crd, dict)
    return crd


def the_version(crd: Mapping[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    assert version["name"] == VERSION
    return dict(version)


def schema_of(plural: str) -> dict[str, Any]:
    return dict(the_version(load_crd(plural))["schema"]["openAPIV3Schema"])


def at(schema: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The schema node at a dotted path; a step ending in `[]` goes into the array's items."""
    node: Mapping[str, Any] = schema
    for step in path.split("."):
        node = node["properties"][step.removesuffix("[]")]
        if step.endswith("[]"):
            node = node["items"]
    return dict(node)


def iter_nodes(node: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema node under `node` (outside logical junctors), with its dotted path."""
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from iter_nodes(child, f"{path}.{name}" if path else name)
    if isinstance(node.get("items"), Mapping):
        yield from iter_nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from iter_nodes(node["additionalProperties"], f"{path}.*")


# --- what an API server does with a schema, as far as these tests need it -------------------------


def to_json_schema(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes flavour) to JSON Schema: `nullable` becomes a null type, x-kubernetes-* go."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: value if key in ("enum", "default") else to_json_schema(value)
        for key, value in node.items()
        if not key.startswith("x-kubernetes-") and key != "nullable"
    }
    if node.get("nullable") is True and "type" in result:
        result["type"] = [result["type"], "null"]
    return result


def schema_errors(node: Mapping[str, Any], value: Any) -> list[tuple[str, str]]:
    """(dotted path, message) of every violation of the node's schema (CEL rules are not run)."""
    validator = jsonschema.Draft4Validator(to_json_schema(dict(node)))
    found = [
        (".".join(str(step) for step in error.absolute_path), error.message)
        for error in validator.iter_errors(value)
    ]
    return sorted(found + list_type_errors(node, value))


def accepts(node: Mapping[str, Any], value: Any) -> bool:
    return not schema_errors(node, value)


def described_values(
    node: Mapping[str, Any], value: Any, path: str = ""
) -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    """(dotted path, schema node, value) of `value` and of every value inside it that the
    schema describes (declared properties, additionalProperties, array items)."""
    yield path, node, value
    if isinstance(value, dict):
        properties: Mapping[str, Any] = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for name, item in value.items():
            child = properties.get(name, extra if isinstance(extra, Mapping) else None)
            if child is not None:
                yield from described_values(child, item, f"{path}.{name}" if path else name)
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for i, item in enumerate(value):
            yield from described_values(node["items"], item, f"{path}.{i}" if path else str(i))


def list_type_errors(node: Mapping[str, Any], value: Any) -> list[tuple[str, str]]:
    """Items of a list-type map with a key already seen, of a list-type set seen whole before.

    As the API server checks them after the OpenAPI schema, on create and update of a custom
    resource: kubernetes/kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/
    schema/listtype/validation.go (ValidateListSetsAndMaps; a missing key counts as one value;
    each value is reported once, at its second place), called from
    .../pkg/registry/customresource/strategy.go. jsonschema knows no x-kubernetes-* keywords.
    """
    found: list[tuple[str, str]] = []
    for path, list_node, items in described_values(node, value):
        list_type = list_node.get("x-kubernetes-list-type")
        if not isinstance(items, list):
            continue
        keys: list[str] = []
        if list_type == "set":
            keys = [json.dumps(item, sort_keys=True) for item in items]
        elif list_type == "map" and all(isinstance(item, dict | None) for item in items):
            # (an item that is not an object: the schema's type error, no uniqueness check)
            names = list_node.get("x-kubernetes-list-map-keys") or []
            keys = [
                json.dumps({k: item[k] for k in names if k in (item or {})}, sort_keys=True)
                for item in items
            ]
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == 2:
                found.append((f"{path}.{i}" if path else str(i), f"Duplicate value: {key}"))
    return found


def apply_defaults(value: Any, node: Mapping[str, Any]) -> Any:
    """A copy of value with the schema's defaults filled in top-down, as the API server does."""
    if isinstance(value, dict):
        result = dict(value)
        properties: Mapping[str, Any] = node.get("properties") or {}
        for name, child in properties.items():
            if name not in result and "default" in child:
                result[name] = copy.deepcopy(child["default"])
            if name in result:
                result[name] = apply_defaults(result[name], child)
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name in result:
                if name not in properties:
                    result[name] = apply_defaults(result[name], extra)
        return result
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [apply_defaults(item, node["items"]) for item in value]
    return value


def drop_nulls(value: Any) -> Any:
    """A copy without null fields: the API server prunes nulls of fields that are not nullable."""
    if isinstance(value, dict):
        return {key: drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


def unknown_fields(value: Any, node: Mapping[str, Any], path: str = "") -> list[str]:
    """Fields the schema does not declare: the API server would silently prune them."""
    if node.get("x-kubernetes-preserve-unknown-fields") is True:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        properties: Mapping[str, Any] = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for name, item in value.items():
            child = f"{path}.{name}" if path else name
            if name in properties:
                found += unknown_fields(item, properties[name], child)
            elif isinstance(extra, Mapping):
                found += unknown_fields(item, extra, child)
            elif node.get("type") == "object" and path != "metadata":
                found.append(child)
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for i, item in enumerate(value):
            found += unknown_fields(item, node["items"], f"{path}[{i}]")
    return found


JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
NOT_IN_JUNCTORS = ("description", "type", "default", "additionalProperties", "nullable")


def structural_violations(node: Mapping[str, Any], path: str = "") -> list[str]:
    """Why a schema is not structural (Kubernetes' rules for apiextensions.k8s.io/v1); [] if it is."""
    here = path or "<root>"
    problems: list[str] = []
    escape = (
        node.get("x-kubernetes-preserve-unknown-fields") is True
        or node.get("x-kubernetes-int-or-string") is True
    )
    if not node.get("type") and not escape:
        problems.append(f"{here}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{here}: properties and additionalProperties together")
    if node.get("type") == "array" and not isinstance(node.get("items"), Mapping):
        problems.append(f"{here}: an array needs one items schema")
    if node.get("type") != "object" and ("properties" in node or "additionalProperties" in node):
        problems.append(f"{here}: properties on a node that is not an object")
    if node.get("x-kubernetes-list-type") == "map":
        problems += _list_map_violations(node, here)
    for rule in node.get("x-kubernetes-validations") or []:
        if not rule.get("rule") or not rule.get("message"):
            problems.append(f"{here}: a CEL validation needs a rule and a message")
    for name, child in (node.get("properties") or {}).items():
        problems += structural_violations(child, f"{path}.{name}" if path else name)
    if isinstance(node.get("additionalProperties"), Mapping):
        problems += structural_violations(node["additionalProperties"], f"{here}.*")
    if isinstance(node.get("items"), Mapping):
        problems += structural_violations(node["items"], f"{here}[]")
    for junctor in JUNCTORS:
        if junctor in node:
            branches = node[junctor] if isinstance(node[junctor], list) else [node[junctor]]
            for i, branch in enumerate(branches):
                problems += _junctor_violations(branch, node, f"{here}.{junctor}[{i}]")
    return problems


def _junctor_violations(
    branch: Mapping[str, Any], outer: Mapping[str, Any], path: str
) -> list[str]:
    problems = [
        f"{path}: {key} inside a logical junctor" for key in NOT_IN_JUNCTORS if key in branch
    ]
    outer_properties: Mapping[str, Any] = outer.get("properties") or {}
    for name, child in (branch.get("properties") or {}).items():
        if name not in outer_properties:
            problems.append(f"{path}.{name}: not specified outside the junctor")
        else:
            problems += _junctor_violations(child, outer_properties[name], f"{path}.{name}")
    for name in branch.get("required") or []:
        if name not in outer_properties:
            problems.append(f"{path}: requires {name}, which is not specified outside the junctor")
    if isinstance(branch.get("items"), Mapping):
        if not isinstance(outer.get("items"), Mapping):
            problems.append(f"{path}[]: items not specified outside the junctor")
        else:
            problems += _junctor_violations(branch["items"], outer["items"], f"{path}[]")
    for junctor in JUNCTORS:
        if junctor in branch:
            nested = branch[junctor] if isinstance(branch[junctor], list) else [branch[junctor]]
            for i, item in enumerate(nested):
                problems += _junctor_violations(item, outer, f"{path}.{junctor}[{i}]")
    return problems


def _list_map_violations(node: Mapping[str, Any], here: str) -> list[str]:
    items: Mapping[str, Any] = node.get("items") or {}
    keys = node.get("x-kubernetes-list-map-keys") or []
    if not keys:
        return [f"{here}: list-type map without list-map-keys"]
    problems = []
    for key in keys:
        field = (items.get("properties") or {}).get(key)
        if field is None:
            problems.append(f"{here}: map key {key} is not a property of the items")
        elif field.get("type") not in ("string", "integer", "number", "boolean"):
            problems.append(f"{here}: map key {key} is not a scalar")
        elif key not in (items.get("required") or []) and "default" not in field:
            problems.append(f"{here}: map key {key} is neither required nor defaulted")
    return problems


def root_metadata_violations(schema: Mapping[str, Any]) -> list[str]:
    """A CRD may restrict only metadata.name and metadata.generateName, nothing else of metadata."""
    metadata = (schema.get("properties") or {}).get("metadata")
    if metadata is None:
        return []
    problems = [
        f"metadata: {key} is not allowed"
        for key in metadata
        if key not in ("type", "properties", "description")
    ]
    for name in metadata.get("properties") or {}:
        if name not in ("name", "generateName"):
            problems.append(f"metadata.{name}: only name and generateName may be restricted")
    return problems


def cel_errors(node: Mapping[str, Any], value: Any) -> list[tuple[str, str]]:
    """(dotted path, the API server's message) of every x-kubernetes-validations rule that does
    not hold on a create, evaluated as the emulator evaluates them on every write
    (localstack.emulator.crd_rules: apiextensions-apiserver v0.33.0's CEL validation, with
    cel-python, which has the standard macros these rules use, not Kubernetes' CEL libraries)."""
    rules = compile_rules(node)
    if rules is None:
        return []
    return sorted(
        (re.sub(r"\[(\d+)\]", r".\1", error.field), error.message)
        for error in check_rules(rules, value, None).errors
    )
