"""Argo CD's health check for PerfTests (Lua), run by a real Lua interpreter on statuses that the
operator's own status builder made; and the example Application."""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_schema import drop_nulls
from shipping import MANIFESTS, tool
from stories import NOW, a_perftest, run_conditions, story_verdict, verdict_of

from perftest_operator.api.conditions import FALSE, TRUE, UNKNOWN
from perftest_operator.api.perfrun import Trigger, build_perfrun
from perftest_operator.api.status import PerfTestPhase, Reason, RunCondition, build_test_status
from perftest_operator.runner.outcome import OutcomeReason

ARGOCD = MANIFESTS / "argocd"
HEALTH_LUA = ARGOCD / "perftest-health.lua"
HEALTH_KEY = "resource.customizations.health.perftest.dev_PerfTest"
# Argo CD runs health checks with gopher-lua (Lua 5.1); the check must also run on a current Lua.
LUA_INTERPRETERS = ("lua5.1", "lua5.4")


def test_argocd_cm_carries_the_tested_lua() -> None:
    config_map = yaml.safe_load((ARGOCD / "argocd-cm-health.yaml").read_text(encoding="utf-8"))
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    assert config_map["data"] == {HEALTH_KEY: HEALTH_LUA.read_text(encoding="utf-8")}


# --- running the Lua as Argo CD does: `obj` is the resource, the script returns {status, message} --


def to_lua(value: Any) -> str:
    """A Lua literal for a JSON-like value (JSON arrays become 1-based sequences, as in Argo CD)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(
            chr(byte) if 32 <= byte < 127 and chr(byte) not in '"\\' else f"\\{byte:03d}"
            for byte in value.encode("utf-8")
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "{" + ", ".join(to_lua(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{to_lua(k)}] = {to_lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def lua_health(interpreter: str, obj: dict[str, Any], tmp_path: Path) -> tuple[str, str]:
    driver = tmp_path / "driver.lua"
    driver.write_text(
        f"obj = {to_lua(drop_nulls(obj))}\n"
        f"local hs = dofile({to_lua(str(HEALTH_LUA))})\n"
        'io.write(hs.status, "\\n", hs.message, "\\n")\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [tool(interpreter), str(driver)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    status, message = result.stdout.split("\n", 1)
    return status, message.rstrip("\n")


def test_lua_literals_survive_the_trip(tmp_path: Path) -> None:
    value = {"a": [1, 2.5, True], 'quote"back\\slash': "line\nnext é", "empty": []}
    script = tmp_path / "trip.lua"
    script.write_text(
        f"local v = {to_lua(value)}\n"
        'io.write(#v.a, " ", v.a[2], " ", tostring(v.a[3]), "|", v["quote\\"back\\\\slash"], "|", #v.empty)\n',
        encoding="utf-8",
    )
    output = subprocess.run(
        [tool("lua5.4"), str(script)], capture_output=True, text=True, check=True
    ).stdout
    assert output == "3 2.5 true|line\nnext é|0"


# --- PerfTests as the operator writes them ----------------------------------------------------------


def run(number: int, status: dict[str, Any]) -> dict[str, Any]:
    perfrun = build_perfrun(a_perftest(), number, Trigger.RUN_NOW, f"run-now-{number:016x}")
    perfrun["status"] = status
    return perfrun


def analysed_run(number: int, verdict: dict[str, Any]) -> dict[str, Any]:
    start = datetime.datetime(2025, 1, number, 3, 0, tzinfo=datetime.UTC)
    return run(
        number,
        {
            "conditions": run_conditions(
                (RunCondition.JOB_COMPLETED, TRUE, OutcomeReason.SUCCEEDED.value),
                (RunCondition.METRICS_COLLECTED, TRUE, Reason.COLLECTED.value),
                (RunCondition.ANALYZED, TRUE, verdict["result"]),
            ),
            "job": {"name": f"nightly-{number}", "namespace": "perf"},
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "values": {"readOnlyAPICallsLatency": 0.98},
            "verdict": verdict,
        },
    )


def running_run(number: int) -> dict[str, Any]:
    return run(
        number,
        {
            "conditions": run_conditions(
                (RunCondition.JOB_COMPLETED, UNKNOWN, Reason.JOB_RUNNING.value)
            ),
            "job": {"name": f"nightly-{number}", "namespace": "perf"},
        },
    )


def failed_run(number: int) -> dict[str, Any]:
    return run(
        number,
        {
            "conditions": run_conditions(
                (RunCondition.JOB_COMPLETED, FALSE, OutcomeReason.KUBE_BURNER_TIMEOUT.value)
            ),
            "job": {"name": f"nightly-{number}", "namespace": "perf"},
            "reason": OutcomeReason.KUBE_BURNER_TIMEOUT.value,
            "exitCode": 2,
        },
    )


def pass_verdict() -> dict[str, Any]:
    verdict = verdict_of([0.98, 0.97, 0.99, 0.98, 0.98, 0.97, 0.99, 0.98])
    assert verdict["result"] == "Pass"
    return verdict


def short_history_verdict() -> dict[str, Any]:
    verdict = verdict_of([0.98, 0.97])
    assert verdict["result"] == "InsufficientHistory"
    return verdict


def regression_verdict() -> dict[str, Any]:
    verdict = story_verdict()
    assert verdict["result"] == "Regression"
    return verdict


def perftest(
    runs: list[dict[str, Any]],
    *,
    ready: tuple[str, str, str] = (TRUE, Reason.SPEC_VALID.value, "the spec is valid"),
    suspend: bool = False,
) -> dict[str, Any]:
    test = a_perftest()
    test["spec"]["suspend"] = suspend
    test["status"] = build_test_status(test, runs, ready=ready, now=NOW)
    return test


INVALID = (FALSE, Reason.INVALID_SPEC.value, "spec.workload.name: 'cluster-density-v9' is unknown")

# name -> (the PerfTest, Argo CD health status, words its message must contain)
SCENARIOS: dict[str, tuple[Callable[[], dict[str, Any]], str, tuple[str, ...]]] = {
    "not seen by the operator yet": (a_perftest, "Progressing", ("operator",)),
    "waiting for its first run": (lambda: perftest([]), "Progressing", ("first run",)),
    "first run active": (lambda: perftest([running_run(1)]), "Progressing", ("nightly-1",)),
    "history too short": (
        lambda: perftest([analysed_run(2, short_history_verdict())]),
        "Healthy",
        ("InsufficientHistory",),
    ),
    "verdict Pass": (lambda: perftest([analysed_run(8, pass_verdict())]), "Healthy", ("Pass",)),
    "verdict Regression": (
        lambda: perftest([analysed_run(8, regression_verdict())]),
        "Degraded",
        ("Regression", "readOnlyAPICallsLatency"),
    ),
    "run failed after a pass": (
        lambda: perftest([analysed_run(7, pass_verdict()), failed_run(8)]),
        "Degraded",
        ("nightly-8", "failed", "KubeBurnerTimeout"),
    ),
    "run active after a regression": (
        lambda: perftest([analysed_run(8, regression_verdict()), running_run(9)]),
        "Progressing",
        ("nightly-9",),
    ),
    "spec unusable": (
        lambda: perftest([analysed_run(8, pass_verdict())], ready=INVALID),
        "Degraded",
        ("InvalidSpec", "spec.workload.name"),
    ),
    "suspended": (
        lambda: perftest([analysed_run(8, pass_verdict())], suspend=True),
        "Suspended",
        ("Suspended",),
    ),
}

# The health each phase stands for: the Lua reads conditions, the phase is derived in Python.
PHASE_HEALTH = {
    PerfTestPhase.PENDING.value: "Progressing",
    PerfTestPhase.RUNNING.value: "Progressing",
    PerfTestPhase.BASELINE.value: "Healthy",
    PerfTestPhase.PASSED.value: "Healthy",
    PerfTestPhase.REGRESSED.value: "Degraded",
    PerfTestPhase.FAILED.value: "Degraded",
    PerfTestPhase.INVALID.value: "Degraded",
    PerfTestPhase.SUSPENDED.value: "Suspended",
}


@pytest.mark.parametrize("interpreter", LUA_INTERPRETERS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_health_of_a_perftest(interpreter: str, scenario: str, tmp_path: Path) -> None:
    make, expected, words = SCENARIOS[scenario]
    obj = make()
    status, message = lua_health(interpreter, obj, tmp_path)
    assert status == expected, message
    for word in words:
        assert word in message, message
    if "status" in obj:
        assert status == PHASE_HEALTH[obj["status"]["phase"]]


def test_scenarios_cover_every_phase() -> None:
    phases = {make()["status"]["phase"] for make, _, _ in SCENARIOS.values() if "status" in make()}
    assert phases == {phase.value for phase in PerfTestPhase}


def test_a_status_older_than_the_spec_is_progressing(tmp_path: Path) -> None:
    test = perftest([analysed_run(8, regression_verdict())])
    test["metadata"]["generation"] = test["status"]["observedGeneration"] + 1
    status, message = lua_health("lua5.4", test, tmp_path)
    assert (status, message) == (
        "Progressing",
        f"Waiting for the operator to see generation {test['metadata']['generation']}",
    )


# --- the example Application ------------------------------------------------------------------------


def test_application_syncs_perftests_from_a_folder_without_deleting_history() -> None:
    application = yaml.safe_load((ARGOCD / "application.yaml").read_text(encoding="utf-8"))
    assert application["apiVersion"] == "argoproj.io/v1alpha1"
    assert application["kind"] == "Application"
    assert "finalizers" not in application["metadata"]  # deleting it leaves the PerfTests
    source = application["spec"]["source"]
    folder = MANIFESTS.parent / source["path"]
    kinds = {
        doc["kind"]
        for path in folder.glob(source["directory"]["include"])
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    }
    assert kinds == {"PerfTest"}
    assert application["spec"]["syncPolicy"]["automated"]["prune"] is False
