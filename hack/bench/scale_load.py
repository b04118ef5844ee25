"""The live part of the operator scale bench: triggers runs, plays the Job controller, watches
verdicts arrive in PerfTest statuses, with timestamps (I/O, threads)."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import kubernetes
from scale_objects import TestRef

from localstack.jobs import JobScript, SimulatedJobController
from localstack.prometheus import ReplayRun
from perftest_operator import GROUP, VERSION
from perftest_operator.api.perfrun import RUN_NOW_ANNOTATION

BENCH_USER_AGENT = "perftest-scale-bench/1"
MANAGED_BY = "app.kubernetes.io/managed-by=perftest-operator"
RUN_LABEL = "perftest.dev/run"
TEST_LABEL = "perftest.dev/test"
TestKey = tuple[str, str]  # namespace, PerfTest name
RunKey = tuple[str, str]  # namespace, PerfRun name
RUNS_PER_TEST_SLACK = 3  # the idle queue gives some tests a few runs more than the average


def bench_api_client(kubeconfig: str) -> kubernetes.client.ApiClient:
    """A client of its own User-Agent, so that the emulator counts the bench's requests apart."""
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    configuration.connection_pool_maxsize = 16
    client = kubernetes.client.ApiClient(configuration)
    client.user_agent = BENCH_USER_AGENT
    return client


def _finished(job: dict[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions
    )


@dataclass
class Observations:
    """What the bench saw, in time.monotonic() seconds."""

    completed: dict[RunKey, tuple[int, float]] = field(default_factory=dict)  # trigger, when
    verdicts: dict[RunKey, float] = field(default_factory=dict)
    ready: set[TestKey] = field(default_factory=set)
    triggered: dict[int, float] = field(default_factory=dict)  # trigger -> run-now written
    job_seen: dict[int, float] = field(default_factory=dict)  # trigger -> its Job arrived
    stalls: int = 0  # triggers that had to wait for an idle PerfTest
    errors: list[str] = field(default_factory=list)


class ScaleLoad:
    """Starts runs at `rate` per second, completes their Jobs, and records verdict arrivals."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        tests: list[TestRef],
        windows: list[ReplayRun],
        *,
        runs_per_test: int = 1,
        completers: int = 4,
    ) -> None:
        """`runs_per_test`: about how many runs each test will get (each needs a later window)."""
        self.custom = kubernetes.client.CustomObjectsApi(api_client)
        # Only its finish(), in fast mode: no kube-burner process per Job at this scale.
        self.jobs = SimulatedJobController(api_client, lambda _: None, run_containers=False)
        self.tests = tests
        self.windows = windows
        self.seen = Observations()
        self._lock = threading.Lock()
        self._idle: collections.deque[TestKey] = collections.deque(
            (t.namespace, t.name) for t in tests
        )
        self._idle_changed = threading.Condition(self._lock)
        self._triggers: dict[TestKey, collections.deque[int]] = collections.defaultdict(
            collections.deque
        )
        self._in_flight: dict[RunKey, TestKey] = {}
        self._handled_jobs: set[RunKey] = set()
        # A history is in time order: each test's runs get ever later windows, tests spread
        # over the windows of each round.
        self._stride = max(1, (len(windows) - 1) // (runs_per_test + RUNS_PER_TEST_SLACK))
        self._position = {(t.namespace, t.name): i for i, t in enumerate(tests)}
        self._runs_of: collections.Counter[TestKey] = collections.Counter()
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(completers, "complete-job")
        self._threads = [
            threading.Thread(target=self._watch_loop, args=(name, fn), daemon=True, name=name)
            for name, fn in (("watch-perftests", self._on_perftest), ("watch-jobs", self._on_job))
        ]

    @contextlib.contextmanager
    def running(self) -> Iterator[ScaleLoad]:
        for thread in self._threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._pool.shutdown(wait=True, cancel_futures=True)

    # --- watches --------------------------------------------------------------------------

    def _list_call(self, name: str) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
        if name == "watch-perftests":
            return self.custom.list_cluster_custom_object, (GROUP, VERSION, "perftests"), {}
        return (
            self.custom.list_cluster_custom_object,
            ("batch", "v1", "jobs"),
            {"label_selector": MANAGED_BY},
        )

    def _watch_loop(self, name: str, handle: Callable[[dict[str, Any]], None]) -> None:
        call, args, kwargs = self._list_call(name)
        while not self._stop.is_set():
            watch = kubernetes.watch.Watch()
            try:
                for event in watch.stream(call, *args, timeout_seconds=60, **kwargs):
                    if self._stop.is_set():
                        break
                    if event["type"] in ("ADDED", "MODIFIED"):
                        handle(event["object"])
            except Exception as exc:  # restart the watch from a fresh list
                self.seen.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                time.sleep(0.5)
            finally:
                watch.stop()

    def _on_perftest(self, test: dict[str, Any]) -> None:
        arrived = time.monotonic()
        meta, status = test["metadata"], test.get("status") or {}
        key = (meta["namespace"], meta["name"])
        with self._lock:
            if any(c.get("type") == "Ready" for c in status.get("conditions") or []):
                self.seen.ready.add(key)
            run = (status.get("verdict") or {}).get("run")
            if not run:
                return
            run_key = (meta["namespace"], str(run))
            # Jobs the bench handled (the write of their Complete status may still be returning:
            # then the latency comes out negative, and shows it).
            if run_key in self._handled_jobs and run_key not in self.seen.verdicts:
                self.seen.verdicts[run_key] = arrived
                if self._in_flight.pop(run_key, None) is not None:
                    self._idle.append(key)
                    self._idle_changed.notify_all()

    def _on_job(self, job: dict[str, Any]) -> None:
        arrived = time.monotonic()
        meta = job["metadata"]
        labels = meta.get("labels") or {}
        run_key = (meta["namespace"], labels.get(RUN_LABEL, meta["name"]))
        if _finished(job):
            return
        with self._lock:
            if run_key in self._handled_jobs:
                return
            self._handled_jobs.add(run_key)
            test_key = (meta["namespace"], labels.get(TEST_LABEL, ""))
            queue = self._triggers.get(test_key)
            trigger = queue.popleft() if queue else -1
            if trigger >= 0:
                self._in_flight[run_key] = test_key
                self.seen.job_seen[trigger] = arrived
            window = self._next_window(test_key)
        self._pool.submit(self._complete, job, run_key, trigger, window)

    def _next_window(self, test: TestKey) -> ReplayRun:
        """The window of the test's next run, later than those of its earlier runs."""
        run = self._runs_of[test]
        self._runs_of[test] += 1
        index = 1 + run * self._stride + self._position.get(test, 0) % self._stride
        if index >= len(self.windows):
            # Its verdict would name an earlier run (the newest in time): the test stalls.
            self.seen.errors.append(f"{test}: run {run + 1} has no later window left")
            index = len(self.windows) - 1
        return self.windows[index]

    def _complete(
        self, job: dict[str, Any], run_key: RunKey, trigger: int, window: ReplayRun
    ) -> None:
        try:
            self.jobs.finish(job, JobScript(start=window.start, end=window.end, exit_code=0))
        except Exception as exc:
            self.seen.errors.append(f"complete {run_key}: {type(exc).__name__}: {exc}")
            return
        done = time.monotonic()  # the Job's Complete status write has returned
        with self._lock:
            self.seen.completed[run_key] = (trigger, done)

    # --- triggers -------------------------------------------------------------------------

    def wait_ready(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.seen.ready) >= count:
                    return True
            time.sleep(0.2)
        return False

    def trigger(self, index: int, timeout: float = 120.0) -> None:
        """Annotate the next idle PerfTest with run-now (a run of it is not active)."""
        with self._lock:
            if not self._idle:
                self.seen.stalls += 1
            if not self._idle_changed.wait_for(lambda: bool(self._idle), timeout=timeout):
                raise TimeoutError(f"no PerfTest became idle for trigger {index} in {timeout} s")
            namespace, name = self._idle.popleft()
            self._triggers[namespace, name].append(index)
        patch = {"metadata": {"annotations": {RUN_NOW_ANNOTATION: f"bench-{index}"}}}
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, "perftests", name, patch
        )
        with self._lock:
            self.seen.triggered[index] = time.monotonic()

    def trigger_to_job(self, triggers: range) -> list[float]:
        """Seconds from the run-now annotation's write to the run's Job arriving in the watch."""
        with self._lock:
            return [
                self.seen.job_seen[i] - self.seen.triggered[i]
                for i in triggers
                if i in self.seen.job_seen and i in self.seen.triggered
            ]

    def wait_verdicts(self, triggers: range, timeout: float) -> None:
        """Until every completed run of `triggers` has its verdict, or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                completed = [k for k, (t, _) in self.seen.completed.items() if t in triggers]
                if len(completed) >= len(triggers) and all(
                    k in self.seen.verdicts for k in completed
                ):
                    return
            time.sleep(0.1)

    def latencies(self, triggers: range) -> tuple[list[float], int, list[float]]:
        """Completion -> verdict seconds of the runs of `triggers`, how many have no verdict,
        and the completion times."""
        with self._lock:
            latencies, missing, completions = [], 0, []
            for key, (trigger, done) in self.seen.completed.items():
                if trigger not in triggers:
                    continue
                completions.append(done)
                if key in self.seen.verdicts:
                    latencies.append(self.seen.verdicts[key] - done)
                else:
                    missing += 1
                    self.seen.errors.append(f"no verdict seen for {key[0]}/{key[1]}")
            return latencies, missing + len(triggers) - len(completions), completions
