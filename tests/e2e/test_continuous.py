"""Continuous testing: schedules on a controllable clock, new versions, concurrency, skip-unchanged,
retries, confirmation runs, acknowledgements, retention and the "what changed" line."""

from __future__ import annotations

import datetime
import pathlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from localstack.cluster import Cluster
from localstack.jobs import JobScript, SimulatedJobController
from localstack.objects import Kube, perftest_body, wait_for
from localstack.prometheus import ReplayRun, replayed_prometheus
from localstack.remote_target import KEY, SECRET, TARGET_ENV, put_secret, target_kubeconfig
from localstack.story import (
    FIRST_BAD_RUN,
    READ_ONLY_LATENCY,
    STORY_KPI,
    STORY_KPIS,
    replay_script,
    run_number,
    story_runs,
)
from localstack.target_objects import cluster_nodes, infrastructure

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

TEST = "nightly"
BERLIN_02 = "0 2 * * *"  # 02:00 Europe/Berlin = 01:00 UTC in winter
OLD_KERNEL = "5.14.0-427.50.1.el9_4.x86_64"
NEW_KERNEL = "5.14.0-570.1.1.el9_6.x86_64"


def perftest(prometheus_url: str, **spec: Any) -> dict[str, Any]:
    return perftest_body(TEST, prometheus_url, **spec)


class Clock:
    """The time the operator's schedules see (PERFTEST_CLOCK_FILE)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.set(datetime.datetime.now(datetime.UTC))

    def set(self, moment: datetime.datetime) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
        temporary.replace(self.path)

    @property
    def env(self) -> dict[str, str]:
        return {"PERFTEST_CLOCK_FILE": str(self.path)}


@pytest.fixture()
def clock(tmp_path: pathlib.Path) -> Clock:
    return Clock(tmp_path / "clock")


class Gate:
    """A Job script that finishes run n with the n-th replayed window, unless it is held."""

    def __init__(self, replay: list[ReplayRun], exit_codes: dict[int, int] | None = None) -> None:
        self.script = replay_script(replay, exit_codes)
        self.held: set[int] = set()

    def __call__(self, job: dict[str, Any]) -> JobScript | None:
        return None if run_number(job) in self.held else self.script(job)


def run_named(kube: Kube, number: int) -> dict[str, Any] | None:
    return kube.get("perfruns", f"{TEST}-{number}")


def phase(kube: Kube, number: int) -> str | None:
    return ((run_named(kube, number) or {}).get("status") or {}).get("phase")


def finished(kube: Kube, number: int, timeout: float = 60) -> dict[str, Any]:
    return wait_for(
        lambda: phase(kube, number) in ("Succeeded", "Failed") and run_named(kube, number),
        timeout=timeout,
        what=f"run {number} to finish",
    )


def events(kube: Kube, reason: str) -> list[Any]:
    return [e for e in kube.events() if e.reason == reason]


def test_a_schedule_starts_runs_on_time_and_forbid_skips_a_slot_while_a_run_is_active(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any, clock: Clock
) -> None:
    gate = Gate(replay)
    with SimulatedJobController(kube.api_client, gate, namespace=kube.namespace):
        start_operator(**clock.env)
        kube.create_perftest(perftest(prometheus_url, schedule=BERLIN_02, timeZone="Europe/Berlin"))
        finished(kube, 1)
        test = wait_for(
            lambda: (
                (kube.get("perftests", TEST) or {}).get("status", {}).get("nextRunTime")
                and kube.get("perftests", TEST)
            ),
            timeout=30,
            what="status.nextRunTime",
        )
        slot = datetime.datetime.fromisoformat(test["status"]["nextRunTime"].replace("Z", "+00:00"))
        assert slot.hour == 1 and slot.minute == 0, "02:00 in Berlin is 01:00 UTC in winter"
        assert (
            datetime.timedelta(0)
            < slot - datetime.datetime.now(datetime.UTC)
            <= datetime.timedelta(days=1)
        )
        assert run_named(kube, 2) is None

        # The slot passes: one scheduled run, and the next slot is shown.
        gate.held.add(2)
        clock.set(slot + datetime.timedelta(seconds=30))
        second = wait_for(lambda: run_named(kube, 2), timeout=30, what="the scheduled run")
        assert second["spec"]["trigger"] == "Scheduled"
        wait_for(
            lambda: (
                kube.get("perftests", TEST)["status"].get("lastScheduleTime")
                == slot.strftime("%Y-%m-%dT%H:%M:%SZ")
            ),
            timeout=30,
            what="status.lastScheduleTime",
        )

        # Three nights later, with run 2 still active: the missed slots collapse into one due
        # slot, and Forbid skips it with a RunSkipped Event.
        clock.set(slot + datetime.timedelta(days=3, seconds=30))
        wait_for(
            lambda: [e for e in events(kube, "RunSkipped") if "Forbid" in e.message],
            timeout=30,
            what="RunSkipped (Forbid)",
        )
        assert run_named(kube, 3) is None
        gate.held.clear()
        assert finished(kube, 2)["status"]["phase"] == "Succeeded"
    later = kube.get("perftests", TEST)["status"]
    assert later["nextRunTime"] == (slot + datetime.timedelta(days=4)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert len(kube.perfruns()) == 2


def test_replace_stops_the_active_run_and_allow_runs_both(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    gate = Gate(replay)
    gate.held.update({1, 2, 3})
    with SimulatedJobController(kube.api_client, gate, namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url, concurrencyPolicy="Replace"))
        wait_for(lambda: phase(kube, 1) == "Running", timeout=30, what="run 1 to run")
        kube.annotate(TEST, "perftest.dev/run-now", "now-1")
        replaced = finished(kube, 1)
        assert replaced["status"]["reason"] == "Replaced"
        assert f"{TEST}-2" in replaced["status"]["message"]
        wait_for(lambda: phase(kube, 2) == "Running", timeout=30, what="run 2 to run")
        assert [j.metadata.labels["perftest.dev/run"] for j in kube.jobs()] == [f"{TEST}-2"]

        kube.patch_perftest(TEST, {"spec": {"concurrencyPolicy": "Allow"}})
        wait_for(lambda: phase(kube, 3) == "Running", timeout=30, what="run 3 (spec change)")
        assert phase(kube, 2) == "Running", "Allow: both run"
        gate.held.clear()
        finished(kube, 2)
        finished(kube, 3)


def test_a_failed_job_is_retried_as_a_linked_run(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    gate = Gate(replay, exit_codes={1: 1, 2: 1})
    with SimulatedJobController(kube.api_client, gate, namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url, retries=2))
        assert finished(kube, 1)["status"]["phase"] == "Failed"
        second = finished(kube, 2)
        assert second["spec"] == {**second["spec"], "trigger": "Retry", "retryOf": f"{TEST}-1"}
        assert second["status"]["phase"] == "Failed"
        third = finished(kube, 3)
        assert third["spec"]["retryOf"] == f"{TEST}-1" and third["status"]["phase"] == "Succeeded"
    # Two retries were allowed: none after the third run, which succeeded anyway.
    assert len(kube.perfruns()) == 3
    assert len(events(kube, "Retrying")) == 2


def kpi_named(message: str) -> str:
    """The story KPI an Event's message is about (messages start with the KPI's name)."""
    [kpi] = [name for name in STORY_KPIS if message.startswith(f"{name} ")]
    return kpi


def nightly(kube: Kube, number: int) -> dict[str, Any]:
    if number > 1:
        kube.annotate(TEST, "perftest.dev/run-now", f"night-{number}")
    return finished(kube, number)


def test_a_confirmed_regression_is_announced_only_after_its_confirmation_runs(
    kube: Kube, start_operator: Any, tmp_path: pathlib.Path
) -> None:
    values = [0.98, 0.97, 0.99, 0.98, 0.98, 0.97, 0.99, 3.9, 3.95, 3.92]
    runs = story_runs(
        now=datetime.datetime.now(datetime.UTC), read_only=values, mutating=[0.3] * 10
    )
    with (
        replayed_prometheus(runs, tmp_path / "prometheus") as prometheus,
        SimulatedJobController(kube.api_client, replay_script(runs), namespace=kube.namespace),
    ):
        start_operator()
        kube.create_perftest(perftest(prometheus.url, analysis={"confirmRuns": 2}))
        for number in range(1, 8):
            nightly(kube, number)
        suspect = nightly(kube, 8)
        assert suspect["status"]["confirmation"]["state"] == "Pending"
        assert not events(kube, "RegressionDetected"), "no alarm before the confirmation runs"
        # The two confirmation runs start by themselves, one after the other.
        assert finished(kube, 9)["spec"]["confirms"] == f"{TEST}-8"
        assert finished(kube, 10)["spec"]["confirms"] == f"{TEST}-8"
        wait_for(
            lambda: (
                (run_named(kube, 8)["status"].get("confirmation") or {}).get("state") == "Confirmed"
            ),
            timeout=30,
            what="the confirmation",
        )
    # One alarm per read-only KPI (the replay moves all four, localstack.story.STORY_KPIS),
    # each only once confirmed.
    alarms = [e for e in events(kube, "RegressionDetected") if e.involved_object.kind == "PerfTest"]
    assert sorted(kpi_named(alarm.message) for alarm in alarms) == list(STORY_KPIS)
    for alarm in alarms:
        assert f"{TEST}-8" in alarm.message and "confirmed by 2 run(s)" in alarm.message
    assert kube.get("perftests", TEST)["status"]["verdict"]["result"] == "Regression"


def test_an_unconfirmed_regression_is_recorded_as_an_outlier(
    kube: Kube, start_operator: Any, tmp_path: pathlib.Path
) -> None:
    values = [0.98, 0.97, 0.99, 0.98, 0.98, 0.97, 0.99, 3.9, 0.98, 0.97]
    runs = story_runs(
        now=datetime.datetime.now(datetime.UTC), read_only=values, mutating=[0.3] * 10
    )
    with (
        replayed_prometheus(runs, tmp_path / "prometheus") as prometheus,
        SimulatedJobController(kube.api_client, replay_script(runs), namespace=kube.namespace),
    ):
        start_operator()
        kube.create_perftest(perftest(prometheus.url, analysis={"confirmRuns": 2}))
        for number in range(1, 9):
            nightly(kube, number)
        finished(kube, 9)
        last = finished(kube, 10)
        wait_for(
            lambda: (
                (run_named(kube, 8)["status"].get("confirmation") or {}).get("state")
                == "NotConfirmed"
            ),
            timeout=30,
            what="the confirmation to fail",
        )
    assert not events(kube, "RegressionDetected")
    [note] = events(kube, "RegressionNotConfirmed")
    assert f"{TEST}-8" in note.message and "outlier" in note.message
    verdict = last["status"]["verdict"]
    assert verdict["result"] == "Pass"
    # the slow night, on each read-only KPI (all four moved)
    assert sorted((o["metric"], o["run"]) for o in verdict["outliers"]) == [
        (metric, f"{TEST}-8") for metric in STORY_KPIS
    ]


def test_an_acknowledged_change_point_stays_listed_but_raises_no_alarm(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    # The kernel moved all four read-only KPIs: each change point is acknowledged by its KPI.
    acknowledged = [
        {
            "metric": metric,
            "run": f"{TEST}-{FIRST_BAD_RUN}",
            "reason": "RHCOS 570 kernel, tracked in OCPBUGS-1",
        }
        for metric in STORY_KPIS
    ]
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url, analysis={"acknowledged": acknowledged}))
        for number in range(1, FIRST_BAD_RUN + 2):
            last = nightly(kube, number)
    verdict = last["status"]["verdict"]
    points = [cp for cp in verdict["changePoints"] if cp["run"] == f"{TEST}-{FIRST_BAD_RUN}"]
    assert sorted(point["metric"] for point in points) == list(STORY_KPIS)
    for point in points:
        assert point["regression"] and point["acknowledged"] == acknowledged[0]["reason"]
    assert verdict["result"] != "Regression"
    assert not events(kube, "RegressionDetected")
    assert kube.get("perftests", TEST)["status"]["phase"] != "Regressed"


def test_retention_keeps_the_newest_runs_and_removes_their_jobs(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url, history={"keep": 3}))
        for number in range(1, 6):
            nightly(kube, number)
        wait_for(lambda: len(kube.perfruns()) == 3, timeout=30, what="pruning to 3 runs")
    kept = sorted(r["metadata"]["name"] for r in kube.perfruns())
    assert kept == [f"{TEST}-3", f"{TEST}-4", f"{TEST}-5"]
    jobs = sorted(j.metadata.labels["perftest.dev/run"] for j in kube.jobs())
    assert jobs == kept
    maps = kube.core.list_namespaced_config_map(
        kube.namespace, label_selector="perftest.dev/run"
    ).items
    assert sorted(m.metadata.labels["perftest.dev/run"] for m in maps) == kept
    status = kube.get("perftests", TEST)["status"]
    assert status["runs"]["total"] == 3
    assert events(kube, "Pruned")


# --- on a remote target: versions and node metadata change there -------------------------------


def remote(prometheus_url: str, target: Kube, **spec: Any) -> dict[str, Any]:
    return perftest(
        prometheus_url,
        target={
            "platform": "Auto",
            "namespace": target.namespace,
            "kubeconfigSecretRef": {"name": SECRET, "key": KEY},
        },
        **spec,
    )


def set_kernel(target: Kube, kernel: str) -> None:
    for node in target.core.list_node().items:
        target.core.patch_node_status(
            node.metadata.name, {"status": {"nodeInfo": {"kernelVersion": kernel}}}
        )


def set_version(target: Kube, version: str) -> None:
    target.custom.patch_cluster_custom_object(
        "config.openshift.io",
        "v1",
        "clusterversions",
        "version",
        {"status": {"desired": {"version": version}}},
    )


@pytest.fixture()
def openshift_target(
    kube: Kube, target: Kube, target_cluster: Cluster, platform_objects: Callable[..., None]
) -> Kube:
    """An emulated OpenShift target (Infrastructure, ClusterVersion, nodes with OLD_KERNEL)."""
    platform_objects(infrastructure("AWS"), False, "aws://")
    set_kernel(target, OLD_KERNEL)
    put_secret(kube, target_kubeconfig(target_cluster))
    return target


def test_a_new_product_version_on_the_target_starts_exactly_one_run(
    kube: Kube,
    openshift_target: Kube,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    target = openshift_target
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ):
        start_operator(**TARGET_ENV)
        kube.create_perftest(remote(prometheus_url, target, trigger={"onNewVersion": True}))
        finished(kube, 1)
        first = kube.get("perftests", TEST)
        wait_for(
            lambda: kube.get("perftests", TEST)["status"].get("lastSeenVersion"),
            timeout=30,
            what="the first version seen",
        )
        assert run_named(kube, 2) is None, "the version seen first is the baseline"
        set_version(target, "4.19.0-0.nightly-2025-01-17-000000")
        second = finished(kube, 2)
        assert second["spec"]["trigger"] == "NewVersion"
        assert second["status"]["target"]["version"] == "4.19.0-0.nightly-2025-01-17-000000"
        # More ticks see the same version: no second run for it.
        wait_for(
            lambda: (
                kube.get("perftests", TEST)["status"]["lastSeenVersion"]
                == "4.19.0-0.nightly-2025-01-17-000000"
            ),
            timeout=30,
            what="lastSeenVersion",
        )
        time.sleep(2)  # several more ticks (the poll interval is 0.3 s here)
    assert len(kube.perfruns()) == 2
    assert first["metadata"]["generation"] == kube.get("perftests", TEST)["metadata"]["generation"]


def test_skip_unchanged_skips_a_due_run_until_the_kernel_changes(
    kube: Kube,
    openshift_target: Kube,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
    clock: Clock,
) -> None:
    target = openshift_target
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ):
        start_operator(**TARGET_ENV, **clock.env)
        kube.create_perftest(
            remote(prometheus_url, target, schedule="@daily", trigger={"skipUnchanged": True})
        )
        finished(kube, 1)
        slot = datetime.datetime.now(datetime.UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        clock.set(slot + datetime.timedelta(days=1, seconds=30))
        skipped = wait_for(
            lambda: [e for e in events(kube, "RunSkipped") if "unchanged" in e.message],
            timeout=30,
            what="RunSkipped (unchanged)",
        )
        assert f"{TEST}-1" in skipped[0].message
        assert run_named(kube, 2) is None
        set_kernel(target, NEW_KERNEL)
        clock.set(slot + datetime.timedelta(days=2, seconds=30))
        second = finished(kube, 2)
    assert second["spec"]["trigger"] == "Scheduled"
    assert second["status"]["target"]["kernelVersion"] == NEW_KERNEL


def test_the_regression_event_names_what_changed_between_the_last_good_and_first_bad_run(
    kube: Kube,
    openshift_target: Kube,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """The kernel case: RHCOS kernel 427 -> 570 and a new nightly between runs 7 and 8."""
    target = openshift_target
    with SimulatedJobController(
        target.api_client, replay_script(replay), namespace=target.namespace
    ):
        start_operator(**TARGET_ENV)
        kube.create_perftest(remote(prometheus_url, target))
        for number in range(1, FIRST_BAD_RUN + 1):
            if number == FIRST_BAD_RUN:
                set_kernel(target, NEW_KERNEL)
                set_version(target, "4.19.0-0.nightly-2025-01-17-000000")
            run = nightly(kube, number)
    assert run["status"]["verdict"]["result"] == "Regression"
    # one alarm per read-only KPI (localstack.story.STORY_KPIS), each naming what changed
    alarms = [e for e in events(kube, "RegressionDetected") if e.involved_object.kind == "PerfTest"]
    assert sorted(kpi_named(alarm.message) for alarm in alarms) == list(STORY_KPIS)
    for alarm in alarms:
        assert f"kernelVersion {OLD_KERNEL} → {NEW_KERNEL}" in alarm.message
        assert (
            "version 4.19.0-0.nightly-2025-01-14-010203 → 4.19.0-0.nightly-2025-01-17-000000"
            in alarm.message
        )
    assert any(NEW_KERNEL in line for line in run["status"]["whatChanged"])
    assert READ_ONLY_LATENCY[FIRST_BAD_RUN - 1] == pytest.approx(run["status"]["values"][STORY_KPI])
    assert len(cluster_nodes("aws://")) == run["status"]["target"]["nodes"]["total"]
