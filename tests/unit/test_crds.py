"""The CRDs: names, columns, structural schemas, and their agreement with the operator's models,
its parsers and the objects it writes. The helpers that read a schema as an API server does are in
crd_schema.py; the objects the operator writes in stories.py."""

from __future__ import annotations

import dataclasses
import enum
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from crd_schema import (
    CRDS,
    PLURALS,
    accepts,
    apply_defaults,
    at,
    cel_errors,
    drop_nulls,
    iter_nodes,
    list_type_errors,
    load_crd,
    root_metadata_violations,
    schema_errors,
    schema_of,
    structural_violations,
    the_version,
    unknown_fields,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from stories import (
    NOW,
    a_perftest,
    acknowledged_story_verdict,
    finished_run,
    run_conditions,
    running_run,
    story_verdict,
    valid_spec,
)

from perftest_operator import GROUP
from perftest_operator.analysis.verdict import VerdictResult
from perftest_operator.api.conditions import FALSE, TRUE, UNKNOWN
from perftest_operator.api.durations import parse_duration
from perftest_operator.api.errors import SpecError
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
from perftest_operator.api.spec import (
    DEFAULT_QUERY_TIMEOUT,
    DEFAULT_STEP,
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
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.command import check_workload
from perftest_operator.runner.outcome import OutcomeReason, WindowSource

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
    ("duplicate metric names", changed("metrics", [{"name": "a", "query": "up"}, {"name": "a", "query": "max(up)"}]), "metrics.1", True),
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
    assert cel_errors(at(schema_of("perftests"), "spec"), spec) == []
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
# emulator does not) or the operator's own checks only (it sets Ready=False, InvalidSpec); the
# last column names the node whose CEL rule refuses it, None where only the operator does.
LEFT_TO_CEL_OR_THE_OPERATOR: list[tuple[str, Callable[[dict[str, Any]], None], str | None]] = [
    ("token ref and service account token", changed("prometheus.useServiceAccountToken", True), "prometheus"),
    ("lookback below minHistory", changed("analysis.lookback", 3), "analysis"),
    ("unknown workload name", changed("workload.name", "cluster-density-v9"), None),
    ("metric without query or kubeBurner", changed("metrics.0.query", DROP), "metrics[]"),
    ("zero timeout", changed("workload.timeout", "0s"), None),
    ("url with a bad port", changed("prometheus.url", "http://prometheus:port"), None),
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
    assert schema_errors(spec_node, spec) == cel_errors(spec_node, spec) == []
    parse_perftest_spec(spec)
    change(spec)
    assert schema_errors(spec_node, spec) == []
    with pytest.raises(SpecError):
        # What the operator checks at reconcile: the spec, then the contract of its version.
        check_workload(parse_perftest_spec(spec).workload)
    refused_at = {re.sub(r"\.\d+", "[]", path) for path, _ in cel_errors(spec_node, spec)}
    assert refused_at == ({cel_node} if cel_node else set())


def test_list_type_check_refuses_a_repeated_key_or_item_once_at_its_second_place() -> None:
    """The uniqueness schema_errors adds to jsonschema, as listtype/validation.go has it."""
    keyed = {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["a"]}
    assert list_type_errors(keyed, [{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 1}, {"a": 2}]) == [
        ("1", 'Duplicate value: {"a": 1}')
    ]
    assert list_type_errors(keyed, [{"b": 1}, {"b": 2}]) == [("1", "Duplicate value: {}")]
    assert list_type_errors(keyed, ["x", "x"]) == []  # not objects: the schema's type error
    a_set = {"type": "array", "x-kubernetes-list-type": "set"}
    assert list_type_errors(a_set, [1, 2, 1]) == [("2", "Duplicate value: 1")]
    assert list_type_errors({"type": "array"}, [1, 1]) == []  # atomic: anything goes
    nested = {"type": "object", "properties": {"list": keyed}}
    assert list_type_errors(nested, {"list": [{"a": 1}, {"a": 1}]}) == [
        ("list.1", 'Duplicate value: {"a": 1}')
    ]


def test_status_schema_refuses_two_conditions_of_one_type() -> None:
    run = running_run()
    (condition,) = run["status"]["conditions"]
    run["status"]["conditions"].append({**condition, "status": FALSE})
    assert schema_errors(schema_of("perfruns"), run) == [
        ("status.conditions.1", 'Duplicate value: {"type": "JobCompleted"}')
    ]


@pytest.mark.parametrize(
    ("path", "one", "other", "rest"),
    [
        ("spec.workload", "name", "configMapRef", {}),
        ("spec.analysis.acknowledged[]", "run", "uuid", {"metric": "m", "reason": "ok"}),
    ],
)
def test_an_exactly_one_of_cel_rule_and_the_schema_accept_the_same_objects(
    path: str, one: str, other: str, rest: dict[str, Any]
) -> None:
    """The schema says it for clients that read OpenAPI (kubectl explain, editors), the CEL
    rule for the API server's message; both must accept exactly one of the two fields."""
    node = at(schema_of("perftests"), path)
    values = {"name": "x", "configMapRef": {"name": "c", "key": "k"}, "run": "nightly-8"}
    values["uuid"] = "u-8"
    for fields in ([], [one], [other], [one, other]):
        value = {**rest, **{field: values[field] for field in fields}}
        by_cel = cel_errors(node, value) == []
        by_schema = not [e for e in schema_errors(node, value) if e[0] == ""]
        assert by_cel == by_schema == (len(fields) == 1), (fields, by_cel, by_schema)


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


@pytest.mark.parametrize("plural", PLURALS)
@pytest.mark.parametrize("make_verdict", [story_verdict, acknowledged_story_verdict])
def test_verdict_as_the_analysis_writes_it_is_valid_and_kept(
    plural: str, make_verdict: Callable[[], dict[str, Any]]
) -> None:
    verdict = make_verdict()
    node = at(schema_of(plural), "status.verdict")
    assert schema_errors(node, verdict) == []
    assert unknown_fields(verdict, node) == []


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


# --- the crds/ folder -------------------------------------------------------------------------------


def test_crds_folder_holds_only_crds_for_kubectl_apply() -> None:
    """`kubectl apply -f crds/` reads every .yaml/.yml/.json file there: they must all be CRDs."""
    manifests = sorted(p for p in CRDS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert [p.name for p in manifests] == sorted(f"{plural}.{GROUP}.yaml" for plural in PLURALS)
    kustomization = yaml.safe_load((CRDS / "Kustomization").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in manifests]


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
