"""One controller step reads a PerfTest and its history once; its own writes keep them current."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fake_kube import FakeKube

from perftest_operator.api.errors import Conflict
from perftest_operator.kube.cached import StepReads
from perftest_operator.kube.protocol import KubeApi


def perfrun(name: str, phase: str = "Running", version: str = "1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "team-a", "resourceVersion": version},
        "spec": {"testName": "nightly"},
        "status": {"phase": phase},
    }


class CountingHub(FakeKube):
    """The hub as the API server would answer, counting what is asked of it (`calls`)."""

    def __init__(self) -> None:
        super().__init__()
        meta = {"name": "nightly", "namespace": "team-a", "resourceVersion": "7"}
        self.stored("PerfTest", {"metadata": meta, "status": {}})
        for name in ("nightly-1", "nightly-2"):
            self.stored("PerfRun", perfrun(name))
        self.conflict_next_write = False

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        if self.conflict_next_write:
            self.conflict_next_write = False
            self.touch("PerfTest", "team-a", "nightly")  # someone else wrote it first
        return super().replace_perftest_status(test, status)


def step() -> tuple[CountingHub, KubeApi]:
    hub = CountingHub()
    return hub, StepReads(hub)


def test_the_test_and_its_history_are_read_once_per_step() -> None:
    hub, api = step()
    for _ in range(3):
        api.get_perftest("team-a", "nightly")
        api.list_perfruns("team-a", "nightly")
    assert hub.calls == {"get_perftest": 1, "list_perfruns": 1}


def test_other_calls_go_through_every_time() -> None:
    hub, api = step()
    api.get_job("bench", "nightly-1")
    api.get_job("bench", "nightly-1")
    assert hub.calls["get_job"] == 2


def test_a_status_written_in_the_step_is_in_the_history_read_after_it() -> None:
    hub, api = step()
    api.list_perfruns("team-a", "nightly")
    api.patch_perfrun_status("team-a", "nightly-2", {"phase": "Succeeded"})
    phases = {
        r["metadata"]["name"]: r["status"]["phase"] for r in api.list_perfruns("team-a", "nightly")
    }
    assert phases == {"nightly-1": "Running", "nightly-2": "Succeeded"}
    assert hub.calls["list_perfruns"] == 1


def test_created_runs_join_the_history_and_deleted_runs_leave_it() -> None:
    hub, api = step()
    api.list_perfruns("team-a", "nightly")
    api.delete_perfrun("team-a", "nightly-1")
    assert [r["metadata"]["name"] for r in api.list_perfruns("team-a", "nightly")] == ["nightly-2"]
    api.create_perfrun(perfrun("nightly-3"))
    names = [r["metadata"]["name"] for r in api.list_perfruns("team-a", "nightly")]
    assert names == ["nightly-2", "nightly-3"]
    assert names == [r["metadata"]["name"] for r in hub.list_perfruns("team-a", "nightly")]
    assert hub.calls["list_perfruns"] == 2  # one by the step, one by this test


def test_a_conflict_makes_the_next_read_of_the_test_fresh() -> None:
    hub, api = step()
    test = api.get_perftest("team-a", "nightly")
    assert test is not None
    hub.conflict_next_write = True
    with pytest.raises(Conflict):
        api.replace_perftest_status(test, {"phase": "Idle"})
    again = api.get_perftest("team-a", "nightly")
    assert again is not None and again["metadata"]["resourceVersion"] == "8"
    assert hub.calls["get_perftest"] == 2


def test_what_a_caller_replaces_does_not_change_what_the_next_caller_reads() -> None:
    _, api = step()
    runs = api.list_perfruns("team-a", "nightly")
    runs[0]["status"] = {"phase": "Succeeded"}
    runs.append(perfrun("nightly-9"))
    again = api.list_perfruns("team-a", "nightly")
    assert [r["status"]["phase"] for r in again] == ["Running", "Running"]
