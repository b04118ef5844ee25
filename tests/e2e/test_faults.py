"""Faults survived: the operator killed in every phase of a run, Prometheus down while collecting."""

from __future__ import annotations

import collections
import contextlib
import http.server
import pathlib
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
import yaml

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, perftest_body, wait_for
from localstack.prometheus import ReplayRun
from localstack.remote_target import KEY, SECRET, TARGET_ENV, put_secret, target_kubeconfig
from localstack.story import FIRST_BAD_RUN, READ_ONLY_LATENCY, STORY_KPI, STORY_KPIS, replay_script

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

TEST = "faults"
NIGHTS = 8  # through the regression at night 8


def perftest(prometheus_url: str) -> dict[str, Any]:
    return perftest_body(TEST, prometheus_url)


def phase(kube: Kube, number: int) -> str | None:
    return ((kube.get("perfruns", f"{TEST}-{number}") or {}).get("status") or {}).get("phase")


def events_by_reason(kube: Kube, kind: str) -> collections.Counter[tuple[str, str]]:
    """(reason, run named in the message) -> how many Events say it."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for event in kube.events():
        if event.involved_object.kind != kind:
            continue
        named = re.findall(rf"{TEST}-\d+", event.message or "") or [event.involved_object.name]
        counts[(event.reason, named[0])] += 1
    return counts


class Killer:
    """Kills the operator (SIGKILL) at seeded random moments and starts a new one each time.

    Each new operator is killed a random 0 to 1.5 s after its runs next change state (a new
    run, a new phase), or after 20 s if they do not: every phase gets hit, and a slow start
    on a loaded machine cannot starve the runs.
    """

    def __init__(self, start_operator: Any, kube: Kube, seed: int) -> None:
        self.start_operator = start_operator
        self.kube = kube
        self.random = random.Random(seed)
        self.kills = 0
        self.current = start_operator()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _state(self) -> list[tuple[str, str]]:
        return sorted(
            (r["metadata"]["name"], str((r.get("status") or {}).get("phase")))
            for r in self.kube.perfruns()
        )

    def _loop(self) -> None:
        while not self._stop.is_set():
            seen = self._state()
            deadline = time.monotonic() + 20
            while self._state() == seen and time.monotonic() < deadline:
                if self._stop.wait(0.1):
                    return
            if self._stop.wait(self.random.uniform(0.0, 1.5)):
                return
            self.current.kill()
            self.kills += 1
            self.current = self.start_operator()

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=90)


def test_killing_the_operator_at_random_moments_loses_nothing_and_doubles_nothing(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    """SIGKILL right after state changes (seeded) while the nightlies go through every phase."""
    with (
        SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace),
        Killer(start_operator, kube, seed=7) as killer,
    ):
        kube.create_perftest(perftest(prometheus_url))
        for number in range(1, NIGHTS + 1):
            if number > 1:
                kube.annotate(TEST, "perftest.dev/run-now", f"night-{number}")
            wait_for(
                lambda number=number: phase(kube, number) in ("Succeeded", "Failed"),
                timeout=120,
                what=f"night {number} to finish",
            )
            # A run can finish within the killer's delay: no night without a kill.
            wait_for(
                lambda number=number: killer.kills >= number,
                timeout=60,
                what=f"the operator to be killed during night {number}",
            )
    assert killer.kills >= NIGHTS, "the operator was killed throughout"

    runs = {r["metadata"]["name"]: r for r in kube.perfruns()}
    assert sorted(runs) == sorted(f"{TEST}-{n}" for n in range(1, NIGHTS + 1)), (
        "one run per trigger"
    )
    for number in range(1, NIGHTS + 1):
        status = runs[f"{TEST}-{number}"]["status"]
        assert status["phase"] == "Succeeded", (number, status.get("message"))
        assert status["values"][STORY_KPI] == pytest.approx(READ_ONLY_LATENCY[number - 1])
    jobs = collections.Counter(j.metadata.labels["perftest.dev/run"] for j in kube.jobs())
    assert jobs == {name: 1 for name in runs}, "exactly one Job per run"

    on_test = events_by_reason(kube, "PerfTest")
    for name in runs:
        assert on_test[("RunStarted", name)] == 1, name
        assert on_test[("RunSucceeded", name)] == 1, name
    bad = f"{TEST}-{FIRST_BAD_RUN}"
    # One alarm per read-only KPI that the story moves (localstack.story.STORY_KPIS), each
    # raised once however often the operator was killed; a message starts with its KPI.
    alarms = collections.Counter(
        event.message.split(" ", 1)[0]
        for event in kube.events()
        if event.involved_object.kind == "PerfTest" and event.reason == "RegressionDetected"
    )
    assert alarms == dict.fromkeys(STORY_KPIS, 1), "each alarm is raised once"
    assert on_test[("RegressionDetected", bad)] == len(STORY_KPIS)
    # A kill between the run's last step and the PerfTest's status: the next operator's resume
    # writes it.
    test = wait_for(
        lambda: (
            (t := kube.get("perftests", TEST))
            and (t.get("status") or {}).get("lastRun", {}).get("name") == f"{TEST}-{NIGHTS}"
            and t
        ),
        timeout=60,
        what="the PerfTest's status to show the last night",
    )
    verdict = test["status"]["verdict"]
    regressions = [(cp["metric"], cp["run"]) for cp in verdict["changePoints"] if cp["regression"]]
    assert sorted(regressions) == [(metric, bad) for metric in STORY_KPIS]


class SwitchedProxy:
    """Forwards to Prometheus, or answers 503 while `down` (a Prometheus that is away)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.down = True
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if proxy.down:
                    self.send_error(503, "Prometheus is away")
                    return
                try:
                    with urllib.request.urlopen(proxy.upstream + self.path, timeout=30) as answer:
                        status, body = answer.status, answer.read()
                except urllib.error.HTTPError as failed:
                    status, body = failed.code, failed.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SwitchedProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def switched_prometheus(prometheus_url: str) -> Iterator[SwitchedProxy]:
    with SwitchedProxy(prometheus_url) as proxy:
        yield proxy


def test_killed_while_collecting_from_a_prometheus_that_is_away_the_run_completes_once(
    kube: Kube,
    replay: list[ReplayRun],
    switched_prometheus: SwitchedProxy,
    start_operator: Any,
) -> None:
    script = replay_script(replay)

    def away_once_the_job_runs(job: Any) -> Any:
        # Prometheus answered the PerfTest's check (no run starts otherwise); it goes away
        # while the benchmark runs, and the run has to wait for it to come back.
        switched_prometheus.down = True
        return script(job)

    switched_prometheus.down = False
    with SimulatedJobController(kube.api_client, away_once_the_job_runs, namespace=kube.namespace):
        first = start_operator()
        kube.create_perftest(perftest(switched_prometheus.url))
        run = wait_for(
            lambda: (
                (r := kube.get("perfruns", f"{TEST}-1"))
                and (r.get("status") or {}).get("collectAttempts", 0) >= 2
                and r
            ),
            timeout=60,
            what="collection attempts against the absent Prometheus",
        )
        assert run["status"]["phase"] == "Collecting", "never succeeded without its metrics"
        assert "values" not in run["status"] or not run["status"]["values"]
        first.kill()
        start_operator()
        time.sleep(1.0)  # the new operator retries against the absent Prometheus too
        assert phase(kube, 1) == "Collecting"
        switched_prometheus.down = False
        wait_for(lambda: phase(kube, 1) == "Succeeded", timeout=60, what="the run to succeed")
    status = kube.get("perfruns", f"{TEST}-1")["status"]
    assert status["values"][STORY_KPI] == pytest.approx(READ_ONLY_LATENCY[0])
    on_run = events_by_reason(kube, "PerfRun")
    assert on_run[("PrometheusUnavailable", f"{TEST}-1")] == 1, "one Warning, not one per attempt"
    assert on_run[("RunSucceeded", f"{TEST}-1")] == 1
    assert len(kube.jobs()) == 1


# --- the target's API goes away; objects deleted under a running run --------------------------


class SwitchedTcpProxy:
    """A TCP forwarder to the target's API; `cut()` drops every connection and refuses new ones."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.down = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._closed = threading.Event()
        self._open: list[socket.socket] = []

    def cut(self) -> None:
        self.down = True
        for open_socket in self._open:
            with contextlib.suppress(OSError):
                open_socket.shutdown(socket.SHUT_RDWR)
                open_socket.close()
        self._open.clear()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def __enter__(self) -> SwitchedTcpProxy:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        self.listener.close()


def remote_perftest(prometheus_url: str, target: Kube) -> dict[str, Any]:
    body = perftest(prometheus_url)
    body["spec"]["target"] = {
        "platform": "AWS",
        "namespace": target.namespace,
        "kubeconfigSecretRef": {"name": SECRET, "key": KEY},
    }
    return body


def target_port(target_cluster: Cluster) -> int:
    document = yaml.safe_load(target_cluster.kubeconfig.read_text())
    return int(urllib.parse.urlsplit(document["clusters"][0]["cluster"]["server"]).port or 0)


def test_a_target_api_that_goes_away_mid_run_is_waited_for(
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    if not target_cluster.emulated:
        pytest.skip("switches a proxy in front of the emulated target")
    release = threading.Event()
    script = replay_script(replay)
    with (
        SwitchedTcpProxy(target_port(target_cluster)) as proxy,
        SimulatedJobController(
            target.api_client,
            lambda job: script(job) if release.is_set() else None,
            namespace=target.namespace,
        ),
    ):
        put_secret(kube, target_kubeconfig(target_cluster, server=f"http://127.0.0.1:{proxy.port}"))
        start_operator(**TARGET_ENV)
        kube.create_perftest(remote_perftest(prometheus_url, target))
        wait_for(lambda: phase(kube, 1) == "Running", timeout=60, what="the remote Job to run")
        proxy.cut()
        waiting = wait_for(
            lambda: (
                (r := kube.get("perfruns", f"{TEST}-1"))
                and r["status"].get("reason") == "TargetUnreachable"
                and r
            ),
            timeout=60,
            what="the run to wait for its target",
        )
        assert waiting["status"]["phase"] == "Running"
        release.set()  # the Job finishes while the operator cannot see it
        time.sleep(1.0)
        assert phase(kube, 1) == "Running"
        proxy.down = False
        wait_for(lambda: phase(kube, 1) == "Succeeded", timeout=60, what="the run to succeed")
    on_run = events_by_reason(kube, "PerfRun")
    assert on_run[("TargetUnreachable", f"{TEST}-1")] == 1, "one Warning for the outage"
    assert len(target.jobs()) == 1


def test_a_job_deleted_by_someone_else_fails_its_run_once(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    with SimulatedJobController(kube.api_client, lambda job: None, namespace=kube.namespace):
        start_operator()
        kube.create_perftest(perftest(prometheus_url))
        wait_for(lambda: phase(kube, 1) == "Running", timeout=60, what="the Job to run")
        kube.batch.delete_namespaced_job(f"{TEST}-1", kube.namespace)
        run = wait_for(
            lambda: phase(kube, 1) == "Failed" and kube.get("perfruns", f"{TEST}-1"),
            timeout=60,
            what="the run to fail",
        )
    assert run["status"]["reason"] == "JobMissing"
    assert kube.jobs() == [], "no second Job"
    assert events_by_reason(kube, "PerfRun")[("RunFailed", f"{TEST}-1")] == 1


@pytest.mark.parametrize("deleted", ["PerfRun", "PerfTest"])
def test_deleting_a_running_run_or_its_test_removes_the_job_on_the_target(
    deleted: str,
    kube: Kube,
    target: Kube,
    target_cluster: Cluster,
    prometheus_url: str,
    start_operator: Any,
) -> None:
    put_secret(kube, target_kubeconfig(target_cluster))
    with SimulatedJobController(target.api_client, lambda job: None, namespace=target.namespace):
        start_operator(**TARGET_ENV)
        kube.create_perftest(remote_perftest(prometheus_url, target))
        wait_for(lambda: phase(kube, 1) == "Running", timeout=60, what="the remote Job to run")
        assert len(target.jobs()) == 1
        if deleted == "PerfRun":
            kube.custom.delete_namespaced_custom_object(
                "perftest.dev", "v1alpha1", kube.namespace, "perfruns", f"{TEST}-1"
            )
        else:
            kube.custom.delete_namespaced_custom_object(
                "perftest.dev", "v1alpha1", kube.namespace, "perftests", TEST
            )
        wait_for(lambda: target.jobs() == [], timeout=60, what="the Job on the target to go")
        wait_for(lambda: kube.perfruns() == [], timeout=60, what="the PerfRun to go")
    maps = target.core.list_namespaced_config_map(
        target.namespace, label_selector="perftest.dev/run"
    ).items
    assert maps == []
    if deleted == "PerfRun":
        assert kube.get("perftests", TEST) is not None, "the PerfTest stays"


# --- two replicas ---------------------------------------------------------------------------

PEERING_CRDS = pathlib.Path(__file__).resolve().parents[2] / "manifests/base/kopf-peering-crds.yaml"


@pytest.fixture()
def peering(cluster: Cluster, kube: Kube) -> str:
    """kopf's peering CRDs (as the manifests ship them) and this namespace's KopfPeering."""
    extensions = kubernetes.client.ApiextensionsV1Api(kube.api_client)
    for body in yaml.safe_load_all(PEERING_CRDS.read_text()):
        if body:
            with contextlib.suppress(kubernetes.client.exceptions.ApiException):
                extensions.create_custom_resource_definition(body)
    name = "perftest-operator"
    wait_for(
        lambda: _created_peering(kube, name),
        timeout=20,
        what="the KopfPeering to be created",
    )
    return name


def _created_peering(kube: Kube, name: str) -> bool:
    body = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": name}}
    try:
        kube.custom.create_namespaced_custom_object(
            "kopf.dev", "v1", kube.namespace, "kopfpeerings", body
        )
    except kubernetes.client.exceptions.ApiException as exc:
        return exc.status == 409
    return True


def test_two_replicas_one_acts_and_the_standby_takes_over_without_a_duplicate(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any, peering: str
) -> None:
    env = {"PERFTEST_PEERING_LIFETIME": "3"}
    with SimulatedJobController(kube.api_client, replay_script(replay), namespace=kube.namespace):
        replicas = [start_operator("--peering", peering, **env)]
        time.sleep(1.0)  # the older replica has the higher priority
        replicas.append(start_operator("--peering", peering, **env))
        kube.create_perftest(perftest(prometheus_url))
        wait_for(lambda: phase(kube, 1) == "Succeeded", timeout=60, what="night 1")
        acted = [r for r in replicas if f"PerfRun {TEST}-1 created" in r.log_text()]
        assert acted == [replicas[0]], "only the active replica acts"
        replicas[0].kill()
        kube.annotate(TEST, "perftest.dev/run-now", "night-2")
        wait_for(lambda: phase(kube, 2) == "Succeeded", timeout=90, what="night 2 after handover")
    assert f"PerfRun {TEST}-2 created" in replicas[1].log_text()
    runs = sorted(r["metadata"]["name"] for r in kube.perfruns())
    assert runs == [f"{TEST}-1", f"{TEST}-2"]
    jobs = collections.Counter(j.metadata.labels["perftest.dev/run"] for j in kube.jobs())
    assert jobs == {name: 1 for name in runs}
    on_test = events_by_reason(kube, "PerfTest")
    assert [on_test[("RunSucceeded", name)] for name in runs] == [1, 1]
