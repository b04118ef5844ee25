"""Helpers for the tests of what ships: tools, kustomize and Helm renders, schema validation."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from crd_schema import cel_errors, schema_errors, schema_of, unknown_fields

from perftest_operator import GROUP

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
CHART = REPO / "charts" / "perftest-operator"
TOOLS_BIN = REPO / ".tools" / "bin"
KOPF_PEERING_CRDS = MANIFESTS / "base" / "kopf-peering-crds.yaml"
# Validated against the oldest Kubernetes the chart admits (Chart.yaml kubeVersion: 1.30, the first
# with admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy) and the newest that
# kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def tool(name: str) -> str:
    """A command-line tool: from the PATH, else from .tools/bin (`make tools`).

    Missing, the test is skipped, unless PERFTEST_REQUIRE_TOOLS is set (CI sets it after
    installing them), where a missing tool fails the test instead of hiding it.
    """
    found = shutil.which(name) or shutil.which(name, path=str(TOOLS_BIN))
    if found is None:
        message = f"needs {name} (make tools)"
        if os.environ.get("PERFTEST_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run_tool(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stderr}"
    return result.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def _kustomize(path: Path) -> str:
    return run_tool([tool("kubectl"), "kustomize", str(path)])


def kustomize(path: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize PATH` renders (a fresh copy for each caller)."""
    return documents(_kustomize(path))


def helm(*args: str) -> str:
    return run_tool([tool("helm"), *args])


def helm_template(*args: str) -> list[dict[str, Any]]:
    """The chart's objects, CRDs of its crds/ folder included, released as perftest-operator."""
    return documents(
        helm(
            "template",
            "perftest-operator",
            str(CHART),
            "--namespace",
            "perftest-system",
            "--include-crds",
            *args,
        )
    )


def by_kind(objects: Iterable[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [dict(doc) for doc in objects if doc["kind"] == kind]


def the_one(
    objects: Iterable[Mapping[str, Any]], kind: str, name: str | None = None
) -> dict[str, Any]:
    (found,) = [
        doc for doc in by_kind(objects, kind) if name is None or doc["metadata"]["name"] == name
    ]
    return found


IMPLICIT_FIELDS = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
}


@functools.cache
def _kopf_peering_schemas() -> dict[str, dict[str, Any]]:
    """kind -> openAPIV3Schema of kopf's peering CRDs as shipped."""
    schemas = {}
    for crd in documents(KOPF_PEERING_CRDS.read_text(encoding="utf-8")):
        (version,) = crd["spec"]["versions"]
        schema = version["schema"]["openAPIV3Schema"]
        # The API server serves apiVersion, kind and metadata of every object; kopf's schema
        # declares only status.
        schema["properties"] = {**IMPLICIT_FIELDS, **schema["properties"]}
        schemas[crd["spec"]["names"]["kind"]] = schema
    return schemas


def custom_resource_schema(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema of one of our custom resources (PerfTest, PerfRun, kopf peering); else None."""
    group = str(doc.get("apiVersion", "")).partition("/")[0]
    if group == GROUP:
        return schema_of({"PerfTest": "perftests", "PerfRun": "perfruns"}[doc["kind"]])
    if group == "kopf.dev":
        return _kopf_peering_schemas()[doc["kind"]]
    return None


PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com"


def prometheus_operator_problems(doc: Mapping[str, Any]) -> list[str]:
    """Why a prometheus-operator object (ServiceMonitor, ...) is invalid, by the models that
    cloudcoil-models-prometheus-operator generates from prometheus-operator's CRDs: types,
    required fields, patterns; a field the model does not know (and so the CRD would prune) is
    reported too."""
    import pydantic
    from cloudcoil.models.prometheus_operator import v1

    model = getattr(v1, str(doc.get("kind")), None)
    if str(doc.get("apiVersion")) != f"{PROMETHEUS_OPERATOR_GROUP}/v1" or model is None:
        return [f"no schema for {doc.get('apiVersion')} {doc.get('kind')}"]
    try:
        parsed = model.model_validate(dict(doc))
    except pydantic.ValidationError as exc:
        return [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
    kept = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [] if kept == doc else [f"fields the CRD does not know: {_dropped(doc, kept)}"]


def _dropped(original: Any, kept: Any, path: str = "") -> list[str]:
    if isinstance(original, Mapping) and isinstance(kept, Mapping):
        return [
            found
            for key, value in original.items()
            for found in (
                _dropped(value, kept[key], f"{path}.{key}") if key in kept else [f"{path}.{key}"]
            )
        ]
    if isinstance(original, list) and isinstance(kept, list):
        return [
            f
            for i, (a, b) in enumerate(zip(original, kept, strict=False))
            for f in _dropped(a, b, f"{path}[{i}]")
        ]
    return [] if original == kept else [path]


def invalid_objects(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why objects are invalid: Kubernetes kinds by kubernetes-validate --strict (every version in
    KUBERNETES_VERSIONS), our custom resources by their CRD's schema (jsonschema, list-type
    uniqueness, CEL rules, unknown fields refused as the API server would prune them),
    prometheus-operator's (ServiceMonitor) by the models generated from its CRDs. Any other kind
    is reported: no schema to check."""
    problems = []
    for doc in objects:
        what = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        if str(doc.get("apiVersion", "")).startswith(f"{PROMETHEUS_OPERATOR_GROUP}/"):
            problems += [f"{what}: {problem}" for problem in prometheus_operator_problems(doc)]
            continue
        schema = custom_resource_schema(doc)
        if schema is not None:
            problems += [
                f"{what}: {path}: {message}" for path, message in schema_errors(schema, doc)
            ]
            problems += [f"{what}: unknown field {field}" for field in unknown_fields(doc, schema)]
            problems += [f"{what}: {path}: {message}" for path, message in cel_errors(schema, doc)]
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(dict(doc), version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{what}: no schema for {doc.get('apiVersion')}")
                break
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{what} (Kubernetes {version}): {exc.message}")
    return problems
