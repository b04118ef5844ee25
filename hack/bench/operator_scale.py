"""`make bench-operator`: the real operator at scale against the API emulator and a real Prometheus.

1,000 PerfTests in 10 namespaces, each with 100 finished PerfRuns cloned from one that the
operator itself finished in a warm-up, are seeded into the emulator; then runs are started
(run-now) and their Jobs completed by this bench at 10 per second, and it prints: the time from
a Job's completion to the run's verdict in the PerfTest's status, the operator's memory, its
API requests and Prometheus queries per run, and the CPU seconds of each process.

    .venv/bin/python hack/bench/operator_scale.py [--tests 1000 --history 100 --rate 10 ...]

Not part of `make test` or CI. I/O: starts processes, writes a work directory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # scale_* modules, then hack/ for localstack

import kubernetes  # noqa: E402
import yaml  # noqa: E402
from scale_load import (  # noqa: E402
    BENCH_USER_AGENT,
    RUNS_PER_TEST_SLACK,
    ScaleLoad,
    bench_api_client,
)
from scale_measure import (  # noqa: E402
    cpu_seconds,
    emulator_requests,
    find_pid,
    format_table,
    latency_figures,
    memory_mib,
    prometheus_requests,
    requests_per_run,
)
from scale_objects import (  # noqa: E402
    TEMPLATE_NAMESPACE,
    TEMPLATE_TEST,
    replay_windows,
    seed_lines,
    test_refs,
)

from localstack.emulator.process import EmulatorProcess  # noqa: E402
from localstack.jobs import JobScript, SimulatedJobController  # noqa: E402
from localstack.objects import GROUP, VERSION, perftest_body, wait_for  # noqa: E402
from localstack.operator_process import OperatorProcess  # noqa: E402
from localstack.prometheus import (  # noqa: E402
    PrometheusServer,
    ReplayRun,
    apiserver_latency_openmetrics,
    backfill_openmetrics,
)
from perftest_operator.api.settings import DEFAULT_JOB_SERVICE_ACCOUNT  # noqa: E402

REPO = HERE.parent.parent
CRDS = [REPO / "crds" / "perftests.perftest.dev.yaml", REPO / "crds" / "perfruns.perftest.dev.yaml"]
MAX_WINDOWS = 64  # distinct Job windows backfilled (more when a test gets more runs)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000, help="PerfTests")
    parser.add_argument("--history", type=int, default=100, help="finished PerfRuns per test")
    parser.add_argument("--rate", type=float, default=10.0, help="runs started per second")
    parser.add_argument("--runs", type=int, default=600, help="measured runs")
    parser.add_argument("--namespaces", type=int, default=10, help="namespaces the tests share")
    parser.add_argument(
        "--warmup", type=int, default=20, help="runs before the measured ones (not measured)"
    )
    parser.add_argument(
        "--poll-interval",
        default="10s",
        help="PERFTEST_POLL_INTERVAL of the operator (default: the Deployment's, 10s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--workdir", type=Path, help="keep logs and data here (default: temp)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the histories")
    return parser.parse_args(argv)


def operator_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "PERFTEST_POLL_INTERVAL": args.poll_interval,
        "PERFTEST_COLLECT_BACKOFF": "1",
        "PERFTEST_LOCAL_RUNS": "true",  # the benchmark's PerfTests run on the emulated hub
        "PERFTEST_SECRET_READING_WORKLOADS": "true",  # some of them run cluster-density-v2
    }


def install_crds(api_client: kubernetes.client.ApiClient) -> list[dict[str, Any]]:
    extensions = kubernetes.client.ApiextensionsV1Api(api_client)
    bodies = [yaml.safe_load(path.read_text()) for path in CRDS]
    for body in bodies:
        extensions.create_custom_resource_definition(body)
    return bodies


def _get(custom: Any, plural: str, namespace: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name
    )
    return result


def _settled(read: Callable[[], dict[str, Any]], seconds: float, timeout: float) -> dict[str, Any]:
    """The object once its resourceVersion has not changed for `seconds`."""
    deadline = time.monotonic() + timeout
    last = read()
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        current = read()
        if current["metadata"]["resourceVersion"] != last["metadata"]["resourceVersion"]:
            last, since = current, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return current
    return last


def template_objects(
    workdir: Path, args: argparse.Namespace, prometheus_url: str, window: ReplayRun
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """One real run through the operator: the CRDs, and the PerfTest and finished PerfRun it left."""
    with EmulatorProcess(workdir / "template", name="template") as emulator:
        client = bench_api_client(str(emulator.kubeconfig))
        crds = install_crds(client)
        core = kubernetes.client.CoreV1Api(client)
        custom = kubernetes.client.CustomObjectsApi(client)
        core.create_namespace({"metadata": {"name": TEMPLATE_NAMESPACE}})
        account = {"metadata": {"name": DEFAULT_JOB_SERVICE_ACCOUNT}}  # the hub Jobs' account
        core.create_namespaced_service_account(TEMPLATE_NAMESPACE, account)
        script = JobScript(start=window.start, end=window.end, exit_code=0)
        with (
            # Fast mode: no kube-burner process per Job; the benchmark measures the operator.
            SimulatedJobController(
                client, lambda _: script, namespace=TEMPLATE_NAMESPACE, run_containers=False
            ),
            OperatorProcess(
                emulator.kubeconfig, workdir / "operator-template.log", env=operator_env(args)
            ),
        ):
            wait_for(lambda: custom.list_namespaced_custom_object(
                GROUP, VERSION, TEMPLATE_NAMESPACE, "perftests"), timeout=30, what="perftests served")  # fmt: skip
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "PerfTest",
                **perftest_body(TEMPLATE_TEST, prometheus_url),
            }
            custom.create_namespaced_custom_object(
                GROUP, VERSION, TEMPLATE_NAMESPACE, "perftests", body
            )
            test = wait_for(
                lambda: (
                    (t := _get(custom, "perftests", TEMPLATE_NAMESPACE, TEMPLATE_TEST))
                    .get("status", {})
                    .get("verdict")
                    and t
                ),
                timeout=120,
                what="the warm-up run's verdict",
            )
            run_name = test["status"]["verdict"]["run"]
            run = _settled(
                lambda: _get(custom, "perfruns", TEMPLATE_NAMESPACE, run_name), 3.0, 30.0
            )
            test = _settled(
                lambda: _get(custom, "perftests", TEMPLATE_NAMESPACE, TEMPLATE_TEST), 1.0, 30.0
            )
    if (run.get("status") or {}).get("phase") != "Succeeded" or not run["status"].get("values"):
        raise RuntimeError(f"the warm-up run did not succeed: {json.dumps(run.get('status'))}")
    return crds, test, run


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    rng = random.Random(args.seed)
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="bench-operator-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        else:
            workdir = args.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        total = args.warmup + args.runs
        runs_per_test = math.ceil(total / args.tests)
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        windows = replay_windows(
            1 + max(min(total, MAX_WINDOWS - 1), runs_per_test + RUNS_PER_TEST_SLACK),
            end=now - datetime.timedelta(hours=1),
            rng=rng,
            read_only=0.9,
            mutating=0.5,
        )
        say(f"Backfilling Prometheus with {len(windows)} Job windows")
        backfill_openmetrics(apiserver_latency_openmetrics(windows), workdir / "prometheus")
        prometheus = stack.enter_context(PrometheusServer(workdir / "prometheus"))

        say("Warm-up: one run through the operator, to clone what it leaves")
        crds, test_template, run_template = template_objects(
            workdir, args, prometheus.url, windows[0]
        )
        labels = run_template["metadata"].get("labels") or {}
        say(f"Template PerfRun {run_template['metadata']['name']} labels: {sorted(labels)}")

        tests = test_refs(args.tests, args.namespaces, rng)
        seed_file = workdir / "seed.jsonl"
        seed_started = time.monotonic()
        with seed_file.open("w", encoding="utf-8") as out:
            for line in seed_lines(
                crds=crds,
                namespaces=sorted({t.namespace for t in tests}),
                tests=tests,
                test_template=test_template,
                run_template=run_template,
                history=args.history,
                history_end=windows[0].start,
                rng=rng,
            ):
                out.write(line + "\n")
        write_seconds = time.monotonic() - seed_started
        say(
            f"Seed file: {args.tests} PerfTests, {args.tests * args.history} PerfRuns,"
            f" {seed_file.stat().st_size / 2**20:.0f} MiB in {write_seconds:.1f} s"
        )
        load_started = time.monotonic()
        emulator = stack.enter_context(
            EmulatorProcess(
                workdir / "emulator", seed=seed_file, startup_timeout=900, log_requests=False
            )
        )
        seed_seconds = time.monotonic() - load_started
        assert emulator.pid is not None
        say(f"Emulator seeded and serving in {seed_seconds:.1f} s")

        client = bench_api_client(str(emulator.kubeconfig))
        load = stack.enter_context(
            ScaleLoad(client, tests, windows, runs_per_test=runs_per_test).running()
        )
        operator = OperatorProcess(
            emulator.kubeconfig,
            workdir / "operator.log",
            env=operator_env(args),
            ready_timeout_seconds=300,
            verbose=False,  # as deployed: INFO logs
        )
        resume_started = time.monotonic()
        stack.enter_context(operator)
        operator_pid = find_pid(operator.health_url)
        if not load.wait_ready(len(tests), timeout=900):
            raise RuntimeError(f"only {len(load.seen.ready)} PerfTests got a Ready condition")
        resume_seconds = time.monotonic() - resume_started
        rss_after_resume = memory_mib(operator_pid)["VmRSS"]
        say(f"Operator resumed {len(tests)} PerfTests in {resume_seconds:.1f} s")

        pids = {
            "operator": operator_pid,
            "emulator": emulator.pid,
            "prometheus": find_pid(f"--web.listen-address=127.0.0.1:{prometheus.port}"),
        }
        measured = range(args.warmup, total)
        say(f"Load: {total} runs at {args.rate}/s ({args.warmup} warm-up)")
        begin = time.monotonic()
        for index in range(total):
            if index == args.warmup:
                load.wait_verdicts(range(0, args.warmup), timeout=120)
                requests_before = emulator_requests(emulator.url)
                queries_before = prometheus_requests(prometheus.url)
                cpu_before, bench_cpu_before = _cpu(pids), time.process_time()
                measure_started = time.monotonic()
                begin = measure_started - index / args.rate
            delay = begin + index / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            load.trigger(index)
        load.wait_verdicts(measured, timeout=300)
        measured_seconds = time.monotonic() - measure_started
        cpu_after, bench_cpu_after = _cpu(pids), time.process_time()
        requests_after = emulator_requests(emulator.url)
        queries_after = prometheus_requests(prometheus.url)
        memory = memory_mib(operator_pid)
        latencies, missing, completions = load.latencies(measured)

        # Everything but the bench's own client and its urllib readings of the counts.
        operator_clients = {client for client, _, _ in requests_after} - {
            BENCH_USER_AGENT.split("/")[0],
            "Python-urllib",
        }
        runs = len(latencies) + missing
        by_verb, by_resource = requests_per_run(
            requests_before, requests_after, clients=operator_clients, runs=runs
        )
        metrics = len(run_template["status"]["values"])
        range_queries = (queries_after["range"] - queries_before["range"]) / max(runs, 1)
        cpu = {name: cpu_after[name] - cpu_before[name] for name in pids} | {
            "bench": bench_cpu_after - bench_cpu_before
        }
        span = (max(completions) - min(completions)) if len(completions) > 1 else math.nan
        figures: dict[str, Any] = {
            "tests": args.tests,
            "history": args.history,
            "namespaces": args.namespaces,
            "rate": args.rate,
            "poll_interval": args.poll_interval,
            "measured_runs": runs,
            "achieved_rate": (len(completions) - 1) / span if span and span > 0 else math.nan,
            "latency_seconds": latency_figures(latencies),
            "missing_verdicts": missing,
            "trigger_to_job_seconds": latency_figures(load.trigger_to_job(measured)),
            "operator": {
                "peak_mib": memory["VmHWM"],
                "rss_end_mib": memory["VmRSS"],
                "rss_after_resume_mib": rss_after_resume,
            },
            "api_per_run": by_verb,
            "api_per_run_by_resource": by_resource,
            "api_clients": sorted(operator_clients),
            "metrics": metrics,
            "prometheus_per_run": {
                "range": range_queries,
                "instant": (queries_after["instant"] - queries_before["instant"]) / max(runs, 1),
                "range_per_metric": range_queries / max(metrics, 1),
            },
            "cpu": {
                name: {"seconds": seconds, "cores": seconds / measured_seconds}
                for name, seconds in cpu.items()
            },
            "measured_seconds": measured_seconds,
            "seed_seconds": seed_seconds,
            "resume_seconds": resume_seconds,
            "trigger_stalls": load.seen.stalls,
            "bench_errors": load.seen.errors[:20],
            "template_labels": sorted(labels),
        }
    figures["wall_seconds"] = time.monotonic() - started
    print()
    print(format_table(figures))
    if figures["bench_errors"]:
        print(f"bench errors (first {len(figures['bench_errors'])}): {figures['bench_errors']}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
