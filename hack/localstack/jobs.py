"""Plays Kubernetes' Job controller for tests and the demo: completes or fails Jobs on a script.

Nothing runs Jobs in an API emulator (as with controller-runtime's envtest), so this stands in
for the Job controller and the kubelet: for each new Job it creates the Pod that would have run,
with kube-burner's exit code in the container status, and sets the Job's status (startTime,
completionTime, Complete/Failed conditions) to the times the script gives.
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

MANAGED_BY = "app.kubernetes.io/managed-by=perftest-operator"


@dataclass(frozen=True)
class JobScript:
    """What happens to one Job: when it ran, and kube-burner's exit code."""

    start: datetime.datetime
    end: datetime.datetime
    exit_code: int = 0


Script = Callable[[Mapping[str, Any]], JobScript | None]


def _time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_finished(job: Mapping[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions
    )


def build_pod(job: Mapping[str, Any], script: JobScript) -> dict[str, Any]:
    """The Pod the Job would have run, terminated with the script's exit code."""
    meta = job["metadata"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    succeeded = script.exit_code == 0
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
                    "state": {
                        "terminated": {
                            "exitCode": script.exit_code,
                            "reason": "Completed" if succeeded else "Error",
                            "startedAt": _time(script.start),
                            "finishedAt": _time(script.end),
                        }
                    },
                }
            ],
        },
    }


def build_job_status(script: JobScript) -> dict[str, Any]:
    """The status the Job controller writes when the Job's only Pod has ended."""
    end = _time(script.end)
    if script.exit_code == 0:
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


class SimulatedJobController:
    """Finishes every new perftest Job as `script` says (None: leave it running for now)."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        script: Script,
        *,
        namespace: str | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.script = script
        self.namespace = namespace
        self.poll_seconds = poll_seconds
        self.finished: dict[str, JobScript] = {}
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
                        self.finish(job, script)
                        self.finished[key] = script
            except Exception as exc:  # keep playing; the test reads .errors
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.poll_seconds)

    def finish(self, job: Mapping[str, Any], script: JobScript) -> None:
        meta = job["metadata"]
        pod = build_pod(job, script)
        try:
            self.core.create_namespaced_pod(meta["namespace"], pod)
        except ApiException as exc:
            if exc.status != 409:
                raise
        # A real API server ignores status on create: write it through the status subresource.
        self.core.patch_namespaced_pod_status(
            pod["metadata"]["name"], meta["namespace"], {"status": pod["status"]}
        )
        self.batch.patch_namespaced_job_status(
            meta["name"], meta["namespace"], {"status": build_job_status(script)}
        )
