"""Plays Kubernetes' Job controller for tests and the demo: runs each Job's pod on a script (I/O).

Nothing runs Jobs in an API emulator (as with controller-runtime's envtest), so this stands in
for the Job controller: for each new Job that its script gives a ``JobScript``, it has the
simulated kubelet (``localstack.kubelet``) run the pod's container for real (the runner image's
entry point, running the stand-in for kube-burner-ocp with the pod's ServiceAccount token), then
creates the Pod that ran, with the container's exit code and termination message, and sets the
Job's status (startTime, completionTime, Complete for exit 0 and Failed otherwise) to the times
the script gives. The script's window and exit code are what the stand-in plays
(``JobScript.scenario``): the JobSummary it writes holds that window, and it ends as kube-burner
does with that code. A container that exits otherwise, or makes a request the API refuses, is
an error of the simulation (``errors``; ``runs`` keeps every container's result).

``run_containers=False`` finishes Jobs from the script alone, with no process: only for the scale
benchmarks (hack/bench), which finish thousands of Jobs and measure the operator, not kube-burner.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

from localstack.kubelet import ContainerResult, SimulatedKubelet
from localstack.standin_outputs import Ending, Scenario, scenario_env

MANAGED_BY = "app.kubernetes.io/managed-by=perftest-operator"


# How kube-burner ends with each exit code, by default (``standin_outputs.Ending``): 1 as a
# waiter that times out (pods never ready), 2 as the benchmark's --timeout, 4 as a P99 Ready
# latency over the threshold. 3 (an alert) cannot happen: the operator runs --alerting=false.
ENDINGS = {
    0: Ending.COMPLETED,
    1: Ending.WAIT_TIMEOUT,
    2: Ending.BENCHMARK_TIMEOUT,
    4: Ending.THRESHOLD,
}


@dataclass(frozen=True)
class JobScript:
    """What happens to one Job: when it ran, kube-burner's exit code and how it got there."""

    start: datetime.datetime
    end: datetime.datetime
    exit_code: int = 0
    ending: Ending | None = None  # None: ENDINGS[exit_code]
    pod_ready_p99_ms: int | None = None
    max_iterations: int | None = None  # fewer of the workload's iterations (fewer requests)

    def scenario(self) -> Scenario:
        ending = self.ending or ENDINGS.get(self.exit_code)
        if ending is None:
            raise ValueError(
                f"kube-burner cannot end with {self.exit_code} under the operator's flags"
            )
        return Scenario(
            start=self.start,
            end=self.end,
            ending=ending,
            pod_ready_p99_ms=self.pod_ready_p99_ms,
            max_iterations=self.max_iterations,
        )


Script = Callable[[Mapping[str, Any]], JobScript | None]


def _time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_finished(job: Mapping[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions
    )


def build_pod(
    job: Mapping[str, Any], script: JobScript, result: ContainerResult | None = None
) -> dict[str, Any]:
    """The Pod the Job ran, terminated with its container's exit code (else the script's)."""
    meta = job["metadata"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    exit_code = script.exit_code if result is None else result.exit_code
    succeeded = exit_code == 0
    terminated: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": "Completed" if succeeded else "Error",
        "startedAt": _time(script.start),
        "finishedAt": _time(script.end),
    }
    if result is not None and result.message:
        terminated["message"] = result.message
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['name']}-sim",
            "namespace": meta["namespace"],
            "labels": {
                "job-name": meta["name"],
                "batch.kubernetes.io/job-name": meta["name"],
                "controller-uid": meta.get("uid", ""),
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": meta["name"],
                    "uid": meta.get("uid", ""),
                    "controller": True,
                }
            ],
        },
        "spec": job["spec"]["template"]["spec"],
        "status": {
            "phase": "Succeeded" if succeeded else "Failed",
            "startTime": _time(script.start),
            "containerStatuses": [
                {
                    "name": container["name"],
                    "image": container.get("image", ""),
                    "imageID": "",
                    "containerID": f"containerd://{meta.get('uid', '')}",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": terminated},
                }
            ],
        },
    }


def build_job_status(script: JobScript, exit_code: int | None = None) -> dict[str, Any]:
    """The status the Job controller writes when the Job's only Pod has ended."""
    end = _time(script.end)
    if (script.exit_code if exit_code is None else exit_code) == 0:
        return {
            "startTime": _time(script.start),
            "completionTime": end,
            "succeeded": 1,
            "active": 0,
            "conditions": [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "reason": "CompletionsReached",
                    "lastTransitionTime": end,
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "reason": "CompletionsReached",
                    "lastTransitionTime": end,
                },
            ],
        }
    return {
        "startTime": _time(script.start),
        "failed": 1,
        "active": 0,
        "conditions": [
            {
                "type": "FailureTarget",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": end,
            },
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": end,
            },
        ],
    }


def _status_message(exc: ApiException) -> str:
    """The message of the API's Status body, else the exception's reason."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


class SimulatedJobController:
    """Runs every new perftest Job as `script` says (None: leave it running for now)."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        script: Script,
        *,
        namespace: str | None = None,
        poll_seconds: float = 0.2,
        run_containers: bool = True,
    ) -> None:
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.kubelet = SimulatedKubelet(api_client) if run_containers else None
        self.script = script
        self.namespace = namespace
        self.poll_seconds = poll_seconds
        self.finished: dict[str, JobScript] = {}
        self.runs: dict[str, ContainerResult] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="simulated-job-controller", daemon=True
        )

    def __enter__(self) -> SimulatedJobController:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _list_jobs(self) -> list[dict[str, Any]]:
        if self.namespace:
            response = self.batch.list_namespaced_job(
                self.namespace, label_selector=MANAGED_BY, _preload_content=False
            )
        else:
            response = self.batch.list_job_for_all_namespaces(
                label_selector=MANAGED_BY, _preload_content=False
            )
        items: list[dict[str, Any]] = json.loads(response.data).get("items", [])
        return items

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for job in self._list_jobs():
                    key = f"{job['metadata']['namespace']}/{job['metadata']['name']}"
                    if key in self.finished or _is_finished(job):
                        continue
                    script = self.script(job)
                    if script is not None:
                        # Once: a pod that cannot run (no ServiceAccount, say) is not retried.
                        self.finished[key] = script
                        self.finish(job, script)
            except Exception as exc:  # keep playing; the test reads .errors
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.poll_seconds)

    def run_container(self, job: Mapping[str, Any], script: JobScript) -> ContainerResult:
        """The Job's pod's container, run by the simulated kubelet; mismatches are errors."""
        assert self.kubelet is not None
        meta = job["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        result = self.kubelet.run(
            meta["namespace"], job["spec"]["template"]["spec"], scenario_env(script.scenario())
        )
        self.runs[key] = result
        if result.exit_code != script.exit_code:
            self.errors.append(
                f"{key}: the container exited {result.exit_code}, the script said "
                f"{script.exit_code}:\n{result.output[-3000:]}"
            )
        for denied in result.denied:
            self.errors.append(
                f"{key}: {denied.get('method')} {denied.get('path')} was refused ({denied.get('status')})"
            )
        return result

    def finish(self, job: Mapping[str, Any], script: JobScript) -> None:
        meta = job["metadata"]
        # The Pod first, as the Job controller makes it: admission (PodSecurity, say) may refuse
        # it, and then no container runs; the real controller records FailedCreate and retries
        # until the Job's deadline, which the simulation reports as an error instead.
        created = {k: v for k, v in build_pod(job, script).items() if k != "status"}
        try:
            self.core.create_namespaced_pod(meta["namespace"], created)
        except ApiException as exc:
            if exc.status == 403:
                self.errors.append(
                    f"{meta['namespace']}/{meta['name']}: FailedCreate: {_status_message(exc)}"
                )
                return
            if exc.status != 409:
                raise
        result = None if self.kubelet is None else self.run_container(job, script)
        pod = build_pod(job, script, result)
        # A real API server ignores status on create: write it through the status subresource.
        self.core.patch_namespaced_pod_status(
            pod["metadata"]["name"], meta["namespace"], {"status": pod["status"]}
        )
        exit_code = None if result is None else result.exit_code
        try:
            self.batch.patch_namespaced_job_status(
                meta["name"], meta["namespace"], {"status": build_job_status(script, exit_code)}
            )
        except ApiException as exc:
            if exc.status != 404:  # deleted while its container ran: nothing left to finish
                raise
