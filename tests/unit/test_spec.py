"""PerfTest spec parsing: defaults, and a SpecError naming the field for what the operator cannot use."""

from __future__ import annotations

from typing import Any

import pytest

from perftest_operator.api.default_kpis import (
    DEFAULT_METRICS,
    MUTATING_API_CALLS_LATENCY,
    READ_ONLY_API_CALLS_LATENCY,
)
from perftest_operator.api.errors import SpecError
from perftest_operator.api.kpi import Aggregation, Direction, OverTime
from perftest_operator.api.spec import (
    Acknowledgement,
    AnalysisSettings,
    ConcurrencyPolicy,
    HistorySettings,
    Platform,
    Schedule,
    TriggerSettings,
    parse_perftest_spec,
)

MINIMAL: dict[str, Any] = {
    "workload": {"name": "cluster-density-v2"},
    "prometheus": {"url": "https://thanos-querier.openshift-monitoring.svc:9091"},
}


NAMESPACE = (("scope", "namespace"),)
CLUSTER = (("scope", "cluster"),)


def with_changes(**changes: Any) -> dict[str, Any]:
    spec = {key: dict(value) for key, value in MINIMAL.items()}
    for key, value in changes.items():
        spec[key] = value
    return spec


def test_minimal_spec_gets_the_documented_defaults() -> None:
    spec = parse_perftest_spec(MINIMAL)
    assert spec.target.platform is Platform.AUTO
    assert spec.target.namespace is None
    # The operator's runner image and pinned kube-burner-ocp version; a timeout the runner
    # derives from the workload (runner.command).
    assert (spec.workload.image, spec.workload.version) == (None, None)
    assert spec.workload.timeout_seconds is None
    assert spec.workload.churn is None
    assert spec.prometheus.step_seconds == 30
    assert spec.prometheus.insecure_skip_verify is False
    assert spec.metrics == DEFAULT_METRICS
    # kube-burner-ocp's report profile names, split by scope as Orion's configs split them
    assert [(m.name, m.over_time, m.aggregation, m.labels) for m in spec.metrics] == [
        ("avg-ro-apicalls-latency-namespace", OverTime.AVG, Aggregation.AVG, NAMESPACE),
        ("max-ro-apicalls-latency-namespace", OverTime.MAX, Aggregation.AVG, NAMESPACE),
        ("avg-ro-apicalls-latency-cluster", OverTime.AVG, Aggregation.AVG, CLUSTER),
        ("max-ro-apicalls-latency-cluster", OverTime.MAX, Aggregation.AVG, CLUSTER),
        ("avg-mutating-apicalls-latency", OverTime.AVG, Aggregation.AVG, ()),
        ("max-mutating-apicalls-latency", OverTime.MAX, Aggregation.AVG, ()),
        ("podReadyLatency", OverTime.MAX, Aggregation.MAX, ()),
    ]
    assert {m.query for m in spec.metrics[:4]} == {READ_ONLY_API_CALLS_LATENCY}
    assert {m.query for m in spec.metrics[4:6]} == {MUTATING_API_CALLS_LATENCY}
    assert {(m.unit, m.direction) for m in spec.metrics[:6]} == {("s", Direction.LOWER_IS_BETTER)}
    # kube-burner's own P99 Ready, read from the run's summary
    assert spec.metrics[6].kube_burner is not None and spec.metrics[6].unit == "ms"
    assert spec.analysis.min_history == 5


def test_minimal_spec_runs_only_when_asked_and_keeps_a_hundred_runs() -> None:
    spec = parse_perftest_spec(MINIMAL)
    assert spec.schedule is None
    assert spec.trigger == TriggerSettings(on_new_version=False, skip_unchanged=False)
    assert spec.concurrency_policy is ConcurrencyPolicy.FORBID
    assert spec.retries == 0
    assert spec.history == HistorySettings(keep=100)
    assert (spec.analysis.confirm_runs, spec.analysis.acknowledged) == (0, ())


def test_continuous_fields_are_parsed() -> None:
    spec = parse_perftest_spec(
        with_changes(
            schedule=" 30 2 * * * ",
            timeZone="Europe/Berlin",
            trigger={"onNewVersion": True, "skipUnchanged": True},
            concurrencyPolicy="Replace",
            retries=3,
            history={"keep": 30},
            analysis={
                "confirmRuns": 2,
                "acknowledged": [
                    {"metric": "readOnlyAPICallsLatency", "run": "nightly-8", "reason": "kernel"},
                    {"metric": "podReady", "uuid": "0b7c-11", "reason": "known"},
                ],
            },
        )
    )
    assert spec.schedule == Schedule(cron="30 2 * * *", time_zone="Europe/Berlin")
    assert spec.trigger == TriggerSettings(on_new_version=True, skip_unchanged=True)
    assert spec.concurrency_policy is ConcurrencyPolicy.REPLACE
    assert (spec.retries, spec.history.keep) == (3, 30)
    assert spec.analysis == AnalysisSettings(
        confirm_runs=2,
        acknowledged=(
            Acknowledgement("readOnlyAPICallsLatency", "nightly-8", None, "kernel"),
            Acknowledgement("podReady", None, "0b7c-11", "known"),
        ),
    )


def test_a_schedule_without_a_time_zone_is_in_utc() -> None:
    spec = parse_perftest_spec(with_changes(schedule="@daily"))
    assert spec.schedule == Schedule(cron="@daily", time_zone="UTC")


def test_full_spec_is_parsed_field_by_field() -> None:
    spec = parse_perftest_spec(
        {
            "target": {
                "platform": "ROSA",
                "namespace": "perf-runs",
                "kubeconfigSecretRef": {"name": "t", "key": "k"},
            },
            "workload": {
                "name": "node-density",
                "iterations": 3,
                "qps": 20,
                "burst": 40,
                "timeout": "1h30m",
                "extraArgs": ["--pods-per-node=50"],
            },
            "prometheus": {
                "url": "http://127.0.0.1:9090/",
                "bearerTokenSecretRef": {"name": "p", "key": "token"},
                "step": "15s",
            },
            "metrics": [
                {
                    "name": "podReady",
                    "query": "max(x)",
                    "aggregation": "p95",
                    "direction": "HigherIsBetter",
                    "threshold": 5,
                }
            ],
            "analysis": {"minHistory": 3, "lookback": 30},
            "suspend": True,
        }
    )
    assert spec.target.platform is Platform.ROSA
    assert (
        spec.target.kubeconfig_secret_ref is not None
        and spec.target.kubeconfig_secret_ref.key == "k"
    )
    assert (spec.workload.iterations, spec.workload.qps, spec.workload.burst) == (3, 20, 40)
    assert spec.workload.timeout_seconds == 5400
    assert spec.workload.extra_args == ("--pods-per-node=50",)
    assert spec.prometheus.url == "http://127.0.0.1:9090"
    assert spec.prometheus.step_seconds == 15
    [metric] = spec.metrics
    assert (metric.over_time, metric.aggregation, metric.direction, metric.threshold_percent) == (
        OverTime.P95,
        Aggregation.P95,
        Direction.HIGHER_IS_BETTER,
        5.0,
    )
    assert (spec.analysis.min_history, spec.analysis.lookback, spec.suspend) == (3, 30, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"workload": {"name": "cluster density"}}, "spec.workload.name"),
        ({"workload": {}}, "spec.workload"),
        (
            {"workload": {"name": "node-density", "configMapRef": {"name": "c", "key": "k"}}},
            "spec.workload",
        ),
        ({"workload": {"name": "node-density", "iterations": 0}}, "spec.workload.iterations"),
        ({"workload": {"name": "node-density", "timeout": "soon"}}, "spec.workload.timeout"),
        ({"workload": {"name": "node-density", "extraArgs": "--x"}}, "spec.workload.extraArgs"),
        ({"prometheus": {"url": "not a url"}}, "spec.prometheus.url"),
        ({"prometheus": {"url": "ftp://host/"}}, "spec.prometheus.url"),
        ({"prometheus": {"url": "http://host:99999/"}}, "spec.prometheus.url"),
        ({"metrics": [{"name": "x"}]}, "spec.metrics[0]"),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "query": "up",
                        "kubeBurner": {
                            "metricName": "podLatencyQuantilesMeasurement",
                            "quantileName": "Ready",
                        },
                    }
                ]
            },
            "spec.metrics[0]",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "kubeBurner": {"metricName": "podLatency", "quantileName": "Ready"},
                    }
                ]
            },
            "spec.metrics[0].kubeBurner.metricName",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "kubeBurner": {
                            "metricName": "podLatencyQuantilesMeasurement",
                            "quantileName": "Ready",
                            "metricOfInterest": "P90",
                        },
                    }
                ]
            },
            "spec.metrics[0].kubeBurner.metricOfInterest",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "overTime": "avg",
                        "kubeBurner": {
                            "metricName": "podLatencyQuantilesMeasurement",
                            "quantileName": "Ready",
                        },
                    }
                ]
            },
            "spec.metrics[0].overTime",
        ),
        ({"metrics": []}, "spec.metrics"),
        (
            {"metrics": [{"name": "x", "query": "up", "aggregation": "median"}]},
            "spec.metrics[0].aggregation",
        ),
        (
            {"metrics": [{"name": "x", "query": "up", "threshold": 5000}]},
            "spec.metrics[0].threshold",
        ),
        (
            {"metrics": [{"name": "x", "query": "up"}, {"name": "x", "query": "up"}]},
            "spec.metrics[1].name",
        ),
        ({"target": {"platform": "Mars"}}, "spec.target.platform"),
        ({"target": {"namespace": "Not_A_Namespace"}}, "spec.target.namespace"),
        ({"analysis": {"minHistory": 10, "lookback": 5}}, "spec.analysis.lookback"),
        ({"schedule": "every night"}, "spec.schedule"),
        ({"schedule": "61 2 * * *"}, "spec.schedule"),
        ({"schedule": "@fortnightly"}, "spec.schedule"),
        ({"schedule": ""}, "spec.schedule"),
        ({"schedule": "@daily", "timeZone": "Mars/Olympus"}, "spec.timeZone"),
        ({"timeZone": "Europe"}, "spec.timeZone"),  # checked without a schedule too
        ({"trigger": {"onNewVersion": "yes"}}, "spec.trigger.onNewVersion"),
        ({"trigger": ["onNewVersion"]}, "spec.trigger"),
        ({"concurrencyPolicy": "Queue"}, "spec.concurrencyPolicy"),
        ({"retries": -1}, "spec.retries"),
        ({"retries": 11}, "spec.retries"),
        ({"retries": True}, "spec.retries"),
        ({"history": {"keep": 0}}, "spec.history.keep"),
        ({"history": {"keep": 10001}}, "spec.history.keep"),
        ({"analysis": {"confirmRuns": 6}}, "spec.analysis.confirmRuns"),
        ({"analysis": {"confirmRuns": -1}}, "spec.analysis.confirmRuns"),
        ({"analysis": {"acknowledged": {"metric": "x"}}}, "spec.analysis.acknowledged"),
        ({"analysis": {"acknowledged": {}}}, "spec.analysis.acknowledged"),
        (
            {
                "analysis": {
                    "acknowledged": [
                        {"metric": "x", "run": "t-1", "reason": "ok"},
                        {"metric": "x", "run": "t-2", "uuid": "u-2", "reason": "both"},
                    ]
                }
            },
            "spec.analysis.acknowledged[1]",
        ),
        (
            {"analysis": {"acknowledged": [{"metric": "x", "reason": "neither"}]}},
            "spec.analysis.acknowledged[0]",
        ),
        (
            {"analysis": {"acknowledged": [{"metric": "x", "run": "t-1"}]}},
            "spec.analysis.acknowledged[0].reason",
        ),
        (
            {"analysis": {"acknowledged": [{"metric": "a b", "run": "t-1", "reason": "r"}]}},
            "spec.analysis.acknowledged[0].metric",
        ),
    ],
)
def test_unusable_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_perftest_spec(with_changes(**changes))
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_a_spec_without_a_prometheus_url_leaves_the_choice_to_the_target() -> None:
    # The operator's default URL or the target's thanos-querier (target.endpoints) fill it in.
    spec = parse_perftest_spec({"workload": {"name": "node-density"}, "prometheus": {}})
    assert spec.prometheus.url is None


def test_churn_is_parsed_with_the_fields_given() -> None:
    spec = parse_perftest_spec(
        with_changes(
            workload={
                "name": "cluster-density-v2",
                "churn": {"duration": "20m", "cycles": 3, "percent": 25, "delay": "30s"},
            }
        )
    )
    churn = spec.workload.churn
    assert churn is not None
    assert (churn.duration_seconds, churn.cycles, churn.percent, churn.delay_seconds) == (
        1200,
        3,
        25,
        30,
    )
    assert churn.deletion_strategy is None
    empty = parse_perftest_spec(with_changes(workload={"name": "cluster-density-v2", "churn": {}}))
    assert empty.workload.churn is not None and empty.workload.churn.duration_seconds is None


@pytest.mark.parametrize(
    ("workload", "field"),
    [
        ({"name": "node-density", "churn": {"percent": 120}}, "spec.workload.churn.percent"),
        ({"name": "node-density", "churn": {"cycles": -1}}, "spec.workload.churn.cycles"),
        (
            {"name": "node-density", "churn": {"deletionStrategy": "all"}},
            "spec.workload.churn.deletionStrategy",
        ),
        ({"name": "node-density", "churn": {"duration": "soon"}}, "spec.workload.churn.duration"),
        ({"name": "node-density", "churn": "yes"}, "spec.workload.churn"),
        ({"configMapRef": {"name": "c", "key": "k"}, "churn": {}}, "spec.workload.churn"),
        ({"name": "node-density", "version": "1.7"}, "spec.workload.version"),
        ({"name": "Node_Density"}, "spec.workload.name"),
    ],
)
def test_bad_workload_fields_name_the_field(workload: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_perftest_spec(with_changes(workload=workload))
    assert error.value.field == field
