"""A KubeApi for one controller step: a PerfTest and its PerfRuns are read once (I/O).

One step of a run reads the PerfTest in several places (to load the spec, to analyse, to
write its status, to prune) and the test's whole history two or three times; at a thousand
PerfTests with hundred-run histories those repeated reads were most of the operator's work.
The writes made through this object keep what it read current; anything else is read again
by the next step, which starts with a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest_operator.kube.api import Conflict, KubeApi


class StepReads:
    """`api` (every call goes to it), with get_perftest and list_perfruns remembered."""

    def __init__(self, api: KubeApi) -> None:
        self._api = api
        self._tests: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._runs: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    # Callers replace top-level fields of what they get (a verdict is tried with a run's status
    # replaced) and never change nested ones: shallow copies (deep ones cost more than the reads).

    def get_perftest(self, namespace: str, name: str) -> dict[str, Any] | None:
        key = (namespace, name)
        if key not in self._tests:
            self._tests[key] = self._api.get_perftest(namespace, name)
        test = self._tests[key]
        return None if test is None else dict(test)

    def list_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        key = (namespace, test)
        if key not in self._runs:
            self._runs[key] = self._api.list_perfruns(namespace, test)
        return [dict(run) for run in self._runs[key]]

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        key = (test["metadata"]["namespace"], test["metadata"]["name"])
        try:
            written = self._api.replace_perftest_status(test, status)
        except Conflict:
            self._tests.pop(key, None)  # someone else wrote it: read it again
            raise
        self._tests[key] = written
        return dict(written)

    def patch_perfrun_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        written = self._api.patch_perfrun_status(
            namespace, name, status, resource_version=resource_version
        )
        self._remember_run(namespace, written)
        return written

    def patch_perfrun_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        written = self._api.patch_perfrun_metadata(namespace, name, metadata)
        if written is not None:
            self._remember_run(namespace, written)
        return written

    def create_perfrun(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        run, created = self._api.create_perfrun(body)
        key = (str(run["metadata"]["namespace"]), str((run.get("spec") or {}).get("testName")))
        runs = self._runs.get(key)
        if created and runs is not None:
            runs.append(run)  # the history as a new read would give it, without the read
        else:
            self._forget_runs(key[0])
        return run, created

    def delete_perfrun(self, namespace: str, name: str) -> bool:
        deleted = self._api.delete_perfrun(namespace, name)
        for (run_namespace, _), runs in self._runs.items():
            if run_namespace == namespace:
                runs[:] = [r for r in runs if r["metadata"]["name"] != name]
        return deleted

    def _remember_run(self, namespace: str, run: dict[str, Any]) -> None:
        name = run["metadata"]["name"]
        for (run_namespace, _), runs in self._runs.items():
            if run_namespace == namespace:
                runs[:] = [run if r["metadata"]["name"] == name else r for r in runs]

    def _forget_runs(self, namespace: str) -> None:
        for key in [key for key in self._runs if key[0] == namespace]:
            del self._runs[key]
