"""An in-memory KubeApi for unit tests: one cluster's objects in dicts, answered as ClusterApi
answers (copies out, None when absent, Conflict on a stale resourceVersion, merge patches).

It implements kube.protocol.KubeApi; test_kube_protocol.py runs mypy --strict on this module, so
it cannot drift from the protocol. Tests seed it through its stores and read them back; `calls`
counts what was asked of it, by method.
"""

from __future__ import annotations

import collections
import copy
import functools
import itertools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from perftest_operator.api.errors import Conflict
from perftest_operator.api.owner import OwnerRef
from perftest_operator.api.perfrun import FINISHED_LABEL
from perftest_operator.kube.protocol import KubeApi

Key = tuple[str, str]  # (namespace, name)
C = TypeVar("C", bound=type[Any])


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the API server applies a dict PATCH: None removes a key."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _counting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls[name] += 1
        return method(self, *args, **kwargs)

    return counting


def _counted(cls: C) -> C:
    """Count every call of the class's KubeApi methods in `self.calls`."""
    for name in [name for name in vars(KubeApi) if not name.startswith("_")]:
        setattr(cls, name, _counting(name, vars(cls)[name]))
    return cls


@_counted
class FakeKube:
    """One cluster in dicts. PerfTests, PerfRuns, Jobs, Pods and ConfigMaps are in `kinds`, by
    kind, keyed (namespace, name); objects the operator reads through other APIs are in
    `objects`, keyed (group, plural, namespace or "" when cluster-scoped, name)."""

    def __init__(self) -> None:
        self.kinds: collections.defaultdict[str, dict[Key, dict[str, Any]]] = (
            collections.defaultdict(dict)
        )
        self.secrets: dict[Key, dict[str, str]] = {}  # decoded data
        self.service_accounts: set[Key] = set()
        self.allowed_accounts: set[Key] = set()  # accounts whose RBAC allows what is asked
        self.namespaces: set[str] = set()
        self.nodes: list[dict[str, Any]] = []
        self.objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.rbac_objects: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, name)
        self.events: list[dict[str, Any]] = []
        self.minted: list[tuple[str, str, int]] = []  # (namespace, account, seconds)
        self.version = {"major": "1", "minor": "32", "gitVersion": "v1.32.3"}
        self.calls: collections.Counter[str] = collections.Counter()
        self._uids = itertools.count(1)
        self._version = 0  # the last resourceVersion given, as the API server's: ever greater

    # --- seeding and bookkeeping (not part of KubeApi) ----------------------------------------

    def stored(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Keep `body` as the API server would: a uid and a resourceVersion (unless it has them)."""
        obj = copy.deepcopy(dict(body))
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", f"00000000-0000-0000-0000-{next(self._uids):012d}")
        if "resourceVersion" in meta:
            self._version = max(self._version, int(meta["resourceVersion"]))
        else:
            meta["resourceVersion"] = self._next_version()
        self.kinds[kind][(meta["namespace"], meta["name"])] = obj
        return obj

    def touch(self, kind: str, namespace: str, name: str) -> None:
        """Another writer changed the object: its resourceVersion moves on."""
        self.kinds[kind][(namespace, name)]["metadata"]["resourceVersion"] = self._next_version()

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _write(
        self,
        kind: str,
        key: Key,
        patch: Mapping[str, Any],
        precondition: str | None,
    ) -> dict[str, Any]:
        store = self.kinds[kind]
        current = store[key]
        if precondition is not None and precondition != current["metadata"]["resourceVersion"]:
            raise Conflict(f"{key[0]}/{key[1]} changed")
        written = merge_patch(current, patch)
        written["metadata"]["resourceVersion"] = self._next_version()
        store[key] = written
        return copy.deepcopy(written)

    @staticmethod
    def _out(obj: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if obj is None else copy.deepcopy(obj)

    # --- PerfTests and PerfRuns -------------------------------------------------------------

    def get_perftest(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._out(self.kinds["PerfTest"].get((namespace, name)))

    def get_perfrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._out(self.kinds["PerfRun"].get((namespace, name)))

    def list_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(run)
            for (run_namespace, _), run in self.kinds["PerfRun"].items()
            if run_namespace == namespace and (run.get("spec") or {}).get("testName") == test
        ]

    def list_unfinished_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        return [
            run
            for run in self.list_perfruns(namespace, test)
            if (run["metadata"].get("labels") or {}).get(FINISHED_LABEL) != "true"
        ]

    def list_perfrun_metadata(self, namespace: str, test: str) -> list[dict[str, Any]]:
        return [{"metadata": run["metadata"]} for run in self.list_perfruns(namespace, test)]

    def create_perfrun(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.kinds["PerfRun"]:
            return copy.deepcopy(self.kinds["PerfRun"][key]), False
        return copy.deepcopy(self.stored("PerfRun", body)), True

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        meta = test["metadata"]
        return self._write(
            "PerfTest",
            (meta["namespace"], meta["name"]),
            {"status": dict(status)},
            meta.get("resourceVersion") or None,
        )

    def patch_perfrun_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        return self._write("PerfRun", (namespace, name), {"status": status}, resource_version)

    def patch_perfrun_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        if (namespace, name) not in self.kinds["PerfRun"]:
            return None
        precondition = metadata.get("resourceVersion")
        patch = {key: value for key, value in metadata.items() if key != "resourceVersion"}
        return self._write("PerfRun", (namespace, name), {"metadata": patch}, precondition)

    def delete_perfrun(self, namespace: str, name: str) -> bool:
        return self.kinds["PerfRun"].pop((namespace, name), None) is not None

    # --- objects of a run on the target ----------------------------------------------------

    def ensure_namespace(self, name: str) -> None:
        self.namespaces.add(name)

    def create_config_map(self, body: Mapping[str, Any]) -> bool:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.kinds["ConfigMap"]:
            return False
        self.stored("ConfigMap", body)
        return True

    def set_owner(self, namespace: str, config_map: str, owner: OwnerRef) -> None:
        self.kinds["ConfigMap"][(namespace, config_map)]["metadata"]["ownerReferences"] = [
            owner.reference()
        ]

    def create_job(self, body: Mapping[str, Any]) -> bool:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.kinds["Job"]:
            return False
        self.stored("Job", body)
        return True

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._out(self.kinds["Job"].get((namespace, name)))

    def list_job_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(pod)
            for (pod_namespace, _), pod in self.kinds["Pod"].items()
            if pod_namespace == namespace
            and (pod["metadata"].get("labels") or {}).get("job-name") == job_name
        ]

    def read_config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        config_map = self.kinds["ConfigMap"].get((namespace, name))
        if config_map is None:
            return None
        data = config_map.get("data") or {}
        return {str(key): value for key, value in data.items() if isinstance(value, str)}

    def read_config_map_key(self, namespace: str, name: str, key: str) -> str | None:
        return (self.read_config_map_data(namespace, name) or {}).get(key)

    def read_secret_key(self, namespace: str, name: str, key: str) -> str | None:
        return self.secrets.get((namespace, name), {}).get(key)

    def service_account_exists(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self.service_accounts

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
        return (namespace, account) in self.allowed_accounts

    def delete_job(self, namespace: str, name: str) -> bool:
        return self.kinds["Job"].pop((namespace, name), None) is not None

    def delete_config_map(self, namespace: str, name: str) -> bool:
        return self.kinds["ConfigMap"].pop((namespace, name), None) is not None

    def create_event(self, body: Mapping[str, Any]) -> None:
        self.events.append(copy.deepcopy(dict(body)))

    # --- what the target cluster is -----------------------------------------------------------

    def get_cluster_object(
        self, group: str, version: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        return self._out(self.objects.get((group, plural, "", name)))

    def list_cluster_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(obj)
            for (obj_group, obj_plural, namespace, _), obj in self.objects.items()
            if (obj_group, obj_plural, namespace) == (group, plural, "")
        ]

    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        return self._out(self.objects.get((group, plural, namespace or "", name)))

    def get_namespaced_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        return self._out(self.objects.get((group, plural, namespace, name)))

    def resource_served(self, group: str, version: str, plural: str) -> bool:
        return any((key[0], key[1]) == (group, plural) for key in self.objects)

    def list_nodes(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.nodes)

    def server_version(self) -> dict[str, Any]:
        return dict(self.version)

    # --- kube-burner's ServiceAccount and RBAC on a remote target ------------------------------

    def apply_rbac_object(self, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        if body["kind"] == "ServiceAccount":
            self.service_accounts.add((meta["namespace"], meta["name"]))
            return
        self.rbac_objects[(body["kind"], meta["name"])] = copy.deepcopy(dict(body))

    def mint_service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        self.minted.append((namespace, name, expiration_seconds))
        return f"minted-for-{namespace}-{name}"


def _is_a_kube_api(fake: FakeKube) -> KubeApi:
    """For mypy: FakeKube implements KubeApi (a missing or different method is an error)."""
    return fake
