"""From a PerfTest to a regression verdict: the real operator, the API, a real Prometheus, replayed runs."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
import urllib.parse
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.jobs import JobScript, SimulatedJobController
from localstack.objects import Kube, perftest_body, wait_for
from localstack.prometheus import HeaderRecordingProxy, ReplayRun, below, replayed_prometheus
from localstack.standin_outputs import Ending
from localstack.story import (
    EARLY_STEP_LATENCY,
    FIRST_BAD_RUN,
    MUTATING_LATENCY,
    READ_ONLY_LATENCY,
    STORY_KPI,
    STORY_KPIS,
    replay_script,
    story_runs,
)
from perftest_operator.api.default_kpis import (
    DEFAULT_METRICS,
    MUTATING_API_CALLS_LATENCY,
    READ_ONLY_API_CALLS_LATENCY,
)
from perftest_operator.burnerjob.summary import decode_summary

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

TEST = "api-latency"
DEFAULT_KPIS = {metric.name for metric in DEFAULT_METRICS}
QUERIED_KPIS = {metric.name for metric in DEFAULT_METRICS if metric.kube_burner is None}
READ_ONLY_KPIS = set(STORY_KPIS)  # the read-only defaults, which the story moves


def perftest(prometheus_url: str, **spec: Any) -> dict[str, Any]:
    return perftest_body(TEST, prometheus_url, **spec)


def finished_run(kube: Kube, name: str) -> dict[str, Any] | None:
    run = kube.get("perfruns", name)
    phase = ((run or {}).get("status") or {}).get("phase")
    return run if phase in ("Succeeded", "Failed") else None


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    matches = [c for c in obj["status"].get("conditions", []) if c["type"] == type_]
    assert len(matches) == 1, f"expected one {type_} condition in {obj['status'].get('conditions')}"
    return matches[0]


def warnings(kube: Kube, reason: str, kind: str = "PerfTest") -> list[Any]:
    return [
        e
        for e in kube.events()
        if e.reason == reason and e.type == "Warning" and e.involved_object.kind == kind
    ]


def kpi_named(message: str) -> str:
    """The default KPI an Event's message is about (messages start with the KPI's name)."""
    [kpi] = [name for name in DEFAULT_KPIS if message.startswith(f"{name} ")]
    return kpi


def test_kernel_regression_is_reported_at_the_first_bad_run(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """15 nightlies, the 8th takes the read-only API p99 from ~0.98 s to 3.98 s, then it flip-flops."""
    snapshots: dict[int, dict[str, Any]] = {}
    with SimulatedJobController(
        kube.api_client, replay_script(replay), namespace=kube.namespace
    ) as jobs:
        start_operator()
        kube.create_perftest(perftest(prometheus_url))
        for number in range(1, len(READ_ONLY_LATENCY) + 1):
            run_name = f"{TEST}-{number}"
            if number > 1:
                kube.annotate(TEST, "perftest.dev/run-now", f"night-{number}")
            run = wait_for(
                lambda run_name=run_name: finished_run(kube, run_name),
                timeout=60,
                what=f"{run_name} to finish",
            )
            assert run["status"]["phase"] == "Succeeded", run["status"]["message"]
            test = wait_for(
                lambda run_name=run_name: (
                    (t := kube.get("perftests", TEST))
                    and (t.get("status") or {}).get("lastRun", {}).get("name") == run_name
                    and t
                ),
                timeout=30,
                what=f"the PerfTest status to show {run_name}",
            )
            snapshots[number] = {
                "run": run,
                "test": test,
                "warnings": len(warnings(kube, "RegressionDetected")),
            }
        assert not jobs.errors, jobs.errors

    # Each Job ran kube-burner-ocp (the stand-in) as its ServiceAccount with nothing refused, and
    # left in its termination message the summary of the night's measured window.
    for key, result in jobs.runs.items():
        number = int(key.rsplit("-", 1)[1])
        summary = decode_summary(result.message)
        assert summary is not None and summary.exit_code == 0 and result.denied == ()
        assert summary.window == (replay[number - 1].start, replay[number - 1].end), key
    assert len(jobs.runs) == len(READ_ONLY_LATENCY)

    # Each run's values are what Prometheus holds for exactly that run's window: the story's
    # read-only p99 is the peak of the one namespace-scoped read-only series, so
    # max-ro-apicalls-latency-namespace carries the story's values (the replay's other series:
    # see localstack.prometheus.ReplayRun).
    for number, (read_only, mutating) in enumerate(
        zip(READ_ONLY_LATENCY, MUTATING_LATENCY, strict=True), start=1
    ):
        values = snapshots[number]["run"]["status"]["values"]
        # Prometheus' KPIs, and kube-burner's own P99 Ready when the Job left its summary.
        assert QUERIED_KPIS <= set(values) <= DEFAULT_KPIS, f"run {number}"
        assert values[STORY_KPI] == pytest.approx(read_only, rel=1e-6), f"run {number}"
        assert values["max-ro-apicalls-latency-cluster"] == pytest.approx(below(read_only))
        assert values["max-mutating-apicalls-latency"] == pytest.approx(
            (mutating + below(mutating)) / 2
        )

    # No regression reported for the seven good runs.
    for number in range(1, FIRST_BAD_RUN):
        run_verdict = snapshots[number]["run"]["status"]["verdict"]
        assert run_verdict["result"] != "Regression", (number, run_verdict)
        assert snapshots[number]["test"]["status"]["verdict"]["result"] != "Regression", number
        assert snapshots[number]["warnings"] == 0, number
    assert snapshots[4]["run"]["status"]["verdict"]["result"] == "InsufficientHistory"
    assert snapshots[7]["run"]["status"]["verdict"]["result"] == "Pass"

    # The 8th run itself is the regression: in its PerfRun, in the PerfTest status, in Warning
    # Events. The kernel slowed every read-only call: in the replay both read-only series (GET
    # pods, namespace scope; LIST configmaps, cluster scope) follow the night's latency, so each
    # of the four read-only KPIs (avg and max over time, per scope) has its change point at run
    # 8, and each raises its own alarm. The mutating calls kept their ~0.3 s: no change there.
    bad = f"{TEST}-{FIRST_BAD_RUN}"
    at_bad = snapshots[FIRST_BAD_RUN]
    for verdict in (at_bad["run"]["status"]["verdict"], at_bad["test"]["status"]["verdict"]):
        assert verdict["result"] == "Regression"
        regressions = {cp["metric"]: cp for cp in verdict["changePoints"] if cp["regression"]}
        assert sorted((m, cp["run"], cp["index"]) for m, cp in regressions.items()) == [
            (metric, bad, FIRST_BAD_RUN - 1) for metric in sorted(READ_ONLY_KPIS)
        ]
        point = regressions[STORY_KPI]
        assert point["before"] == pytest.approx(0.984, rel=0.01)
        assert point["after"] > 3.9
        assert point["changePercent"] > 290
        assert all(cp["changePercent"] > 100 for cp in regressions.values())
    test_status = at_bad["test"]["status"]
    assert test_status["phase"] == "Regressed"
    assert condition(at_bad["test"], "Regressed")["status"] == "True"
    assert test_status["observedGeneration"] == at_bad["test"]["metadata"]["generation"]
    assert at_bad["warnings"] == len(READ_ONLY_KPIS)
    events = warnings(kube, "RegressionDetected")
    assert all(bad in event.message and "%" in event.message for event in events)
    assert sorted(kpi_named(event.message) for event in events) == sorted(READ_ONLY_KPIS)

    # The flip-flopping runs after it keep pointing at the same first bad run, with no new alarm.
    for number in range(FIRST_BAD_RUN + 1, len(READ_ONLY_LATENCY) + 1):
        verdict = snapshots[number]["test"]["status"]["verdict"]
        assert verdict["result"] == "Regression", number
        regressions = [
            (cp["metric"], cp["run"]) for cp in verdict["changePoints"] if cp["regression"]
        ]
        assert sorted(regressions) == [(metric, bad) for metric in sorted(READ_ONLY_KPIS)], number
    assert len(warnings(kube, "RegressionDetected")) == len(READ_ONLY_KPIS)
    final = snapshots[len(READ_ONLY_LATENCY)]["test"]["status"]
    assert final["runs"] == {"total": 15, "succeeded": 15, "failed": 0}
    assert len(kube.jobs()) == 15, "exactly one Job per run"
    # kopf keeps no state on the runs (no create/update/delete handler for them): each run
    # costs no extra write of kopf's annotations, and a finished run keeps no finalizer.
    wait_for(
        lambda: all(not run["metadata"].get("finalizers") for run in kube.perfruns()),
        timeout=30,
        what="the finished runs to lose kopf's finalizer",
    )
    for run in kube.perfruns():
        annotations = run["metadata"].get("annotations") or {}
        assert not [key for key in annotations if key.startswith("kopf.")], annotations


def test_failed_job_fails_the_run_without_a_verdict(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """kube-burner exits 1 (its pods never got ready): the run is Failed with that reason and
    nothing is analysed. (Exit 3, an alert, cannot happen: the operator runs --alerting=false.)"""
    with SimulatedJobController(
        kube.api_client, replay_script(replay, exit_codes={1: 1}), namespace=kube.namespace
    ) as jobs:
        start_operator()
        kube.create_perftest(perftest(prometheus_url))
        run = wait_for(
            lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the run to finish"
        )
    assert not jobs.errors, jobs.errors
    status = run["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "KubeBurnerError"
    assert status["exitCode"] == 1
    assert "verdict" not in status and "values" not in status
    assert condition(run, "JobCompleted")["status"] == "False"
    test = wait_for(
        lambda: (t := kube.get("perftests", TEST)) and (t.get("status") or {}).get("lastRun") and t,
        timeout=30,
        what="the PerfTest's lastRun",
    )
    assert test["status"]["lastRun"]["phase"] == "Failed"
    assert test["status"]["phase"] == "Failed"
    assert test["status"].get("verdict") is None
    assert test["status"]["runs"] == {"total": 1, "succeeded": 0, "failed": 1}
    assert warnings(kube, "RunFailed"), "a Warning Event RunFailed on the PerfTest"


@pytest.mark.parametrize(
    ("exit_code", "ending", "reason", "pod_ready_p99_ms"),
    [
        # Over cluster-density-v2's --pod-ready-threshold, 2m0s by default (KBO
        # cluster-density.go:71 at v1.7.3, the contract's flag).
        (4, Ending.THRESHOLD, "MeasurementThresholdExceeded", 150_000),
        (2, Ending.GC_TIMEOUT, "GarbageCollectionTimeout", 4321),
    ],
)
def test_a_threshold_or_a_late_garbage_collection_keeps_the_run_and_says_so(
    exit_code: int,
    ending: Ending,
    reason: str,
    pod_ready_p99_ms: int,
    kube: Kube,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """kube-burner-ocp (the stand-in) measured the whole benchmark, then exited 4 (its P99 Ready
    over --pod-ready-threshold) or 2 (its garbage collection outlasted gcTimeout): the run is
    Succeeded with its values, kube-burner's own P99 Ready among them, and a Warning says why."""

    def script(job: dict[str, Any]) -> JobScript | None:
        found = replay_script(replay)(job)
        if found is None:
            return None
        return dataclasses.replace(
            found, exit_code=exit_code, ending=ending, pod_ready_p99_ms=pod_ready_p99_ms
        )

    with SimulatedJobController(kube.api_client, script, namespace=kube.namespace) as jobs:
        start_operator()
        kube.create_perftest(perftest(prometheus_url))
        run = wait_for(
            lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the run to finish"
        )
    assert not jobs.errors, jobs.errors
    [result] = jobs.runs.values()
    assert result.exit_code == exit_code and result.denied == ()
    status = run["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    completed = condition(run, "JobCompleted")
    assert (completed["status"], completed["reason"]) == ("True", reason)
    assert status["exitCode"] == exit_code
    assert status["windowSource"] == "KubeBurner"
    assert status["values"]["podReadyLatency"] == pytest.approx(pod_ready_p99_ms)
    assert status["values"][STORY_KPI] == pytest.approx(READ_ONLY_LATENCY[0], rel=1e-6)
    [warning] = warnings(kube, reason, kind="PerfRun")
    assert warning.message == completed["message"]
    assert warnings(kube, reason), "and on the PerfTest"
    assert not warnings(kube, "RunFailed")


def test_unusable_spec_is_reported_and_other_tests_keep_working(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """Schema-valid but unusable specs: Ready=False/InvalidSpec naming the field, a Warning Event."""
    bad_specs = {
        "unknown-workload": ({"workload": {"name": "cluster-density-v9"}}, "spec.workload.name"),
        "bad-url": ({"prometheus": {"url": "http://prometheus:99999"}}, "spec.prometheus.url"),
        "missing-configmap": (
            {"workload": {"name": None, "configMapRef": {"name": "absent", "key": "config.yml"}}},
            "spec.workload.configMapRef",
        ),
    }
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        start_operator()
        for name, (spec, _) in bad_specs.items():
            body = perftest(prometheus_url, **spec)
            body["metadata"]["name"] = name
            kube.create_perftest(body)
        kube.create_perftest(perftest(prometheus_url))
        good_run = wait_for(
            lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the valid test's run"
        )
        assert good_run["status"]["phase"] == "Succeeded"
        for name, (_, field) in bad_specs.items():
            test = wait_for(
                lambda name=name: (
                    (t := kube.get("perftests", name))
                    and (t.get("status") or {}).get("conditions")
                    and t
                ),
                timeout=30,
                what=f"{name} to get conditions",
            )
            ready = condition(test, "Ready")
            assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec"), name
            assert field in ready["message"], (name, ready["message"])
            assert test["status"]["phase"] == "Invalid"
            events = [e for e in warnings(kube, "InvalidSpec") if e.involved_object.name == name]
            assert events and field in events[0].message, name
    assert not [r for r in kube.perfruns() if r["spec"]["testName"] in bad_specs], (
        "no run for an unusable spec"
    )


def test_schema_rejects_what_it_can_before_the_operator_sees_it(
    kube: Kube, prometheus_url: str
) -> None:
    """A blank query never reaches the operator: the API answers 422 naming the field. (A metric
    with neither query nor kubeBurner is refused by the CRD's CEL rule, which the emulator does
    not run, and by the operator: tests/unit/test_crds.py.)"""
    for metric in ({"name": "podReady", "query": "   "},):
        with pytest.raises(ApiException) as caught:
            kube.create_perftest(perftest(prometheus_url, metrics=[metric]))
        assert caught.value.status == 422
        assert "spec.metrics[0].query" in str(caught.value.body)
    assert kube.get("perftests", TEST) is None


def test_prometheus_token_from_a_secret_is_sent_and_never_shown(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """The bearer token reaches Prometheus, and appears in no status, Event or operator log line."""
    token = "perftest-planted-token-" + "9f3c1a7e5b"
    kube.core.create_namespaced_secret(
        kube.namespace,
        {"metadata": {"name": "prometheus-token"}, "stringData": {"token": token}},
    )
    with (
        HeaderRecordingProxy(prometheus_url) as proxy,
        SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace),
    ):
        operator = start_operator()
        kube.create_perftest(
            perftest(
                proxy.url,
                prometheus={
                    "url": proxy.url,
                    "step": "15s",
                    "bearerTokenSecretRef": {"name": "prometheus-token", "key": "token"},
                },
            )
        )
        run = wait_for(
            lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the run to finish"
        )
        test = wait_for(
            lambda: (
                (t := kube.get("perftests", TEST)) and (t.get("status") or {}).get("lastRun") and t
            ),
            timeout=30,
            what="the PerfTest's lastRun",
        )
    assert run["status"]["phase"] == "Succeeded", run["status"]["message"]
    queries = [r for r in proxy.requests if r.path.startswith("/api/v1/query_range")]
    # the six default KPIs share two queries: one range query per distinct query
    sent = [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.path).query)) for r in queries]
    assert [q["query"] for q in sent] == [READ_ONLY_API_CALLS_LATENCY, MUTATING_API_CALLS_LATENCY]
    assert {r.headers.get("Authorization") for r in queries} == {f"Bearer {token}"}
    operator.stop()
    shown = [str(run), str(test), *(e.message for e in kube.events()), operator.log_text()]
    assert not [text for text in shown if token in text]


def test_spec_change_starts_a_run_and_is_observed(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """Editing the spec (a new generation) starts a run; status.observedGeneration follows it."""
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url))
        wait_for(lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the first run")
        kube.custom.patch_namespaced_custom_object(
            "perftest.dev",
            "v1alpha1",
            kube.namespace,
            "perftests",
            TEST,
            {"spec": {"workload": {"iterations": 12}}},
        )
        second = wait_for(
            lambda: finished_run(kube, f"{TEST}-2"), timeout=60, what="the run of generation 2"
        )
        test = wait_for(
            lambda: (
                (t := kube.get("perftests", TEST))
                and (t.get("status") or {}).get("lastRun", {}).get("name") == f"{TEST}-2"
                and t
            ),
            timeout=30,
            what="the PerfTest status to show the second run",
        )
    assert second["spec"]["trigger"] == "SpecChanged"
    assert second["status"]["testGeneration"] == 2
    assert test["metadata"]["generation"] == 2
    assert test["status"]["observedGeneration"] == 2
    assert condition(test, "Ready")["observedGeneration"] == 2
    [job] = [j for j in kube.jobs() if j.metadata.name == f"{TEST}-2"]
    args = [
        *(job.spec.template.spec.containers[0].command or []),
        *(job.spec.template.spec.containers[0].args or []),
    ]
    assert "--iterations=12" in args


def test_operator_restart_mid_run_launches_no_second_job(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """Kill the operator while kube-burner runs; the new one follows the same Job to the verdict."""
    release = threading.Event()
    script = replay_script(replay)
    with SimulatedJobController(
        kube.api_client,
        lambda job: script(job) if release.is_set() else None,
        namespace=kube.namespace,
    ):
        first = start_operator()
        kube.create_perftest(perftest(prometheus_url))
        wait_for(lambda: kube.jobs(), timeout=60, what="the Job")
        wait_for(
            lambda: (
                ((kube.get("perfruns", f"{TEST}-1") or {}).get("status") or {}).get("phase")
                == "Running"
            ),
            timeout=30,
            what="the run to be Running",
        )
        first.kill()
        start_operator()
        release.set()
        run = wait_for(
            lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the run to finish"
        )
    assert run["status"]["phase"] == "Succeeded"
    assert [j.metadata.name for j in kube.jobs()] == [f"{TEST}-1"]
    [job] = kube.jobs()
    owners = [(o.kind, o.name, o.controller) for o in job.metadata.owner_references or []]
    assert owners == [("PerfRun", f"{TEST}-1", True)]
    assert len([r for r in kube.perfruns() if r["spec"]["testName"] == TEST]) == 1
    config_map = kube.core.read_namespaced_config_map(run["status"]["configMap"], kube.namespace)
    assert config_map.metadata.labels["perftest.dev/run"] == f"{TEST}-1"


def nightly_verdicts(
    kube: Kube, start_operator: Any, tmp_path: Any, read_only: list[float]
) -> dict[int, dict[str, Any]]:
    """The verdict of each night, a run a night with these read-only latencies (from night 1)."""
    runs = story_runs(
        now=datetime.datetime.now(datetime.UTC),
        read_only=read_only,
        mutating=[0.3] * len(read_only),
    )
    with (
        replayed_prometheus(runs, tmp_path / "prometheus") as prometheus,
        SimulatedJobController(kube.api_client, replay_script(runs), namespace=kube.namespace),
    ):
        start_operator()
        kube.create_perftest(perftest(prometheus.url))
        verdicts = {}
        for number in range(1, len(read_only) + 1):
            if number > 1:
                kube.annotate(TEST, "perftest.dev/run-now", f"night-{number}")
            run = wait_for(
                lambda number=number: finished_run(kube, f"{TEST}-{number}"),
                timeout=60,
                what=f"run {number}",
            )
            verdicts[number] = run["status"]["verdict"]
    return verdicts


def test_a_single_flaky_run_is_flagged_then_withdrawn_explicitly(
    kube: Kube, start_operator: Any, tmp_path: Any
) -> None:
    """A lone slow night raises the alarm when it arrives; the normal nights after it withdraw it."""
    flaky = [0.984, 0.98, 0.984, 0.976, 0.984, 0.982, 0.984, 3.98, 0.984, 0.979, 0.983, 0.984]

    verdicts = nightly_verdicts(kube, start_operator, tmp_path, flaky)

    # The slow night moves all four read-only KPIs (both read-only series follow the night's
    # latency in the replay), so each is flagged, and each is withdrawn, on its own.
    at_eight = [(f"{TEST}-8", metric) for metric in sorted(READ_ONLY_KPIS)]
    assert verdicts[8]["result"] == "Regression"
    assert sorted((cp["run"], cp["metric"]) for cp in verdicts[8]["changePoints"]) == at_eight
    final = verdicts[len(flaky)]
    assert final["result"] == "Pass"
    assert sorted((w["run"], w["metric"]) for w in final["withdrawn"]) == at_eight
    withdrawals = [e for e in kube.events() if e.reason == "ChangePointWithdrawn"]
    assert sorted(kpi_named(event.message) for event in withdrawals) == sorted(READ_ONLY_KPIS)
    assert all(f"{TEST}-8" in event.message for event in withdrawals)


def test_a_change_point_stays_at_the_run_the_alarm_named(
    kube: Kube, start_operator: Any, tmp_path: Any
) -> None:
    """Later nights may fit a step a run later; the run the alarm named stays the one named."""
    # Night 10 reports the step at night 9; on the 12 nights the series alone places it at
    # night 10, which would withdraw night 9 as a flaky run and raise a second alarm for it.
    verdicts = nightly_verdicts(kube, start_operator, tmp_path, list(EARLY_STEP_LATENCY))

    # All four read-only KPIs see the step (the replay's read-only series both follow it); each
    # change point stays at night 9, and each KPI raises its one alarm.
    at_nine = [(f"{TEST}-9", metric) for metric in sorted(READ_ONLY_KPIS)]
    assert [verdicts[n]["changePoints"] for n in range(1, 10)] == [[]] * 9
    for night in (10, 11, 12):
        assert verdicts[night]["result"] == "Regression"
        found = sorted((cp["run"], cp["metric"]) for cp in verdicts[night]["changePoints"])
        assert found == at_nine, night
    assert verdicts[12]["withdrawn"] == []
    events = kube.events()
    assert [e for e in events if e.reason == "ChangePointWithdrawn"] == []
    alarms = [
        e
        for e in events
        if e.reason == "RegressionDetected" and e.involved_object.kind == "PerfTest"
    ]
    assert sorted(kpi_named(alarm.message) for alarm in alarms) == sorted(READ_ONLY_KPIS)
    assert all(f"{TEST}-9" in alarm.message for alarm in alarms)


def node(name: str, role: str, kernel: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {f"node-role.kubernetes.io/{role}": ""}},
        "spec": {"providerID": f"aws:///us-east-1a/i-{name}"},
        "status": {
            "nodeInfo": {
                "kernelVersion": kernel,
                "osImage": "Red Hat Enterprise Linux CoreOS 419.96",
                "kubeletVersion": "v1.32.1",
                "containerRuntimeVersion": "cri-o://1.32.1",
                "architecture": "amd64",
                "bootID": "",
                "kubeProxyVersion": "",
                "machineID": "",
                "operatingSystem": "linux",
                "systemUUID": "",
            }
        },
    }


def test_each_run_records_what_the_target_was(
    cluster: Any, kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """Platform, versions, nodes by role and node software land in the PerfRun's status."""
    nodes = [
        node("cp-0", "control-plane", "5.14.0-570.1.1.el9_6.x86_64"),
        node("worker-0", "worker", "5.14.0-570.1.1.el9_6.x86_64"),
        node("worker-1", "worker", "5.14.0-427.50.1.el9_4.x86_64"),
    ]
    if cluster.emulated:  # on a real cluster, its own nodes are described
        for body in nodes:
            with contextlib.suppress(ApiException):
                kube.core.create_node(body)
            # Status is the kubelet's to write: through the status subresource, as on a real cluster.
            kube.core.patch_node_status(body["metadata"]["name"], {"status": body["status"]})
    listed = kube.core.list_node().items
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url, target={"platform": "Auto"}))
        run = wait_for(lambda: finished_run(kube, f"{TEST}-1"), timeout=60, what="the run")
        test = wait_for(
            lambda: (
                (t := kube.get("perftests", TEST)) and (t.get("status") or {}).get("lastRun") and t
            ),
            timeout=30,
            what="the PerfTest's lastRun",
        )
    target = run["status"]["target"]
    assert test["status"]["platform"] == target["platform"], (
        "the column shows the detected platform"
    )
    assert target["nodes"]["total"] == len(listed)
    version = kubernetes.client.VersionApi(kube.api_client).get_code()
    assert target["kubernetesVersion"] == version.git_version
    if cluster.emulated:
        # The emulated hub is OpenShift on AWS by its Infrastructure (tests/e2e/conftest.py).
        assert target["platform"] == "AWS"
        assert "platformStatus.type=AWS" in target["platformEvidence"]
        assert target["nodes"]["byRole"] == {"control-plane": 1, "worker": 2}
        assert target["kernelVersion"] == {
            "5.14.0-570.1.1.el9_6.x86_64": 2,
            "5.14.0-427.50.1.el9_4.x86_64": 1,
        }
        assert target["kubeletVersion"] == "v1.32.1"
