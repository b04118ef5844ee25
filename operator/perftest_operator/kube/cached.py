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

from perftest_operator.api.errors import Conflict
from perftest_operator.api.owner import OwnerRef
from perftest_operator.kube.protocol import KubeApi


class StepReads:
    """A KubeApi over `api` (every call goes to it), with get_perftest and list_perfruns
    remembered; the writes to PerfTests and PerfRuns keep what it remembers current."""

    def __init__(self, api: KubeApi) -> None:
        self._api = api
        self._tests: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._runs: dict[tuple[str, str], list[dict[str, Any]]] = {}

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

    # --- the rest goes to the API as it is -----------------------------------------------------

    def get_perfrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._api.get_perfrun(namespace, name)

    def list_unfinished_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        return self._api.list_unfinished_perfruns(namespace, test)

    def list_perfrun_metadata(self, namespace: str, test: str) -> list[dict[str, Any]]:
        return self._api.list_perfrun_metadata(namespace, test)

    def ensure_namespace(self, name: str) -> None:
        self._api.ensure_namespace(name)

    def create_config_map(self, body: Mapping[str, Any]) -> bool:
        return self._api.create_config_map(body)

    def set_owner(self, namespace: str, config_map: str, owner: OwnerRef) -> None:
        self._api.set_owner(namespace, config_map, owner)

    def create_job(self, body: Mapping[str, Any]) -> bool:
        return self._api.create_job(body)

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._api.get_job(namespace, name)

    def list_job_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        return self._api.list_job_pods(namespace, job_name)

    def read_config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        return self._api.read_config_map_data(namespace, name)

    def read_config_map_key(self, namespace: str, name: str, key: str) -> str | None:
        return self._api.read_config_map_key(namespace, name, key)

    def read_secret_key(self, namespace: str, name: str, key: str) -> str | None:
        return self._api.read_secret_key(namespace, name, key)

    def service_account_exists(self, namespace: str, name: str) -> bool:
        return self._api.service_account_exists(namespace, name)

    def service_account_may(
        self,
        namespace: str,
        account: str,
        *,
        verb: str,
        group: str,
        resource: str,
        name: str | None = None,
    ) -> bool:
        return self._api.service_account_may(
            namespace, account, verb=verb, group=group, resource=resource, name=name
        )

    def delete_job(self, namespace: str, name: str) -> bool:
        return self._api.delete_job(namespace, name)

    def delete_config_map(self, namespace: str, name: str) -> bool:
        return self._api.delete_config_map(namespace, name)

    def create_event(self, body: Mapping[str, Any]) -> None:
        self._api.create_event(body)

    def get_cluster_object(
        self, group: str, version: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        return self._api.get_cluster_object(group, version, plural, name)

    def list_cluster_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        return self._api.list_cluster_objects(group, version, plural)

    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        return self._api.get_object(group, version, plural, namespace, name)

    def get_namespaced_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        return self._api.get_namespaced_object(group, version, namespace, plural, name)

    def resource_served(self, group: str, version: str, plural: str) -> bool:
        return self._api.resource_served(group, version, plural)

    def list_nodes(self) -> list[dict[str, Any]]:
        return self._api.list_nodes()

    def server_version(self) -> dict[str, Any]:
        return self._api.server_version()

    def apply_rbac_object(self, body: Mapping[str, Any]) -> None:
        self._api.apply_rbac_object(body)

    def mint_service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        return self._api.mint_service_account_token(
            namespace, name, expiration_seconds=expiration_seconds
        )

    def _remember_run(self, namespace: str, run: dict[str, Any]) -> None:
        name = run["metadata"]["name"]
        for (run_namespace, _), runs in self._runs.items():
            if run_namespace == namespace:
                runs[:] = [run if r["metadata"]["name"] == name else r for r in runs]

    def _forget_runs(self, namespace: str) -> None:
        for key in [key for key in self._runs if key[0] == namespace]:
            del self._runs[key]
