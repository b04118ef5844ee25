"""The CRDs, the kustomize base and the samples, checked against the operator's own models."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import functools
import re
import shutil
import subprocess
import tomllib
import urllib.parse
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from perftest_operator import API_VERSION, GROUP, VERSION
from perftest_operator.analysis.verdict import (
    RunPoint,
    VerdictResult,
    evaluate_history,
    verdict_to_status,
)
from perftest_operator.api.conditions import FALSE, TRUE, UNKNOWN, set_condition
from perftest_operator.api.durations import parse_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.fingerprint import spec_fingerprint
from perftest_operator.api.kpi import (
    DEFAULT_THRESHOLD_PERCENT,
    LEGACY_LAST,
    Aggregation,
    Direction,
    MetricSpec,
    OverTime,
    QuantileField,
)
from perftest_operator.api.perfrun import ConfirmationState, Trigger, build_perfrun
from perftest_operator.api.schedule import DEFAULT_TIME_ZONE, parse_cron, parse_time_zone
from perftest_operator.api.settings import PREFIX, load_settings
from perftest_operator.api.spec import (
    DEFAULT_QUERY_TIMEOUT,
    DEFAULT_STEP,
    Acknowledgement,
    AnalysisSettings,
    ChurnDeletionStrategy,
    ConcurrencyPolicy,
    HistorySettings,
    PerfTestSpec,
    Platform,
    PrometheusSettings,
    Target,
    TriggerSettings,
    parse_metric,
    parse_perftest_spec,
    parse_target,
)
from perftest_operator.api.status import (
    PerfTestCondition,
    PerfTestPhase,
    Reason,
    RunCondition,
    RunPhase,
    build_test_status,
)
from perftest_operator.cli import build_parser
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.command import check_workload
from perftest_operator.runner.outcome import OutcomeReason, WindowSource
from perftest_operator.runner.rbac import shipped_cluster_roles
from perftest_operator.target.metadata import describe_changes

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
BASE = REPO / "manifests" / "base"
SAMPLES = REPO / "manifests" / "samples"
PLURALS = ("perftests", "perfruns")
NOW = datetime.datetime(2025, 1, 20, 3, 0, tzinfo=datetime.UTC)


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
    return sorted(
        (".".join(str(step) for step in error.absolute_path), error.message)
        for error in validator.iter_errors(value)
    )


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


# --- the CRDs themselves ---------------------------------------------------------------------------

NAMES = {
    "perftests": {"kind": "PerfTest", "singular": "perftest", "shortNames": ["pt"]},
    "perfruns": {"kind": "PerfRun", "singular": "perfrun", "shortNames": ["pr"]},
}


@pytest.mark.parametrize("plural", PLURALS)
def test_crd_names_scope_version_and_status_subresource(plural: str) -> None:
    crd = load_crd(plural)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.{GROUP}"
    assert crd["spec"]["group"] == GROUP
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    expected = NAMES[plural]
    assert names["plural"] == plural
    assert names["kind"] == expected["kind"]
    assert names["listKind"] == f"{expected['kind']}List"
    assert names["singular"] == expected["singular"]
    assert names["shortNames"] == expected["shortNames"]
    # Not "perftest": a category named like a singular makes `kubectl get perftest NAME` ambiguous.
    assert names["categories"] == ["perf"]
    assert set(names["categories"]).isdisjoint(
        {names["singular"], names["plural"], *names.get("shortNames", [])}
    )
    version = the_version(crd)
    assert version["served"] is True
    assert version["storage"] is True
    assert version["subresources"] == {"status": {}}
    assert the_version(crd)["schema"]["openAPIV3Schema"]["required"] == ["spec"]


PRINTER_COLUMNS = {
    "perftests": [
        ("Platform", "string", ".status.platform"),
        ("Workload", "string", ".spec.workload.name"),
        ("Phase", "string", ".status.phase"),
        ("Verdict", "string", ".status.verdict.result"),
        ("Last Run", "string", ".status.lastRun.name"),
        ("Next Run", "date", ".status.nextRunTime"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ],
    "perfruns": [
        ("Test", "string", ".spec.testName"),
        ("Phase", "string", ".status.phase"),
        ("Start", "date", ".status.startTime"),
        ("Duration", "string", ".status.duration"),
        ("Verdict", "string", ".status.verdict.result"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ],
}


@pytest.mark.parametrize("plural", PLURALS)
def test_printer_columns(plural: str) -> None:
    columns = the_version(load_crd(plural))["additionalPrinterColumns"]
    assert [(c["name"], c["type"], c["jsonPath"]) for c in columns] == PRINTER_COLUMNS[plural]


# Columns shown only by `kubectl get -o wide`.
WIDE_COLUMNS = {"perftests": {"Next Run"}, "perfruns": set()}


@pytest.mark.parametrize("plural", PLURALS)
def test_only_the_wide_columns_have_a_priority(plural: str) -> None:
    columns = the_version(load_crd(plural))["additionalPrinterColumns"]
    assert {c["name"] for c in columns if c.get("priority", 0) > 0} == WIDE_COLUMNS[plural]


@pytest.mark.parametrize("plural", PLURALS)
def test_printer_columns_point_at_declared_fields_of_the_right_kind(plural: str) -> None:
    schema = schema_of(plural)
    for name, type_, json_path in PRINTER_COLUMNS[plural]:
        if json_path == ".metadata.creationTimestamp":
            continue
        node = at(schema, json_path.removeprefix("."))
        assert node["type"] == "string", name
        if type_ == "date":
            assert node.get("format") == "date-time", name


@pytest.mark.parametrize("plural", PLURALS)
def test_schemas_are_structural(plural: str) -> None:
    schema = schema_of(plural)
    assert structural_violations(schema) == []
    assert root_metadata_violations(schema) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        pytest.param({"type": "object", "properties": {"a": {}}}, "a: no type", id="untyped field"),
        pytest.param(
            {"type": "object", "properties": {"a": {"type": "array"}}},
            "a: an array needs one items schema",
            id="array without items",
        ),
        pytest.param(
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": {"type": "string"},
            },
            "<root>: properties and additionalProperties together",
            id="properties and additionalProperties",
        ),
        pytest.param(
            {"type": "object", "oneOf": [{"type": "object"}]},
            "<root>.oneOf[0]: type inside a logical junctor",
            id="type inside oneOf",
        ),
        pytest.param(
            {"type": "object", "oneOf": [{"properties": {"b": {"minLength": 1}}}]},
            "<root>.oneOf[0].b: not specified outside the junctor",
            id="junctor declares a field",
        ),
        pytest.param(
            {"type": "object", "anyOf": [{"required": ["b"]}]},
            "<root>.anyOf[0]: requires b, which is not specified outside the junctor",
            id="junctor names an undeclared field",
        ),
        pytest.param(
            {"type": "object", "not": {"default": {}}},
            "<root>.not[0]: default inside a logical junctor",
            id="default inside not",
        ),
        pytest.param(
            {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "properties": {"type": {"type": "string"}}},
            },
            "<root>: map key type is neither required nor defaulted",
            id="list-map key optional",
        ),
        pytest.param(
            {"type": "object", "x-kubernetes-validations": [{"rule": "has(self.a)"}]},
            "<root>: a CEL validation needs a rule and a message",
            id="CEL rule without message",
        ),
    ],
)
def test_structural_check_finds_what_kubernetes_rejects(
    schema: dict[str, Any], expected: str
) -> None:
    assert expected in structural_violations(schema)


def test_structural_check_accepts_the_escape_hatches() -> None:
    schema = {
        "type": "object",
        "properties": {
            "free": {"x-kubernetes-preserve-unknown-fields": True},
            "port": {"x-kubernetes-int-or-string": True},
        },
    }
    assert structural_violations(schema) == []


def test_metadata_may_restrict_only_name() -> None:
    metadata = {"type": "object", "properties": {"labels": {"type": "object"}}}
    schema = {"type": "object", "properties": {"metadata": metadata}}
    assert root_metadata_violations(schema) == [
        "metadata.labels: only name and generateName may be restricted"
    ]


@pytest.mark.parametrize("plural", PLURALS)
def test_every_default_is_valid_against_its_own_schema(plural: str) -> None:
    for path, node in iter_nodes(schema_of(plural)):
        if "default" in node:
            defaulted = apply_defaults(node["default"], node)
            assert schema_errors(node, defaulted) == [], path


def without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    return node


def test_status_shapes_shared_by_both_crds_are_identical() -> None:
    tests, runs = schema_of("perftests"), schema_of("perfruns")
    for path in ("status.verdict", "status.conditions"):
        assert without_descriptions(at(tests, path)) == without_descriptions(at(runs, path)), path


# --- the schema agrees with the operator's models --------------------------------------------------


ENUMS: list[tuple[str, str, type[enum.Enum]]] = [
    ("perftests", "spec.target.platform", Platform),
    ("perftests", "spec.metrics[].overTime", OverTime),
    ("perftests", "spec.metrics[].direction", Direction),
    ("perftests", "spec.concurrencyPolicy", ConcurrencyPolicy),
    ("perftests", "spec.workload.churn.deletionStrategy", ChurnDeletionStrategy),
    ("perftests", "spec.metrics[].kubeBurner.metricOfInterest", QuantileField),
    ("perfruns", "status.windowSource", WindowSource),
    ("perftests", "status.phase", PerfTestPhase),
    ("perftests", "status.lastRun.phase", RunPhase),
    ("perftests", "status.verdict.changePoints[].direction", Direction),
    ("perfruns", "spec.trigger", Trigger),
    ("perfruns", "status.phase", RunPhase),
    ("perfruns", "status.confirmation.state", ConfirmationState),
    ("perfruns", "status.verdict.changePoints[].direction", Direction),
]
VERDICT_RESULT_PATHS = [
    ("perftests", "status.verdict.result"),
    ("perfruns", "status.verdict.result"),
]
CONDITION_STATUS_PATHS = [
    ("perftests", "status.conditions[].status"),
    ("perfruns", "status.conditions[].status"),
]


@pytest.mark.parametrize(("plural", "path", "model"), ENUMS, ids=[f"{p}:{q}" for p, q, _ in ENUMS])
def test_crd_enum_equals_the_python_enum(plural: str, path: str, model: type[enum.Enum]) -> None:
    assert at(schema_of(plural), path)["enum"] == [member.value for member in model]


def test_aggregation_enum_is_the_python_enum_and_the_legacy_last() -> None:
    node = at(schema_of("perftests"), "spec.metrics[].aggregation")
    assert node["enum"] == [member.value for member in Aggregation] + [LEGACY_LAST]


@pytest.mark.parametrize(("plural", "path"), VERDICT_RESULT_PATHS)
def test_verdict_result_enum_equals_the_analysis_enum(plural: str, path: str) -> None:
    assert at(schema_of(plural), path)["enum"] == [result.value for result in VerdictResult]


@pytest.mark.parametrize(("plural", "path"), CONDITION_STATUS_PATHS)
def test_condition_status_enum_equals_the_condition_constants(plural: str, path: str) -> None:
    assert at(schema_of(plural), path)["enum"] == [TRUE, FALSE, UNKNOWN]


def test_every_enum_in_the_crds_is_compared_with_a_model() -> None:
    declared = {
        (plural, path)
        for plural in PLURALS
        for path, node in iter_nodes(schema_of(plural))
        if "enum" in node
    }
    compared = (
        {(p, q) for p, q, _ in ENUMS}
        | set(VERDICT_RESULT_PATHS)
        | set(CONDITION_STATUS_PATHS)
        | {("perftests", "spec.metrics[].aggregation")}
    )
    assert declared == compared


def dataclass_default(cls: type, name: str) -> Any:
    (field,) = [f for f in dataclasses.fields(cls) if f.name == name]
    assert field.default is not dataclasses.MISSING, f"{cls.__name__}.{name} has no plain default"
    return field.default


def enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


# Schema defaults and where the operator's models define the same default.
EXPECTED_DEFAULTS: dict[tuple[str, str], Any] = {
    ("perftests", "spec.target"): {},
    ("perftests", "spec.target.platform"): enum_value(dataclass_default(Target, "platform")),
    ("perftests", "spec.prometheus"): {},
    ("perftests", "spec.prometheus.insecureSkipVerify"): dataclass_default(
        PrometheusSettings, "insecure_skip_verify"
    ),
    ("perftests", "spec.prometheus.step"): DEFAULT_STEP,
    ("perftests", "spec.prometheus.queryTimeout"): DEFAULT_QUERY_TIMEOUT,
    ("perftests", "spec.metrics[].aggregation"): enum_value(
        dataclass_default(MetricSpec, "aggregation")
    ),
    ("perftests", "spec.metrics[].direction"): enum_value(
        dataclass_default(MetricSpec, "direction")
    ),
    ("perftests", "spec.metrics[].threshold"): DEFAULT_THRESHOLD_PERCENT,
    ("perftests", "spec.analysis"): {},
    ("perftests", "spec.analysis.minHistory"): dataclass_default(AnalysisSettings, "min_history"),
    ("perftests", "spec.analysis.lookback"): dataclass_default(AnalysisSettings, "lookback"),
    ("perftests", "spec.suspend"): dataclass_default(PerfTestSpec, "suspend"),
    ("perftests", "spec.timeZone"): DEFAULT_TIME_ZONE,
    ("perftests", "spec.trigger"): {},
    ("perftests", "spec.trigger.onNewVersion"): dataclass_default(
        TriggerSettings, "on_new_version"
    ),
    ("perftests", "spec.trigger.skipUnchanged"): dataclass_default(
        TriggerSettings, "skip_unchanged"
    ),
    ("perftests", "spec.concurrencyPolicy"): enum_value(
        dataclass_default(PerfTestSpec, "concurrency_policy")
    ),
    ("perftests", "spec.retries"): dataclass_default(PerfTestSpec, "retries"),
    ("perftests", "spec.analysis.confirmRuns"): dataclass_default(AnalysisSettings, "confirm_runs"),
    ("perftests", "spec.history"): {},
    ("perftests", "spec.history.keep"): dataclass_default(HistorySettings, "keep"),
    # A PerfRun made by hand (the operator always names its trigger).
    ("perfruns", "spec.trigger"): Trigger.MANUAL.value,
}


def test_schema_defaults_equal_the_model_defaults() -> None:
    declared = {
        (plural, path): node["default"]
        for plural in PLURALS
        for path, node in iter_nodes(schema_of(plural))
        if "default" in node
    }
    assert declared == EXPECTED_DEFAULTS


@pytest.mark.parametrize(
    ("path", "model_seconds"),
    [
        ("spec.prometheus.step", dataclass_default(PrometheusSettings, "step_seconds")),
        (
            "spec.prometheus.queryTimeout",
            dataclass_default(PrometheusSettings, "query_timeout_seconds"),
        ),
    ],
)
def test_duration_defaults_mean_the_model_defaults(path: str, model_seconds: float) -> None:
    assert parse_duration(at(schema_of("perftests"), path)["default"]) == model_seconds


# Specs the API server accepts: once with the API server's defaults filled in and once without,
# the operator must read the same PerfTestSpec (a default that differs would change behaviour).
MINIMAL_SPECS = [
    {"workload": {"name": "node-density"}, "prometheus": {"url": "http://127.0.0.1:9090"}},
    {
        "workload": {"configMapRef": {"name": "burner", "key": "config.yml"}},
        "prometheus": {"url": "https://prometheus.example:9091", "useServiceAccountToken": True},
        "metrics": [
            {"name": "podReadyLatency", "query": "max(pod_ready_seconds)"},
            # overTime without aggregation: the API server fills in aggregation max
            {"name": "avgLatency", "query": "p99", "overTime": "avg", "labels": {"scope": ""}},
        ],
    },
    {
        "target": {"namespace": "perf", "kubeconfigSecretRef": {"name": "kc", "key": "config"}},
        "workload": {"name": "cluster-density-v2", "iterations": 10},
        "prometheus": {"url": "http://127.0.0.1:9090"},
        "analysis": {"lookback": 30},
    },
    {
        "workload": {"name": "node-density"},
        "schedule": "@daily",
        "trigger": {"onNewVersion": True},
        "analysis": {
            "acknowledged": [{"metric": "readOnlyAPICallsLatency", "uuid": "u-8", "reason": "ok"}]
        },
    },
]


@pytest.mark.parametrize("raw", MINIMAL_SPECS)
def test_schema_defaults_do_not_change_what_the_operator_reads(raw: dict[str, Any]) -> None:
    spec_node = at(schema_of("perftests"), "spec")
    defaulted = apply_defaults(raw, spec_node)
    assert defaulted != raw  # the API server did fill something in
    assert schema_errors(spec_node, defaulted) == []
    assert parse_perftest_spec(defaulted) == parse_perftest_spec(raw)


def accepts(node: Mapping[str, Any], value: Any) -> bool:
    return not schema_errors(node, value)


def parser_accepts(parse: Callable[[], Any]) -> bool:
    try:
        parse()
    except SpecError:
        return False
    return True


def test_every_known_workload_name_fits_the_schema() -> None:
    node = at(schema_of("perftests"), "spec.workload.name")
    names = sorted(load_contract().workloads)
    assert [name for name in names if not accepts(node, name)] == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ_09.-:/ $", min_size=0, max_size=12))
def test_metric_name_pattern_accepts_what_the_operator_accepts(name: str) -> None:
    node = at(schema_of("perftests"), "spec.metrics[].name")
    parsed = parser_accepts(lambda: parse_metric({"name": name, "query": "up"}, "spec.metrics[0]"))
    if name == name.strip():  # the operator strips blanks; the API server does not
        assert accepts(node, name) == parsed


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab09-_.A", min_size=0, max_size=8),
        st.integers(min_value=60, max_value=66).map(lambda n: "a" * n),
    )
)
def test_namespace_pattern_accepts_what_the_operator_accepts(namespace: str) -> None:
    node = at(schema_of("perftests"), "spec.target.namespace")
    parsed = parser_accepts(lambda: parse_target({"namespace": namespace}))
    assert accepts(node, namespace) == parsed


DURATION_PATHS = ("spec.workload.timeout", "spec.prometheus.step", "spec.prometheus.queryTimeout")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["0", "1", "15", "1.5", ".", "5.", "ms", "s", "m", "h", "d", "us", "x", " "]
        ),
        max_size=6,
    ).map("".join)
)
def test_duration_pattern_accepts_what_the_operator_parses(text: str) -> None:
    try:
        parse_duration(text)
        parsed = True
    except ValueError:
        parsed = False
    for path in DURATION_PATHS:
        if text == text.strip():
            assert accepts(at(schema_of("perftests"), path), text) == parsed, path


# --- samples ---------------------------------------------------------------------------------------


def sample_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                documents.append((path.name, doc))
    return documents


def test_there_is_a_sample_for_cluster_density_and_node_density() -> None:
    workloads = {doc["spec"]["workload"].get("name") for _, doc in sample_documents()}
    assert {"cluster-density-v2", "node-density"} <= workloads


@pytest.mark.parametrize(
    ("file", "doc"), sample_documents(), ids=[file for file, _ in sample_documents()]
)
def test_sample_is_valid_for_the_api_server_and_the_operator(
    file: str, doc: dict[str, Any]
) -> None:
    assert doc["apiVersion"] == API_VERSION
    assert doc["kind"] == "PerfTest"
    schema = schema_of("perftests")
    assert schema_errors(schema, doc) == []
    assert unknown_fields(doc, schema) == []
    stored = apply_defaults(doc, schema)
    assert schema_errors(schema, stored) == []
    assert parse_perftest_spec(stored["spec"]) == parse_perftest_spec(doc["spec"])


# --- invalid specs ---------------------------------------------------------------------------------


def valid_spec() -> dict[str, Any]:
    return {
        "target": {"platform": "AWS", "kubeconfigSecretRef": {"name": "kc", "key": "kubeconfig"}},
        "workload": {"name": "cluster-density-v2", "iterations": 10, "qps": 20, "burst": 20},
        "prometheus": {"url": "http://127.0.0.1:9090", "step": "30s"},
        "metrics": [{"name": "readOnlyAPICallsLatency", "query": "up", "threshold": 10}],
        "analysis": {
            "minHistory": 5,
            "lookback": 50,
            "confirmRuns": 2,
            "acknowledged": [
                {"metric": "readOnlyAPICallsLatency", "run": "nightly-8", "reason": "kernel 570"}
            ],
        },
        "schedule": "30 2 * * *",
        "timeZone": "Europe/Berlin",
        "trigger": {"onNewVersion": True, "skipUnchanged": True},
        "concurrencyPolicy": "Forbid",
        "retries": 2,
        "history": {"keep": 50},
    }


def changed(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Sets (or, with value DROP, removes) the field at a dotted path; digits index lists."""

    def change(spec: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = spec
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        key: Any = int(last) if last.isdigit() else last
        if value is DROP:
            del node[key]
        else:
            node[key] = value

    return change


DROP = object()

# (id, change, path of the field the API server names, does the operator reject it too?)
INVALID_SPECS: list[tuple[str, Callable[[dict[str, Any]], None], str, bool]] = [
    ("unknown platform", changed("target.platform", "OpenStack"), "target.platform", True),
    ("kubeconfig ref without key", changed("target.kubeconfigSecretRef", {"name": "kc"}), "target.kubeconfigSecretRef", True),
    ("namespace not a DNS label", changed("target.namespace", "Perf_Runs"), "target.namespace", True),
    ("namespace too long", changed("target.namespace", "a" * 64), "target.namespace", True),
    ("missing workload", changed("workload", DROP), "", True),
    ("workload with name and configMapRef", changed("workload.configMapRef", {"name": "c", "key": "k"}), "workload", True),
    ("workload with neither", changed("workload.name", DROP), "workload", True),
    ("iterations 0", changed("workload.iterations", 0), "workload.iterations", True),
    ("iterations a string", changed("workload.iterations", "10"), "workload.iterations", True),
    ("qps negative", changed("workload.qps", -1), "workload.qps", True),
    ("burst above the maximum", changed("workload.burst", 100001), "workload.burst", False),
    ("empty image", changed("workload.image", ""), "workload.image", True),
    ("timeout not a duration", changed("workload.timeout", "1 hour"), "workload.timeout", True),
    ("extraArgs not strings", changed("workload.extraArgs", [1]), "workload.extraArgs.0", True),
    ("extraArgs too many", changed("workload.extraArgs", ["--x"] * 51), "workload.extraArgs", False),
    ("url not http", changed("prometheus.url", "ftp://prometheus"), "prometheus.url", True),
    ("step without a unit", changed("prometheus.step", "30"), "prometheus.step", True),
    ("insecureSkipVerify a string", changed("prometheus.insecureSkipVerify", "true"), "prometheus.insecureSkipVerify", True),
    ("token ref without name", changed("prometheus.bearerTokenSecretRef", {"key": "token"}), "prometheus.bearerTokenSecretRef", True),
    ("no metrics", changed("metrics", []), "metrics", True),
    ("too many metrics", changed("metrics", [{"name": f"m{i}", "query": "up"} for i in range(51)]), "metrics", False),
    ("metric with a blank query", changed("metrics.0.query", "  "), "metrics.0.query", True),
    ("metric without name", changed("metrics.0.name", DROP), "metrics.0", True),
    ("metric name with a space", changed("metrics.0.name", "read only"), "metrics.0.name", True),
    ("unknown aggregation", changed("metrics.0.aggregation", "median"), "metrics.0.aggregation", True),
    ("unknown overTime", changed("metrics.0.overTime", "median"), "metrics.0.overTime", True),
    ("labels a list", changed("metrics.0.labels", ["scope"]), "metrics.0.labels", True),
    ("label value a number", changed("metrics.0.labels", {"scope": 1}), "metrics.0.labels.scope", True),
    ("too many labels", changed("metrics.0.labels", {f"l{i}": "x" for i in range(21)}), "metrics.0.labels", False),
    ("unknown direction", changed("metrics.0.direction", "Up"), "metrics.0.direction", True),
    ("threshold 2000", changed("metrics.0.threshold", 2000), "metrics.0.threshold", True),
    ("threshold negative", changed("metrics.0.threshold", -1), "metrics.0.threshold", True),
    ("minHistory 1", changed("analysis.minHistory", 1), "analysis.minHistory", False),
    ("lookback 0", changed("analysis.lookback", 0), "analysis.lookback", True),
    ("suspend a string", changed("suspend", "yes"), "suspend", True),
    ("schedule with 4 fields", changed("schedule", "30 2 * *"), "schedule", True),
    ("schedule with a seconds field", changed("schedule", "0 30 2 * * *"), "schedule", True),
    ("schedule an unknown macro", changed("schedule", "@fortnightly"), "schedule", True),
    ("schedule empty", changed("schedule", ""), "schedule", True),
    ("time zone not a name", changed("timeZone", "Europe/Berlin time"), "timeZone", True),
    ("trigger flag a string", changed("trigger.onNewVersion", "true"), "trigger.onNewVersion", True),
    ("skipUnchanged a number", changed("trigger.skipUnchanged", 1), "trigger.skipUnchanged", True),
    ("unknown concurrency policy", changed("concurrencyPolicy", "Queue"), "concurrencyPolicy", True),
    ("retries negative", changed("retries", -1), "retries", True),
    ("retries above 10", changed("retries", 11), "retries", True),
    ("confirmRuns above 5", changed("analysis.confirmRuns", 6), "analysis.confirmRuns", True),
    ("confirmRuns negative", changed("analysis.confirmRuns", -1), "analysis.confirmRuns", True),
    ("keep 0", changed("history.keep", 0), "history.keep", True),
    ("keep above 10000", changed("history.keep", 10001), "history.keep", True),
    ("acknowledged with run and uuid", changed("analysis.acknowledged.0.uuid", "u-8"), "analysis.acknowledged.0", True),
    ("acknowledged with neither", changed("analysis.acknowledged.0.run", DROP), "analysis.acknowledged.0", True),
    ("acknowledged without reason", changed("analysis.acknowledged.0.reason", DROP), "analysis.acknowledged.0", True),
    ("acknowledged with a blank reason", changed("analysis.acknowledged.0.reason", " "), "analysis.acknowledged.0.reason", True),
    ("acknowledged metric with a space", changed("analysis.acknowledged.0.metric", "read only"), "analysis.acknowledged.0.metric", True),
    ("acknowledged not a list", changed("analysis.acknowledged", {"metric": "x"}), "analysis.acknowledged", True),
]  # fmt: skip


def test_the_valid_spec_of_the_invalid_table_is_valid() -> None:
    spec = valid_spec()
    assert schema_errors(at(schema_of("perftests"), "spec"), spec) == []
    parse_perftest_spec(spec)


@pytest.mark.parametrize(
    ("change", "field", "operator_rejects"),
    [case[1:] for case in INVALID_SPECS],
    ids=[case[0] for case in INVALID_SPECS],
)
def test_invalid_spec_is_rejected_by_the_schema(
    change: Callable[[dict[str, Any]], None], field: str, operator_rejects: bool
) -> None:
    spec = valid_spec()
    change(spec)
    errors = schema_errors(at(schema_of("perftests"), "spec"), spec)
    assert errors, "the schema accepted it"
    assert field in {path for path, _ in errors}, errors
    # Where the schema is stricter than the operator (bounds, types the parser coerces), the
    # operator reads the value; everywhere else both refuse it.
    assert parser_accepts(lambda: parse_perftest_spec(spec)) is not operator_rejects


# Rules that the OpenAPI schema cannot say: CEL rules (the real API server runs them; the
# emulator and these tests do not) or the operator's own checks (it sets Ready=False, InvalidSpec).
LEFT_TO_CEL_OR_THE_OPERATOR: list[tuple[str, Callable[[dict[str, Any]], None], str | None]] = [
    ("token ref and service account token", changed("prometheus.useServiceAccountToken", True), "prometheus"),
    ("lookback below minHistory", changed("analysis.lookback", 3), "analysis"),
    ("unknown workload name", changed("workload.name", "cluster-density-v9"), None),
    ("metric without query or kubeBurner", changed("metrics.0.query", DROP), "metrics[]"),
    ("zero timeout", changed("workload.timeout", "0s"), None),
    ("url with a bad port", changed("prometheus.url", "http://prometheus:port"), None),
    ("duplicate metric names", changed("metrics", [{"name": "a", "query": "up"}] * 2), None),
    ("overTime avg with aggregation last", changed("metrics.0", {"name": "a", "query": "up", "aggregation": "last", "overTime": "avg"}), "metrics[]"),
    ("a label name with a dash", changed("metrics.0.labels", {"api-scope": "cluster"}), "metrics[].labels"),
    ("cron minute 61", changed("schedule", "61 2 * * *"), None),
    ("unknown time zone", changed("timeZone", "Mars/Olympus"), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "cel_node"),
    [case[1:] for case in LEFT_TO_CEL_OR_THE_OPERATOR],
    ids=[case[0] for case in LEFT_TO_CEL_OR_THE_OPERATOR],
)
def test_rules_beyond_openapi_are_kept_by_cel_or_the_operator(
    change: Callable[[dict[str, Any]], None], cel_node: str | None
) -> None:
    spec = valid_spec()
    spec["prometheus"]["bearerTokenSecretRef"] = {"name": "prom", "key": "token"}
    spec_node = at(schema_of("perftests"), "spec")
    assert schema_errors(spec_node, spec) == []
    parse_perftest_spec(spec)
    change(spec)
    assert schema_errors(spec_node, spec) == []
    with pytest.raises(SpecError):
        # What the operator checks at reconcile: the spec, then the contract of its version.
        check_workload(parse_perftest_spec(spec).workload)
    if cel_node is not None:
        assert at(spec_node, cel_node)["x-kubernetes-validations"]


def test_duplicate_metric_names_are_refused_by_the_list_map_keys() -> None:
    metrics = at(schema_of("perftests"), "spec.metrics")
    assert metrics["x-kubernetes-list-type"] == "map"
    assert metrics["x-kubernetes-list-map-keys"] == ["name"]


def test_workload_cel_rule_and_oneof_say_the_same() -> None:
    workload = at(schema_of("perftests"), "spec.workload")
    (rule,) = workload["x-kubernetes-validations"]
    assert rule["rule"] == "has(self.name) != has(self.configMapRef)"
    assert workload["oneOf"] == [{"required": ["name"]}, {"required": ["configMapRef"]}]


def test_acknowledged_cel_rule_and_oneof_say_the_same() -> None:
    item = at(schema_of("perftests"), "spec.analysis.acknowledged[]")
    (rule,) = item["x-kubernetes-validations"]
    assert rule["rule"] == "has(self.run) != has(self.uuid)"
    assert item["oneOf"] == [{"required": ["run"]}, {"required": ["uuid"]}]
    assert item["required"] == ["metric", "reason"]


CRON_FIELDS = ["0", "5", "30", "61", "*", "*/5", "1-5", "1,15", "mon", "L", "x", "@daily"]
MACROS = ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@every", "@Daily", "@"]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.sampled_from(MACROS),
        st.lists(st.sampled_from(CRON_FIELDS), min_size=4, max_size=6).map(" ".join),
        st.lists(st.sampled_from(CRON_FIELDS), min_size=5, max_size=5).map("\t ".join),
    )
)
def test_schedule_pattern_accepts_every_schedule_the_operator_accepts(text: str) -> None:
    try:
        parse_cron(text)
    except ValueError:
        return
    if text == text.strip():  # the operator strips blanks; the API server does not
        assert accepts(at(schema_of("perftests"), "spec.schedule"), text), text


def test_time_zone_pattern_accepts_every_time_zone_the_operator_accepts() -> None:
    node = at(schema_of("perftests"), "spec.timeZone")
    zones = sorted(zoneinfo.available_timezones())
    assert len(zones) > 300
    usable = [zone for zone in zones if parser_accepts(lambda z=zone: parse_time_zone(z))]
    assert "Europe/Berlin" in usable
    assert [zone for zone in usable if not accepts(node, zone)] == []


# --- PerfRuns and the status the operator writes --------------------------------------------------


def a_perftest() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "PerfTest",
        "metadata": {"name": "nightly", "namespace": "perf", "uid": "u-1", "generation": 3},
        "spec": valid_spec(),
    }


@pytest.mark.parametrize(
    ("trigger", "links"),
    [
        (Trigger.SPEC_CHANGED, {}),
        (Trigger.SCHEDULED, {}),
        (Trigger.RETRY, {"retry_of": "nightly-6"}),
        (Trigger.CONFIRM, {"confirms": "nightly-6"}),
    ],
)
def test_the_perfrun_the_operator_creates_is_valid(trigger: Trigger, links: dict[str, str]) -> None:
    run = build_perfrun(a_perftest(), 7, trigger, "label", **links)
    schema = schema_of("perfruns")
    assert schema_errors(schema, run) == []
    assert unknown_fields(run, schema) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({}, ""),
        ({"testName": "Nightly_Test"}, "testName"),
        ({"testName": "nightly", "trigger": "Cron"}, "trigger"),
        ({"testName": "nightly", "testGeneration": -1}, "testGeneration"),
        ({"testName": "nightly", "retryOf": "Nightly_6"}, "retryOf"),
        ({"testName": "nightly", "confirms": ""}, "confirms"),
    ],
)
def test_invalid_perfrun_spec_is_rejected(spec: dict[str, Any], field: str) -> None:
    errors = schema_errors(at(schema_of("perfruns"), "spec"), spec)
    assert field in {path for path, _ in errors}, errors


# readOnlyAPICallsLatency of OpenShift 4.19 nightlies (seconds): a week at ~0.98, then 3.98.
STORY = [0.984, 0.984, 0.984, 0.976, 0.984, 0.984, 0.9, 3.98]


def verdict_of(values: list[float], *, first_day: int = 1) -> dict[str, Any]:
    """The verdict the analysis writes for nightly readOnlyAPICallsLatency values, as in a status."""
    history = [
        RunPoint(
            run=f"nightly-{i + 1}",
            time=f"2025-01-{i + first_day:02d}T03:00:00Z",
            values={"readOnlyAPICallsLatency": value},
        )
        for i, value in enumerate(values)
    ]
    metrics = (MetricSpec(name="readOnlyAPICallsLatency", query="up", unit="s"),)
    return dict(verdict_to_status(evaluate_history(history, metrics, AnalysisSettings())))


def story_verdict() -> dict[str, Any]:
    """The verdict the analysis writes for the story's history, as it goes into a status."""
    status = verdict_of(STORY, first_day=8)
    assert status["changePoints"], "the story needs a change point for the schema to check one"
    return status


def acknowledged_story_verdict() -> dict[str, Any]:
    """The story's verdict when people acknowledged its change point."""
    history = [
        RunPoint(run=f"nightly-{i + 1}", time=f"2025-01-{i + 8:02d}T03:00:00Z", values={"m": v})
        for i, v in enumerate(STORY)
    ]
    ack = Acknowledgement("m", run="nightly-8", uuid=None, reason="kernel 570, accepted")
    settings = AnalysisSettings(acknowledged=(ack,))
    status = dict(verdict_to_status(evaluate_history(history, [MetricSpec("m", "up")], settings)))
    assert status["changePoints"][0]["acknowledged"] == "kernel 570, accepted"
    return status


@pytest.mark.parametrize("plural", PLURALS)
@pytest.mark.parametrize("make_verdict", [story_verdict, acknowledged_story_verdict])
def test_verdict_as_the_analysis_writes_it_is_valid_and_kept(
    plural: str, make_verdict: Callable[[], dict[str, Any]]
) -> None:
    verdict = make_verdict()
    node = at(schema_of(plural), "status.verdict")
    assert schema_errors(node, verdict) == []
    assert unknown_fields(verdict, node) == []


def run_conditions(*entries: tuple[RunCondition, str, str]) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = []
    for type_, status, reason in entries:
        conditions = set_condition(
            conditions,
            type_.value,
            status,
            reason,
            f"{type_.value} is {status}",
            generation=3,
            now=NOW,
        )
    return conditions


def finished_run() -> dict[str, Any]:
    run = build_perfrun(a_perftest(), 8, Trigger.RUN_NOW, "run-now-0123456789abcdef")
    run["status"] = {
        "phase": RunPhase.SUCCEEDED.value,
        "reason": "Regression",
        "message": "readOnlyAPICallsLatency +304.5%",
        "conditions": run_conditions(
            (RunCondition.JOB_COMPLETED, TRUE, OutcomeReason.SUCCEEDED.value),
            (RunCondition.METRICS_COLLECTED, TRUE, Reason.COLLECTED.value),
            (RunCondition.ANALYZED, TRUE, "Regression"),
        ),
        "testGeneration": 3,
        "job": {"name": "nightly-8", "namespace": "perf"},
        "configMap": "nightly-8",
        "startTime": "2025-01-15T03:00:00Z",
        "completionTime": "2025-01-15T03:42:10Z",
        "duration": "42m10s",
        "exitCode": 0,
        "values": {"readOnlyAPICallsLatency": 3.98, "mutatingAPICallsLatency": 0.5},
        "missingMetrics": [],
        "collectAttempts": 1,
        "nextCollectTime": None,
        "verdict": story_verdict(),
        "specFingerprint": spec_fingerprint(valid_spec()),
        "whatChanged": describe_changes(
            {"target": {"kernelVersion": "5.14.0-427"}, "specFingerprint": "0" * 16},
            {"target": {"kernelVersion": "5.14.0-570"}, "specFingerprint": "1" * 16},
        ),
        "confirmation": {
            "state": ConfirmationState.CONFIRMED.value,
            "runs": ["nightly-9", "nightly-10"],
        },
    }
    assert len(run["status"]["whatChanged"]) == 2
    return run


def running_run() -> dict[str, Any]:
    run = build_perfrun(a_perftest(), 9, Trigger.SPEC_CHANGED, "generation-3")
    run["status"] = {
        "phase": RunPhase.RUNNING.value,
        "reason": Reason.JOB_RUNNING.value,
        "message": "Job perf/nightly-9 started",
        "conditions": run_conditions(
            (RunCondition.JOB_COMPLETED, UNKNOWN, Reason.JOB_RUNNING.value)
        ),
        "testGeneration": 3,
        "job": {"name": "nightly-9", "namespace": "perf"},
        "configMap": "nightly-9",
    }
    return run


@pytest.mark.parametrize("make_run", [finished_run, running_run])
def test_perfrun_status_as_the_operator_writes_it_is_valid_and_kept(
    make_run: Callable[[], dict[str, Any]],
) -> None:
    run = drop_nulls(make_run())
    schema = schema_of("perfruns")
    assert schema_errors(schema, run) == []
    assert unknown_fields(run, schema) == []


def test_perftest_status_as_the_operator_writes_it_is_valid_and_kept() -> None:
    test = a_perftest()
    status = build_test_status(
        test,
        [finished_run(), running_run()],
        ready=(TRUE, Reason.SPEC_VALID.value, "the spec is valid"),
        now=NOW,
    )
    test["status"] = drop_nulls(status)
    assert {c["type"] for c in test["status"]["conditions"]} == {c.value for c in PerfTestCondition}
    assert test["status"]["lastRun"]["name"] == "nightly-8"
    schema = schema_of("perftests")
    assert schema_errors(schema, test) == []
    assert unknown_fields(test, schema) == []


def test_status_schema_refuses_a_condition_without_reason() -> None:
    test = a_perftest()
    (condition,) = run_conditions((RunCondition.ANALYZED, TRUE, "Pass"))
    del condition["reason"]
    test["status"] = {"conditions": [condition]}
    errors = schema_errors(schema_of("perftests"), test)
    assert ("status.conditions.0", "'reason' is a required property") in errors


def test_every_reason_the_operator_uses_fits_the_condition_reason_pattern() -> None:
    node = at(schema_of("perfruns"), "status.conditions[].reason")
    reasons = [r.value for r in Reason] + [r.value for r in OutcomeReason]
    assert [reason for reason in reasons if not accepts(node, reason)] == []


def test_every_verdict_result_fits_the_condition_reason_pattern() -> None:
    node = at(schema_of("perfruns"), "status.conditions[].reason")
    values = [result.value for result in VerdictResult]
    assert [value for value in values if not accepts(node, value)] == []


def test_condition_types_fit_the_condition_type_pattern() -> None:
    node = at(schema_of("perftests"), "status.conditions[].type")
    types = [c.value for c in PerfTestCondition] + [c.value for c in RunCondition]
    assert [type_ for type_ in types if not accepts(node, type_)] == []


# --- the crds/ folder and the kustomize base -------------------------------------------------------


def test_crds_folder_holds_only_crds_for_kubectl_apply() -> None:
    """`kubectl apply -f crds/` reads every .yaml/.yml/.json file there: they must all be CRDs."""
    manifests = sorted(p for p in CRDS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert [p.name for p in manifests] == sorted(f"{plural}.{GROUP}.yaml" for plural in PLURALS)
    kustomization = yaml.safe_load((CRDS / "Kustomization").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in manifests]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # as the emulator tests do (see .ci/run)
        pytest.skip("needs kubectl to render manifests/base with its built-in kustomize")
    result = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def the_one(
    rendered: list[dict[str, Any]], kind: str, name: str = "perftest-operator"
) -> dict[str, Any]:
    (found,) = [d for d in rendered if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


# Bound in perftest-runs by default: not the workloads that read every Secret (runner.rbac).
SAMPLE_WORKLOADS = (
    "node-density",
    "node-density-cni",
    "node-density-heavy",
    "custom",
)


def test_base_renders_every_piece_once(rendered: list[dict[str, Any]]) -> None:
    assert sorted((doc["kind"], doc["metadata"]["name"]) for doc in rendered) == sorted(
        [
            ("Namespace", "perftest-system"),
            ("CustomResourceDefinition", f"perftests.{GROUP}"),
            ("CustomResourceDefinition", f"perfruns.{GROUP}"),
            ("ServiceAccount", "perftest-operator"),
            ("ClusterRole", "perftest-operator"),
            ("ClusterRoleBinding", "perftest-operator"),
            ("Deployment", "perftest-operator"),
            ("Service", "perftest-operator-metrics"),
            ("PodDisruptionBudget", "perftest-operator"),
            # kopf peering (manifests/base/kopf-peering-crds.yaml, peering.yaml, clusterrole-peering.yaml)
            ("CustomResourceDefinition", "clusterkopfpeerings.kopf.dev"),
            ("CustomResourceDefinition", "kopfpeerings.kopf.dev"),
            ("ClusterKopfPeering", "perftest-operator"),
            ("ClusterRole", "perftest-operator-peering"),
            ("ClusterRoleBinding", "perftest-operator-peering"),
            # The hub Jobs' account in the run namespace perftest-runs, bound to the samples'
            # workloads' roles; every workload's role (manifests/kube-burner)
            ("Namespace", "perftest-runs"),
            ("ServiceAccount", "perftest-kube-burner"),
            # ... and what confines that account to the namespaces kube-burner creates
            ("ValidatingAdmissionPolicy", "perftest-kube-burner-confinement"),
            ("ValidatingAdmissionPolicyBinding", "perftest-kube-burner-confinement"),
            *[
                ("ClusterRoleBinding", f"perftest-kube-burner-{workload}-perftest-runs")
                for workload in SAMPLE_WORKLOADS
            ],
            *[
                ("ClusterRole", role["metadata"]["name"])
                for role in shipped_cluster_roles(load_contract())
            ],
        ]
    )


def test_base_ships_the_crds_unchanged(rendered: list[dict[str, Any]]) -> None:
    for plural in PLURALS:
        (crd,) = [d for d in rendered if d["metadata"]["name"] == f"{plural}.{GROUP}"]
        assert crd == load_crd(plural)


def test_base_puts_namespaced_objects_in_perftest_system(rendered: list[dict[str, Any]]) -> None:
    for kind in ("ServiceAccount", "Deployment", "PodDisruptionBudget"):
        assert the_one(rendered, kind)["metadata"]["namespace"] == "perftest-system"
    for kind in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"):
        assert all("namespace" not in d["metadata"] for d in rendered if d["kind"] == kind)


def granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


def grants(group: str, resources: list[str], verbs: list[str]) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for resource in resources for verb in verbs}


# What the operator does on its own cluster (see manifests/base/clusterrole.yaml for why).
# tests/unit/test_rbac_matches_code.py derives the same set from the code's API calls.
# What the role grants is derived from the operator's code: tests/unit/test_rbac_matches_code.py.


def test_cluster_role_has_no_wildcards_names_or_paths(
    rendered: list[dict[str, Any]],
) -> None:
    rules = the_one(rendered, "ClusterRole")["rules"]
    assert all("resourceNames" not in rule and "nonResourceURLs" not in rule for rule in rules)
    permissions = granted(rules)
    assert all("*" not in permission for permission in permissions)


# kopf peering, in a ClusterRole of its own (manifests/base/clusterrole-peering.yaml): every
# ClusterKopfPeering is listed and watched, only the operator's own is read and patched.
PEERING_PERMISSIONS = grants("kopf.dev", ["clusterkopfpeerings"], ["get", "list", "watch", "patch"])


def test_peering_role_grants_kopf_peering_and_no_more(rendered: list[dict[str, Any]]) -> None:
    rules = the_one(rendered, "ClusterRole", "perftest-operator-peering")["rules"]
    assert granted(rules) == PEERING_PERMISSIONS
    peering = the_one(rendered, "ClusterKopfPeering")["metadata"]["name"]
    assert all(rule.get("resourceNames", [peering]) == [peering] for rule in rules)


def test_cluster_role_never_lists_secrets(rendered: list[dict[str, Any]]) -> None:
    permissions = granted(the_one(rendered, "ClusterRole")["rules"])
    assert {verb for group, resource, verb in permissions if resource == "secrets"} == {"get"}


def test_binding_gives_the_role_to_the_deployments_service_account(
    rendered: list[dict[str, Any]],
) -> None:
    binding = the_one(rendered, "ClusterRoleBinding")
    account = the_one(rendered, "ServiceAccount")
    pod = the_one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": the_one(rendered, "ClusterRole")["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def operator_container(rendered: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = the_one(rendered, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_deployment_runs_two_peered_operators_with_the_dev_image(
    rendered: list[dict[str, Any]],
) -> None:
    deployment = the_one(rendered, "Deployment")
    assert deployment["spec"]["replicas"] == 2  # one active, one standby: kopf peering
    args = build_parser().parse_args(operator_container(rendered)["args"])
    assert args.peering == the_one(rendered, "ClusterKopfPeering")["metadata"]["name"]
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= template_labels.items()
    assert operator_container(rendered)["image"] == "perftest-operator:dev"


def test_deployment_command_is_one_the_cli_accepts(rendered: list[dict[str, Any]]) -> None:
    container = operator_container(rendered)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert container["command"] == ["perftest"]
    assert "perftest" in pyproject["project"]["scripts"]
    args = build_parser().parse_args(container["args"])
    assert args.command == "run"
    assert args.liveness == "http://0.0.0.0:8080/healthz"


def test_probes_ask_the_liveness_endpoint_the_operator_serves(
    rendered: list[dict[str, Any]],
) -> None:
    container = operator_container(rendered)
    liveness = urllib.parse.urlparse(build_parser().parse_args(container["args"]).liveness)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
        assert (port, get["path"]) == (liveness.port, liveness.path), probe


def test_deployment_settings_are_ones_the_operator_reads(rendered: list[dict[str, Any]]) -> None:
    env = {item["name"]: item["value"] for item in operator_container(rendered)["env"]}
    assert env and all(name.startswith(PREFIX) for name in env)

    class RecordingEnv(dict[str, str]):
        """An environment that remembers which variables were asked for."""

        def __init__(self, values: Mapping[str, str]) -> None:
            super().__init__(values)
            self.asked: set[str] = set()

        def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
            self.asked.add(key)
            return super().get(key, default)

    recorded = RecordingEnv(env)
    load_settings(recorded)
    assert sorted(set(env) - recorded.asked) == []


def test_deployment_meets_the_restricted_pod_security_standard(
    rendered: list[dict[str, Any]],
) -> None:
    pod = the_one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert (
        the_one(rendered, "Namespace", "perftest-system")["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        == "restricted"
    )
    assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert all(
        set(volume) <= {"name", "emptyDir", "configMap", "secret", "projected"}
        for volume in pod.get("volumes", [])
    )
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context.get("privileged", False) is False
        assert context["readOnlyRootFilesystem"] is True
        assert context.get("runAsNonRoot", True) is True


def test_patterns_use_only_syntax_that_go_understands() -> None:
    """The schema's patterns are meant for Go's RE2; they must not rely on Python-only syntax."""
    for plural in PLURALS:
        for path, node in iter_nodes(schema_of(plural)):
            pattern = node.get("pattern")
            if pattern is not None:
                re.compile(pattern)
                assert not re.search(r"\(\?[=!<]|\\[1-9]", pattern), (
                    f"{path}: lookaround or backreference"
                )
