"""What a CustomResourceDefinition serves: versions, names, schemas, columns, status; pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from localstack.emulator.crd_rules import RuleNode, compile_rules
from localstack.emulator.schema import FieldError, StructuralSchema
from localstack.emulator.tables import Column, printer_columns

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


@dataclasses.dataclass(frozen=True)
class CustomVersion:
    """One served version of a CRD: everything discovery, storage and `kubectl get` need."""

    crd_name: str
    group: str
    version: str
    storage_version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    subresources: tuple[str, ...]
    schema: StructuralSchema | None
    rules: RuleNode | None
    columns: tuple[Column, ...]


def _names(crd: Mapping[str, Any]) -> dict[str, Any]:
    names = dict(crd.get("spec", {}).get("names", {}))
    kind = str(names.get("kind", ""))
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    return names


def validate_crd(crd: Mapping[str, Any]) -> list[FieldError]:
    """The few rules without which a CRD cannot be served (a subset of the apiserver's)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    errors = [
        FieldError(field, "FieldValueRequired", "Required value")
        for field, value in (
            ("spec.group", spec.get("group")),
            ("spec.names.plural", names.get("plural")),
            ("spec.names.kind", names.get("kind")),
            ("spec.versions", spec.get("versions")),
        )
        if not value
    ]
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errors.append(
            FieldError(
                "spec.scope",
                "FieldValueNotSupported",
                f'Unsupported value: "{spec.get("scope", "")}": supported values:'
                ' "Cluster", "Namespaced"',
            )
        )
    versions = spec.get("versions") or []
    if versions and sum(1 for version in versions if version.get("storage")) != 1:
        errors.append(
            FieldError(
                "spec.versions",
                "FieldValueInvalid",
                'Invalid value: "array": must have exactly one version marked as storage version',
            )
        )
    expected_name = f"{names.get('plural', '')}.{spec.get('group', '')}"
    name = crd.get("metadata", {}).get("name", "")
    if not errors and name != expected_name:
        errors.append(
            FieldError(
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            )
        )
    return errors


def served_versions(crd: Mapping[str, Any]) -> list[CustomVersion]:
    """The versions the CRD serves, in the order it lists them."""
    spec = crd.get("spec", {})
    names = _names(crd)
    versions: Sequence[Mapping[str, Any]] = spec.get("versions", [])
    storage = next((str(v["name"]) for v in versions if v.get("storage")), "")
    result = []
    for version in versions:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        raw_schema = (version.get("schema") or {}).get("openAPIV3Schema")
        result.append(
            CustomVersion(
                crd_name=str(crd.get("metadata", {}).get("name", "")),
                group=str(spec.get("group", "")),
                version=str(version["name"]),
                storage_version=storage,
                plural=str(names["plural"]),
                singular=str(names["singular"]),
                kind=str(names["kind"]),
                namespaced=spec.get("scope") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(
                    sorted(name for name in ("status", "scale") if name in subresources)
                ),
                schema=StructuralSchema.compile(raw_schema) if raw_schema else None,
                rules=compile_rules(raw_schema) if raw_schema else None,
                columns=printer_columns(version.get("additionalPrinterColumns") or ()),
            )
        )
    return result


def _condition(
    kind: str, reason: str, message: str, now: str, previous: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    old = next((c for c in previous if c.get("type") == kind and c.get("status") == "True"), None)
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": old.get("lastTransitionTime", now) if old else now,
    }


def crd_status(crd: Mapping[str, Any], *, now: str, terminating: bool) -> dict[str, Any]:
    """The status the apiextensions controllers would write: names accepted, established."""
    previous = (crd.get("status") or {}).get("conditions") or []
    conditions = [
        _condition("NamesAccepted", "NoConflicts", "no conflicts found", now, previous),
        _condition(
            "Established",
            "InitialNamesAccepted",
            "the initial names have been accepted",
            now,
            previous,
        ),
    ]
    if terminating:
        conditions.append(
            _condition(
                "Terminating",
                "InstanceDeletionInProgress",
                "CustomResource deletion is in progress",
                now,
                previous,
            )
        )
    names = _names(crd)
    accepted = {
        key: names[key]
        for key in ("plural", "singular", "kind", "listKind", "shortNames", "categories")
        if names.get(key)
    }
    versions = crd.get("spec", {}).get("versions", [])
    stored = [str(v["name"]) for v in versions if v.get("storage")]
    old_stored = (crd.get("status") or {}).get("storedVersions") or []
    return {
        "conditions": conditions,
        "acceptedNames": accepted,
        "storedVersions": list(dict.fromkeys([*old_stored, *stored])),
    }
