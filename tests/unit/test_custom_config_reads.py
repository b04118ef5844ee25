"""What a run's steps read of its PerfTest: a custom workload's ConfigMap when the run's Job is
built, and never again (the run's ConfigMap, which the Job mounts, holds its own copy, so the
user's may go once the Job has started); the spec once per advance, whatever the steps.

The controller on the in-memory hub of test_telemetry_hooks, driven through advance_run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from local_server import serving
from test_telemetry_hooks import (
    KPI,
    NAMESPACE,
    FakeHub,
    FakePrometheus,
    hub_with,
    new_run,
    perftest,
)

from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import Settings
from perftest_operator.api.status import Reason, RunPhase
from perftest_operator.controller import run_step
from perftest_operator.controller.context import Context
from perftest_operator.controller.perfruns import advance_run

BURNER_CONFIG = "jobs:\n  - name: custom\n    jobIterations: 1\n"


class HubWithConfigMaps(FakeHub):
    """The fake hub, recording which ConfigMaps' data the operator reads."""

    def __init__(self) -> None:
        super().__init__()
        self.config_map_reads: list[str] = []

    def read_config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        self.config_map_reads.append(name)
        return super().read_config_map_data(namespace, name)


USER_CONFIG_MAP = (NAMESPACE, "burner")


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with serving(FakePrometheus()) as server:
        yield server


def custom_hub(url: str) -> HubWithConfigMaps:
    test = perftest("custom", url)
    test["spec"]["workload"] = {"configMapRef": {"name": "burner", "key": "config.yml"}}
    hub = HubWithConfigMaps()
    hub.secrets.update(hub_with().secrets)
    hub.stored("PerfTest", test)
    hub.stored(
        "ConfigMap",
        {
            "metadata": {"namespace": NAMESPACE, "name": "burner"},
            "data": {"config.yml": BURNER_CONFIG},
        },
    )
    return hub


def context(hub: FakeHub) -> Context:
    policy = RunPolicy(local_runs=True, custom_config_namespaces=(NAMESPACE,))
    return Context(api=hub, settings=Settings(policy=policy))


def test_the_users_config_map_deleted_after_the_job_started_does_not_fail_the_run(
    prometheus: FakePrometheus,
) -> None:
    hub = custom_hub(prometheus.url)
    ctx = context(hub)
    prometheus.value = 0.5
    name = new_run(hub, "custom", 1)
    assert advance_run(ctx, NAMESPACE, name) is RunPhase.RUNNING
    # the run's own ConfigMap, which the Job mounts
    (copied,) = [cm for key, cm in hub.kinds["ConfigMap"].items() if key != USER_CONFIG_MAP]
    assert copied["data"]["config.yml"] == BURNER_CONFIG
    del hub.kinds["ConfigMap"][USER_CONFIG_MAP]
    hub.finish_jobs(succeeded=True)
    phase = advance_run(ctx, NAMESPACE, name)
    status = hub.perfruns[name]["status"]
    assert phase is RunPhase.SUCCEEDED, (status["reason"], status["message"])
    assert hub.perfruns[name]["status"]["values"] == {KPI: 0.5}
    assert hub.config_map_reads == ["burner"]  # once: by the step that built the Job


def test_a_custom_config_map_missing_when_the_run_starts_fails_it_as_invalid_spec(
    prometheus: FakePrometheus,
) -> None:
    hub = custom_hub(prometheus.url)
    del hub.kinds["ConfigMap"][USER_CONFIG_MAP]
    name = new_run(hub, "custom", 1)
    assert advance_run(context(hub), NAMESPACE, name) is RunPhase.FAILED
    status = hub.perfruns[name]["status"]
    assert status["reason"] == Reason.INVALID_SPEC.value
    assert status["message"] == (
        "spec.workload.configMapRef: ConfigMap burner with key config.yml not found in "
        f"namespace {NAMESPACE}"
    )
    assert not hub.kinds["Job"]


def test_one_advance_parses_the_perftest_once_for_all_its_steps(
    prometheus: FakePrometheus, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = custom_hub(prometheus.url)
    ctx = context(hub)
    name = new_run(hub, "custom", 1)
    assert advance_run(ctx, NAMESPACE, name) is RunPhase.RUNNING
    hub.finish_jobs(succeeded=True)
    parsed: list[str] = []
    original = run_step.parse_test_spec

    def counting(test: Mapping[str, Any]) -> Any:
        parsed.append(test["metadata"]["name"])
        return original(test)

    monkeypatch.setattr(run_step, "parse_test_spec", counting)
    # Running -> Collecting -> Analyzing -> Succeeded, then the history is pruned: one parse.
    assert advance_run(ctx, NAMESPACE, name) is RunPhase.SUCCEEDED
    assert parsed == ["custom"]
