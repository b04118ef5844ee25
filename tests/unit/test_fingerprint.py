"""Spec fingerprints: what a run measures changes the fingerprint; when and how runs are judged does not."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from perftest_operator.api.errors import SpecError
from perftest_operator.api.fingerprint import spec_fingerprint


def a_spec() -> dict[str, Any]:
    return {
        "target": {"kubeconfigSecretRef": {"name": "kc", "key": "config"}, "namespace": "perf"},
        "workload": {"name": "cluster-density-v2", "iterations": 10},
        "prometheus": {"url": "http://127.0.0.1:9090"},
        "metrics": [
            {"name": "readOnlyAPICallsLatency", "query": "max(a)"},
            {"name": "podReadyLatency", "query": "max(b)", "aggregation": "p99"},
        ],
    }


def with_change(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    spec = a_spec()
    change(spec)
    return spec


def setter(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        node = spec
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return change


def test_a_fingerprint_is_sixteen_hex_digits_and_stable() -> None:
    fingerprint = spec_fingerprint(a_spec())
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)
    assert spec_fingerprint(copy.deepcopy(a_spec())) == fingerprint


def pooled_spec() -> dict[str, Any]:
    """KPIs whose meaning did not change when overTime came: max, last, min, no labels."""
    spec = a_spec()
    spec["metrics"][1]["aggregation"] = "last"
    spec["metrics"].append({"name": "cpu", "query": "min(c)", "aggregation": "min"})
    return spec


def test_the_fingerprint_of_a_spec_does_not_change_between_operator_versions() -> None:
    # Computed once by this code and kept: every stored PerfRun carries its fingerprint, so a
    # change here makes skipUnchanged rerun everything once and "what changed" name the spec.
    # Change it only together with the fingerprint's format number. Format 2 (the contract with
    # kube-burner-ocp changed every run's command line): pooled_spec's was 172b7be7f95bfe0e in
    # format 1 (9477b6f and the two-stage KPIs), a_spec's b119c2de5ece1e7b, then
    # 140fddf8339bb37b when its p99 KPI became a p99 per series, then across series.
    assert spec_fingerprint(pooled_spec()) == "21e6b171ae1417a0"
    assert spec_fingerprint(a_spec()) == "ca6af05a8df3b07b"


def test_aggregation_last_is_the_same_kpi_as_overtime_last_then_max() -> None:
    spelled_out = pooled_spec()
    spelled_out["metrics"][1].update({"overTime": "last", "aggregation": "max"})
    assert spec_fingerprint(spelled_out) == spec_fingerprint(pooled_spec())


def test_defaults_written_out_give_the_same_fingerprint() -> None:
    explicit = a_spec()
    explicit["target"]["platform"] = "Auto"
    explicit["workload"].update({"extraArgs": []})
    explicit["prometheus"].update({"step": "30s", "url": "http://127.0.0.1:9090/"})
    explicit["metrics"][0].update({"aggregation": "max", "direction": "LowerIsBetter"})
    explicit["metrics"][0].update({"overTime": "max", "labels": {}})
    explicit["metrics"][1]["overTime"] = "p99"  # overTime defaults to the aggregation
    assert spec_fingerprint(explicit) == spec_fingerprint(a_spec())


def test_the_order_of_the_metrics_does_not_matter() -> None:
    reordered = a_spec()
    reordered["metrics"].reverse()
    assert spec_fingerprint(reordered) == spec_fingerprint(a_spec())


@pytest.mark.parametrize(
    "change",
    [
        setter("schedule", value="30 2 * * *"),
        setter("timeZone", value="Europe/Berlin"),
        setter("trigger", value={"onNewVersion": True, "skipUnchanged": True}),
        setter("concurrencyPolicy", value="Allow"),
        setter("retries", value=3),
        setter("suspend", value=True),
        setter("analysis", value={"minHistory": 3, "lookback": 20, "confirmRuns": 2}),
        setter(
            "analysis",
            "acknowledged",
            value=[{"metric": "readOnlyAPICallsLatency", "run": "t-8", "reason": "kernel"}],
        ),
        setter("history", value={"keep": 10}),
        setter("prometheus", "queryTimeout", value="2m"),
        setter("prometheus", "bearerTokenSecretRef", value={"name": "p", "key": "token"}),
        lambda spec: spec["metrics"][0].update(
            {"threshold": 50, "direction": "HigherIsBetter", "unit": "s"}
        ),
    ],
    ids=[
        "schedule",
        "timeZone",
        "trigger",
        "concurrencyPolicy",
        "retries",
        "suspend",
        "analysis",
        "acknowledged",
        "history",
        "queryTimeout",
        "prometheus credentials",
        "metric threshold, direction, unit",
    ],
)
def test_when_and_how_runs_are_judged_leave_the_fingerprint_alone(
    change: Callable[[dict[str, Any]], None],
) -> None:
    assert spec_fingerprint(with_change(change)) == spec_fingerprint(a_spec())


@pytest.mark.parametrize(
    "change",
    [
        setter("target", "platform", value="AWS"),
        setter("target", "namespace", value="perf-2"),
        setter("target", "kubeconfigSecretRef", value={"name": "other", "key": "config"}),
        lambda spec: spec["target"].pop("kubeconfigSecretRef"),
        setter("workload", "name", value="node-density"),
        setter("workload", "iterations", value=11),
        setter("workload", "qps", value=50),
        setter("workload", "burst", value=50),
        setter("workload", "image", value="quay.io/kube-burner/kube-burner-ocp:v1.8.0"),
        setter("workload", "timeout", value="2h"),
        setter("workload", "extraArgs", value=["--pod-ready-threshold=1m"]),
        setter("workload", "version", value="v1.8.1"),
        setter("workload", "churn", value={"duration": "10m"}),
        setter("workload", value={"configMapRef": {"name": "burner", "key": "config.yml"}}),
        setter("prometheus", "url", value="http://127.0.0.1:9091"),
        lambda spec: spec["prometheus"].pop("url"),
        setter("prometheus", "step", value="15s"),
        lambda spec: spec["metrics"][0].update({"query": "max(c)"}),
        lambda spec: spec["metrics"][0].update({"aggregation": "p95"}),
        lambda spec: spec["metrics"][0].update({"overTime": "avg"}),
        lambda spec: spec["metrics"][1].update({"overTime": "max"}),
        lambda spec: spec["metrics"][0].update({"labels": {"scope": "cluster"}}),
        lambda spec: spec["metrics"][1].update({"labels": {"scope": "cluster"}}),
        lambda spec: spec["metrics"][0].update({"name": "readOnlyLatency"}),
        lambda spec: spec["metrics"].pop(),
        lambda spec: spec.pop("metrics"),
    ],
    ids=[
        "platform",
        "namespace",
        "kubeconfig",
        "no kubeconfig",
        "workload name",
        "iterations",
        "qps",
        "burst",
        "image",
        "timeout",
        "extraArgs",
        "version",
        "churn",
        "custom config",
        "prometheus url",
        "no prometheus url",
        "step",
        "metric query",
        "metric aggregation",
        "metric overTime",
        "metric overTime, not aggregation",
        "metric labels",
        "metric labels, not pooled",
        "metric name",
        "one metric less",
        "default metrics",
    ],
)
def test_what_a_run_measures_changes_the_fingerprint(
    change: Callable[[dict[str, Any]], None],
) -> None:
    assert spec_fingerprint(with_change(change)) != spec_fingerprint(a_spec())


def test_a_spec_the_operator_cannot_use_has_no_fingerprint() -> None:
    with pytest.raises(SpecError, match=r"spec\.workload"):
        spec_fingerprint({"prometheus": {}})
