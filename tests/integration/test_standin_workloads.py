"""The kube-burner-ocp stand-in runs every workload the operator renders, as its ServiceAccount.

Against an API seeded as OpenShift 4.19 (or a real cluster, PERFTEST_TEST_KUBECONFIG), each
runnable workload of the pinned contract runs with the command line ``runner.command`` renders,
as a ServiceAccount bound to the ClusterRole ``runner.rbac`` generates for it: nothing may be
refused, the requests are the ones ``contract.calls.run_calls`` lists, in its order, and the run
leaves what kube-burner leaves. Then kube-burner's other endings, with their words and outputs
(KB v1.17.2 pkg/burner/job.go:192-299), as the operator's summary reader sees them.
"""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from standin_support import (
    UUID,
    StandInRun,
    StandInRunner,
    argv_for,
    openshift_runner,
    spec_for,
    variants,
)

from localstack.openshift_seed import request
from localstack.standin_outputs import Ending, Scenario
from perftest_operator.burnerjob.summary import summarize_run
from perftest_operator.contract.calls import active_jobs, resolve_flags, run_calls
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.rbac import workload_rules

CONTRACT = load_contract()
RUNNABLE = [name for name, w in CONTRACT.workloads.items() if w.refused is None]
CASES = [(name, label) for name in RUNNABLE for label, _ in variants(CONTRACT, name)]
POD_KINDS = {"Pod", "Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "Job"}
REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInRunner]:
    yield from openshift_runner(tmp_path_factory.mktemp("standin"), CONTRACT)


def keys(calls: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return list(dict.fromkeys(calls))


def out_of_order(part: Sequence[object], whole: Sequence[object]) -> list[object]:
    """The items of ``part`` that come before one listed ahead of them in ``whole``."""
    position = {item: index for index, item in enumerate(whole)}
    late: list[object] = []
    highest = -1
    for item in part:
        if position[item] < highest:
            late.append(item)
        highest = max(highest, position[item])
    return late


def quantile_documents(run: StandInRun, job: str) -> list[dict[str, object]]:
    found = run.output(f"podLatencyQuantilesMeasurement-{job}.json")
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize(("workload", "label"), CASES, ids=[f"{w}-{v}" for w, v in CASES])
def test_each_workload_runs_with_its_generated_role_and_nothing_is_refused(
    runner: StandInRunner, workload: str, label: str
) -> None:
    spec = dict(variants(CONTRACT, workload))[label]
    argv = argv_for(spec)
    run = runner.run(argv, namespace=runner.account(workload))

    assert run.denied == (), run.denied
    assert run.rc == 0, run.stdout[-3000:] + run.stderr
    assert run.last_line().endswith(
        f'msg="👋 kube-burner run completed with rc 0 for UUID {UUID}" file="helpers.go:104"'
    )
    log_file = run.workdir / f"kube-burner-ocp-{UUID}.log"
    assert log_file.read_text() == run.stdout  # logrus writes to stdout and the file alike

    # The requests are the contract's, in its order (conditional ones may not happen).
    flags = resolve_flags(CONTRACT, workload, argv[2:])
    listed = run_calls(CONTRACT, workload, flags)
    expected = keys([(c.phase, c.verb, c.group, c.resource) for c in listed])
    # Each job's requests in the contract's order, and the run's own (startup, the workload's
    # reads, image preloading, garbage collection) around them; run_calls lists each kind of
    # request once, where the first job makes it.
    for job in dict.fromkeys(r["job"] for r in run.resource_requests):
        made = keys(
            [
                (r["phase"], r["verb"], r["group"], r["resource"])
                for r in run.resource_requests
                if r["job"] == job
            ]
        )
        assert set(made) <= set(expected), set(made) - set(expected)
        # A measurement cleans up its own namespace when it stops, after the job (KB
        # pkg/measurements/service_latency.go:220-228, netpol_latency.go:527-533); run_calls
        # lists all of a measurement's calls together, before the jobs.
        at_stop = {
            k
            for k in made
            if k[0].startswith("measurement:")
            and k[3] == "namespaces"
            and k[1] in ("list", "delete")
        }
        assert out_of_order([k for k in made if k not in at_stop], expected) == [], job

    # kube-burner's outputs: one jobSummary per job, the pod-latency quantiles of jobs with pods.
    jobs = active_jobs(CONTRACT.workloads[workload], flags)
    summaries = run.output("jobSummary.json")
    assert [s["jobConfig"]["name"] for s in summaries] == [job.name for job in jobs]
    assert all(s["passed"] is True and s["uuid"] == UUID for s in summaries)
    measured = {m.name for m in CONTRACT.workloads[workload].measurements if m.when.holds(flags)}
    for job in jobs:
        if "podLatency" in measured and any(o.kind in POD_KINDS for o in job.active_objects(flags)):
            documents = quantile_documents(run, job.name)
            names = {d["quantileName"] for d in documents}
            assert {"Ready", "PodScheduled", "ContainersReady", "Initialized"} <= names
            assert all(isinstance(d["P99"], int) and d["jobName"] == job.name for d in documents)


def cluster_density(runner: StandInRunner, scenario: Scenario, **spec: object) -> StandInRun:
    argv = argv_for(spec_for(CONTRACT, "cluster-density-v2", iterations=2, **spec))
    return runner.run(argv, namespace=runner.account("cluster-density-v2"), scenario=scenario)


def summary_of(run: StandInRun) -> object:
    """What the runner image's entry point makes of the run (burnerjob.summary)."""
    directory = next(run.workdir.glob(f"collected-metrics-{UUID}"), None)
    summaries = run.output("jobSummary.json") if directory else []
    quantiles = (
        {p.stem: __import__("json").loads(p.read_text()) for p in directory.glob("*Quantiles*")}
        if directory
        else {}
    )
    return summarize_run(
        run.rc, job_summaries=summaries, quantile_files=quantiles, log_lines=run.stdout.splitlines()
    )


WINDOW = (
    datetime.datetime(2025, 1, 15, 2, 0, 12, tzinfo=datetime.UTC),
    datetime.datetime(2025, 1, 15, 2, 14, 40, tzinfo=datetime.UTC),
)


def test_a_completed_run_measures_the_scenarios_window_and_quantiles(runner: StandInRunner) -> None:
    run = cluster_density(runner, Scenario(*WINDOW, pod_ready_p99_ms=4_200))
    assert run.rc == 0 and run.denied == ()
    [summary] = run.output("jobSummary.json")
    assert (summary["timestamp"], summary["endTimestamp"]) == (
        "2025-01-15T02:00:12Z",
        "2025-01-15T02:14:40Z",
    )
    assert summary["elapsedTime"] == 868
    read = summary_of(run)
    assert read.window == WINDOW and read.benchmark_completed
    assert read.quantile("podLatency", "Ready", "P99") == 4_200


def test_a_benchmark_timeout_exits_2_with_the_timeout_in_every_job_summary(
    runner: StandInRunner,
) -> None:
    run = cluster_density(runner, Scenario(*WINDOW, ending=Ending.BENCHMARK_TIMEOUT), timeout="45m")
    assert run.rc == 2 and run.denied == ()
    assert 'level=error msg="45m0s timeout reached" file="job.go:271"' in run.stdout
    [summary] = run.output("jobSummary.json")
    assert summary["passed"] is False and summary["executionErrors"] == "45m0s timeout reached"
    # kube-burner garbage-collects only the jobs before the one the timer stopped (job.go:275-283).
    collected = [r for r in run.resource_requests if r["phase"] == "gc"]
    assert collected == []
    read = summary_of(run)
    assert read.benchmark_timeout and not read.gc_timeout and not read.benchmark_completed
    request(runner.api, "DELETE", "/api/v1/namespaces/cluster-density-v2-0")
    request(runner.api, "DELETE", "/api/v1/namespaces/cluster-density-v2-1")


def test_a_garbage_collection_timeout_after_success_exits_2_with_the_run_passed(
    runner: StandInRunner,
) -> None:
    run = cluster_density(runner, Scenario(*WINDOW, ending=Ending.GC_TIMEOUT))
    assert run.rc == 2 and run.denied == ()
    [summary] = run.output("jobSummary.json")
    assert summary["passed"] is True and "executionErrors" not in summary
    assert (
        'level=error msg="garbage collection timeout reached" file="helpers.go:102"' in run.stdout
    )
    read = summary_of(run)
    assert read.gc_timeout and not read.benchmark_timeout and read.benchmark_completed


def test_a_p99_ready_over_the_threshold_exits_4(runner: StandInRunner) -> None:
    run = cluster_density(
        runner, Scenario(*WINDOW, pod_ready_p99_ms=95_250), extraArgs=["--pod-ready-threshold=90s"]
    )
    assert run.rc == 4 and run.denied == ()
    message = "podLatency: P99 Ready latency (95.25s) higher than configured threshold: 1m30s"
    assert f'level=error msg="{message}"' in run.stdout
    [summary] = run.output("jobSummary.json")
    assert summary["passed"] is False and "executionErrors" not in summary
    read = summary_of(run)
    assert read.thresholds_exceeded == (message,) and read.benchmark_completed


def test_pods_that_never_get_ready_end_the_run_with_1_and_no_summary(runner: StandInRunner) -> None:
    run = cluster_density(runner, Scenario(*WINDOW, ending=Ending.WAIT_TIMEOUT))
    assert run.rc == 1 and run.denied == ()
    assert run.last_line().startswith('time="')
    assert (
        'level=fatal msg="Timeout occurred while waiting for objects in namespace cluster-density-v2-0: context deadline exceeded"'
        in run.last_line()
    )
    assert not list(run.workdir.rglob("jobSummary.json"))
    for index in (0, 1):
        request(runner.api, "DELETE", f"/api/v1/namespaces/cluster-density-v2-{index}")


def test_a_missing_required_flag_is_reported_only_after_the_health_check_and_the_metadata(
    runner: StandInRunner,
) -> None:
    """cobra validates required flags after kube-burner-ocp's PersistentPreRun (COBRA
    command.go:954-982): the cluster has been read when it says what is missing."""
    argv = [
        a
        for a in argv_for(spec_for(CONTRACT, "cluster-density-v2"))
        if not a.startswith("--iterations")
    ]
    run = runner.run(argv, namespace=runner.account("cluster-density-v2"))
    assert run.rc == 1
    assert run.stderr.startswith(
        'Error: required flag(s) "iterations" not set\nUsage:\n  kube-burner-ocp cluster-density-v2 [flags]\n'
    )
    made = {(r["verb"], r["resource"]) for r in run.resource_requests}
    assert {("list", "clusteroperators"), ("get", "infrastructures"), ("get", "networks")} <= made
    assert ("create", "namespaces") not in made


@pytest.fixture()
def without_infrastructure(runner: StandInRunner) -> Iterator[None]:
    path = "/apis/config.openshift.io/v1/infrastructures/cluster"
    status, saved = request(runner.api, "GET", path)
    if not runner.cluster.emulated:
        pytest.skip("deletes the Infrastructure: emulated clusters only")
    request(runner.api, "DELETE", path)
    yield
    if status == 200:
        saved["metadata"] = {"name": "cluster"}
        request(runner.api, "POST", path.rsplit("/", 1)[0], saved)


def test_without_an_infrastructure_the_openshift_metadata_is_not_read(
    runner: StandInRunner, without_infrastructure: None
) -> None:
    """GCM ocp-metadata.go:57-60,208-225: a NotFound Infrastructure is not OpenShift."""
    run = cluster_density(runner, Scenario())
    assert run.rc == 0 and run.denied == ()
    made = {(r["verb"], r["group"], r["resource"]) for r in run.resource_requests}
    assert ("get", "config.openshift.io", "infrastructures") in made
    assert ("get", "config.openshift.io", "clusterversions") in made
    assert ("get", "config.openshift.io", "networks") not in made
    assert ("get", "", "configmaps") not in made


def test_the_custom_workload_sample_runs_as_plain_kube_burner(runner: StandInRunner) -> None:
    sample = REPO / "manifests" / "samples" / "custom-workload"
    files = {
        "/etc/kube-burner/config.yml": (sample / "kube-burner.yml").read_text(),
        "/etc/kube-burner/pod.yml": (sample / "pod.yml").read_text(),
    }
    spec = {
        "name": None,
        "configMapRef": {"name": "pause-pods-config", "key": "config.yml"},
        "iterations": 3,
        "qps": 20,
        "burst": 20,
    }
    from perftest_operator.api.spec import parse_workload
    from perftest_operator.runner.command import kube_burner_environment, run_command

    workload = parse_workload(spec)
    argv = run_command(workload, uuid=UUID).argv
    run = runner.run(
        argv,
        namespace=runner.account(None),
        files=files,
        env=kube_burner_environment(workload, uuid=UUID),
    )
    assert run.denied == () and run.rc == 0, run.stdout[-2000:] + run.stderr
    assert run.last_line().endswith(f'msg="👋 Exiting kube-burner {UUID}" file="kube-burner.go:89"')
    assert (run.workdir / f"kube-burner-{UUID}.log").exists()
    [summary] = run.output("jobSummary.json")
    assert (
        summary["jobConfig"]["name"] == "pause-pods" and summary["jobConfig"]["jobIterations"] == 3
    )
    assert next(run.workdir.glob("collected-metrics")).is_dir()
    created = [
        r for r in run.resource_requests if r["verb"] == "create" and r["resource"] == "pods"
    ]
    assert len(created) == 3 and {r["namespace"] for r in created} == {"perftest-pause-pods"}


def test_egressip_without_get_pods_cannot_create_the_role_it_grants(runner: StandInRunner) -> None:
    """egressip creates a Role granting get/list/watch on pods (KBO cmd/config/egressip/
    prometheus_role.yml, v1.7.3). The run itself only lists and watches pods, but the API server
    refuses a Role that grants more than its creator holds (RBAC escalation prevention): the 403
    is logged and retried (KB pkg/burner/create.go:277-283, v1.17.2), the job's objects fail
    verification and the run ends 1. So the generated role holds get on pods too."""
    full = workload_rules(CONTRACT, "egressip")
    narrowed = [
        replace(rule, verbs=tuple(verb for verb in rule.verbs if verb != "get"))
        if rule.api_group == "" and rule.resources == ("pods",)
        else rule
        for rule in full
    ]
    assert narrowed != list(full)
    argv = argv_for(spec_for(CONTRACT, "egressip"))
    try:
        run = runner.run(argv, namespace=runner.account("egressip", narrowed))
    finally:
        runner.account("egressip")  # the module's other tests use the generated role
    assert run.rc == 1
    assert [(d["verb"], d["resource"]) for d in run.denied] == [("create", "roles")]
    [refused] = [line for line in run.stdout.splitlines() if "Error creating object Role/" in line]
    assert "attempting to grant RBAC permissions not currently held" in refused
    # logrus quotes the message: the API server's {APIGroups:[""], ...} with its quotes escaped
    assert r"{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}" in refused
    assert 'msg="object verification failed"' in run.stdout
