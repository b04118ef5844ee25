"""A PerfTest, its runs and the verdicts and conditions the operator writes into their status.

Built by the operator's own builders (build_perfrun, set_condition, the analysis), for the tests
that check what the operator writes: against the CRDs (test_crds) and against Argo CD's health
check (test_argocd_health). STORY is readOnlyAPICallsLatency of a week of OpenShift nightlies,
then a regression.
"""

from __future__ import annotations

import datetime
from typing import Any

from perftest_operator import API_VERSION
from perftest_operator.analysis.verdict import RunPoint, evaluate_history, verdict_to_status
from perftest_operator.api.conditions import TRUE, UNKNOWN, set_condition
from perftest_operator.api.fingerprint import spec_fingerprint
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.api.perfrun import ConfirmationState, Trigger, build_perfrun
from perftest_operator.api.spec import Acknowledgement, AnalysisSettings
from perftest_operator.api.status import Reason, RunCondition, RunPhase
from perftest_operator.runner.outcome import OutcomeReason
from perftest_operator.target.metadata import describe_changes

NOW = datetime.datetime(2025, 1, 20, 3, 0, tzinfo=datetime.UTC)


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


def a_perftest() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "PerfTest",
        "metadata": {"name": "nightly", "namespace": "perf", "uid": "u-1", "generation": 3},
        "spec": valid_spec(),
    }


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
