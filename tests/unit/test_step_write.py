"""A step's write over the status it was computed from: kopf's metadata writes do not make a
step run twice; another writer's status wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fake_kube import FakeKube

from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import Settings
from perftest_operator.controller.context import Context
from perftest_operator.controller.perfruns import write_step

STORED = {"phase": "Collecting", "startTime": "2026-11-28T10:00:00Z"}


class Hub(FakeKube):
    """One PerfRun whose resourceVersion moves under the step, as kopf's patches move it."""

    def __init__(self, status: dict[str, Any], version: str = "5") -> None:
        super().__init__()
        meta = {"name": "nightly-7", "namespace": "team-a", "resourceVersion": version}
        self.stored("PerfRun", {"metadata": meta, "status": status})
        self.patches: list[tuple[Mapping[str, Any], str | None]] = []

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.kinds["PerfRun"][("team-a", "nightly-7")]["status"]
        return status

    def patch_perfrun_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        self.patches.append((status, resource_version))
        return super().patch_perfrun_status(
            namespace, name, status, resource_version=resource_version
        )


def context(hub: Hub) -> Context:
    return Context(api=hub, settings=Settings(policy=RunPolicy(local_runs=True)))


def test_a_write_refused_for_a_metadata_change_is_sent_again_with_the_same_result() -> None:
    hub = Hub(dict(STORED), version="6")  # kopf added its finalizer after the step read "5"
    patch = {"values": {"latency": 0.98}, "phase": "Analyzing"}
    written, fresh = write_step(context(hub), "team-a", "nightly-7", patch, "5", STORED)
    assert fresh is None and written is not None
    assert written["status"]["values"] == {"latency": 0.98}
    assert [version for _, version in hub.patches] == ["5", "6"]
    assert all(sent == patch for sent, _ in hub.patches)


def test_a_status_written_by_someone_else_wins_and_is_handed_back() -> None:
    replaced = {**STORED, "phase": "Failed", "reason": "Replaced"}
    hub = Hub(replaced, version="6")
    patch = {"values": {"latency": 0.98}, "phase": "Analyzing"}
    written, fresh = write_step(context(hub), "team-a", "nightly-7", patch, "5", STORED)
    assert written is None and fresh is not None
    assert fresh["status"]["reason"] == "Replaced"
    assert hub.status == replaced  # nothing of the step was written over it
