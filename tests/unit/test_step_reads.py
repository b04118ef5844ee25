"""One controller step reads a PerfTest and its history once; its own writes keep them current."""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any, cast

import pytest

from perftest_operator.api.errors import Conflict
from perftest_operator.kube.cached import StepReads
from perftest_operator.kube.protocol import KubeApi


def perfrun(name: str, phase: str = "Running", version: str = "1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "team-a", "resourceVersion": version},
        "spec": {"testName": "nightly"},
        "status": {"phase": phase},
    }


class CountingHub:
    """The hub as the API server would answer, counting what is asked of it."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.test: dict[str, Any] = {
            "metadata": {"name": "nightly", "namespace": "team-a", "resourceVersion": "7"},
            "status": {},
        }
        self.runs = {name: perfrun(name) for name in ("nightly-1", "nightly-2")}
        self.conflict_next_write = False

    def get_perftest(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls["get_perftest"] += 1
        return {**self.test}

    def list_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        self.calls["list_perfruns"] += 1
        return [dict(run) for run in self.runs.values()]

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.calls["replace_perftest_status"] += 1
        if self.conflict_next_write:
            self.conflict_next_write = False
            self.test["metadata"]["resourceVersion"] = "8"
            raise Conflict("changed")
        self.test = {**self.test, "status": dict(status)}
        return dict(self.test)

    def patch_perfrun_status(
        self, namespace: str, name: str, status: Mapping[str, Any], **_: Any
    ) -> dict[str, Any]:
        self.calls["patch_perfrun_status"] += 1
        run = self.runs[name]
        self.runs[name] = {**run, "status": {**run["status"], **status}}
        return dict(self.runs[name])

    def create_perfrun(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        self.calls["create_perfrun"] += 1
        self.runs[body["metadata"]["name"]] = dict(body)
        return dict(body), True

    def delete_perfrun(self, namespace: str, name: str) -> bool:
        self.calls["delete_perfrun"] += 1
        return self.runs.pop(name, None) is not None

    def get_job(self, namespace: str, name: str) -> dict[str, Any]:
        self.calls["get_job"] += 1
        return {"metadata": {"name": name}}


def step() -> tuple[CountingHub, KubeApi]:
    hub = CountingHub()
    return hub, cast(KubeApi, StepReads(cast(KubeApi, hub)))


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
