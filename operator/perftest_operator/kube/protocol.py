"""What the operator asks of a cluster's API server: the KubeApi protocol (an interface, no I/O).

Three classes implement it, and mypy --strict checks each against it: `kube.api.ClusterApi`
(the API server, through the kubernetes client), `kube.cached.StepReads` (one controller step's
reads remembered over another KubeApi) and the in-memory fake of the unit tests
(tests/unit/fake_kube.py; tests/unit/test_kube_protocol.py runs mypy on it). Bodies are plain
dicts in and out. Absent objects are None (or False, or empty); a write over a stale
resourceVersion raises `api.errors.Conflict`; any other API error is the client's ApiException.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from perftest_operator.api.owner import OwnerRef


class KubeApi(Protocol):
    """The calls the controller makes on the hub (PerfTests, PerfRuns, Events, Secrets) and on
    a target (the run's Job and ConfigMap, what the target is, kube-burner's RBAC)."""

    # --- PerfTests and PerfRuns -------------------------------------------------------------

    def get_perftest(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The PerfTest, or None."""

    def get_perfrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The PerfRun, or None."""

    def list_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The test's whole history: the PerfRuns whose spec names it."""

    def list_unfinished_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The test's PerfRuns not marked finished yet: the active ones and any just finished."""

    def list_perfrun_metadata(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The metadata of the test's PerfRuns (names, labels), without specs or statuses."""

    def create_perfrun(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The PerfRun and whether this call created it (False: it existed already)."""

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Write the whole status of a PerfTest read earlier; Conflict if it changed meanwhile."""

    def patch_perfrun_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge `status` into the PerfRun's; with `resource_version`, Conflict if it changed."""

    def patch_perfrun_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge `metadata` into the PerfRun's (None if it is gone); Conflict on a stale
        `resourceVersion` in it."""

    def delete_perfrun(self, namespace: str, name: str) -> bool:
        """False when it was already gone."""

    # --- objects of a run on the target ----------------------------------------------------

    def ensure_namespace(self, name: str) -> None:
        """Create the namespace unless it exists."""

    def create_config_map(self, body: Mapping[str, Any]) -> bool:
        """Create it; False when it already existed (a repeated step after a restart)."""

    def set_owner(self, namespace: str, config_map: str, owner: OwnerRef) -> None:
        """Make `owner` the controller of a ConfigMap (garbage-collected with it)."""

    def create_job(self, body: Mapping[str, Any]) -> bool:
        """Create it; False when it already existed, so a restart never launches a second Job."""

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Job, or None."""

    def list_job_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        """The pods of the Job (its job-name label)."""

    def read_config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """The ConfigMap's text data (its ``data``), or None when the ConfigMap does not exist."""

    def read_config_map_key(self, namespace: str, name: str, key: str) -> str | None:
        """The value under key, or None when the ConfigMap or the key does not exist."""

    def read_secret_key(self, namespace: str, name: str, key: str) -> str | None:
        """The decoded value under key, or None when the Secret or the key does not exist."""

    def service_account_exists(self, namespace: str, name: str) -> bool:
        """Whether the ServiceAccount is there (False also when its namespace is not)."""

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
        """Whether RBAC allows the ServiceAccount ``verb`` on ``resource`` in every namespace."""

    def delete_job(self, namespace: str, name: str) -> bool:
        """Delete a Job and (in the background) its pods; False when it was already gone."""

    def delete_config_map(self, namespace: str, name: str) -> bool:
        """False when it was already gone."""

    def create_event(self, body: Mapping[str, Any]) -> None:
        """Post an Event."""

    # --- what the target cluster is -----------------------------------------------------------

    def get_cluster_object(
        self, group: str, version: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        """A cluster-scoped object, or None when it, or its resource type, does not exist."""

    def list_cluster_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        """Cluster-scoped objects of a resource type; empty when the type is not served."""

    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """An object a workload's prerequisites read, or None when it, or its resource type,
        does not exist. Namespace None: a cluster-scoped object."""

    def get_namespaced_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        """A namespaced object of any API, or None when it, or its resource type, does not exist."""

    def resource_served(self, group: str, version: str, plural: str) -> bool:
        """Whether the API serves ``plural`` in ``group/version`` (its discovery document)."""

    def list_nodes(self) -> list[dict[str, Any]]:
        """Every Node."""

    def server_version(self) -> dict[str, Any]:
        """The body of GET /version."""

    # --- kube-burner's ServiceAccount and RBAC on a remote target ------------------------------

    def apply_rbac_object(self, body: Mapping[str, Any]) -> None:
        """Create a ServiceAccount, ClusterRole, ClusterRoleBinding, ValidatingAdmissionPolicy
        or its binding, or bring it up to date (a ServiceAccount that exists is left alone)."""

    def mint_service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        """A short-lived token of a ServiceAccount (TokenRequest); never logged."""
