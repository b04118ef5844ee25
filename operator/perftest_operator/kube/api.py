"""Kubernetes API calls the operator makes, as plain dicts; creation is safe to repeat (I/O).

`ClusterApi` is the `kube.protocol.KubeApi` of one cluster's API server, through the kubernetes
client (made in `kube.api_client`). API errors are mapped here, once: 404 to None or False, 409 on
a create to "already there", 409 on a write with a resourceVersion to `Conflict`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import kubernetes
import orjson
from kubernetes.client.exceptions import ApiException

from perftest_operator import GROUP, VERSION
from perftest_operator.api.errors import Conflict
from perftest_operator.api.owner import OwnerRef
from perftest_operator.api.perfrun import (
    TEST_LABEL,
    UNFINISHED_RUNS_SELECTOR,
    perfrun_test_label,
)
from perftest_operator.kube.api_client import REQUEST_TIMEOUT, ApiGroup

PERFTESTS = "perftests"
PERFRUNS = "perfruns"


# Lists answered as metadata only (the API server's PartialObjectMetadataList).
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def _owned_by_test(metadata: Mapping[str, Any], test: str) -> bool:
    """Whether a PerfRun's metadata names `test`: as its owner, or (a PerfRun made by hand,
    without one) in a test label that holds the whole name rather than its first 63 characters."""
    owners = [ref for ref in metadata.get("ownerReferences") or [] if ref.get("kind") == "PerfTest"]
    if owners:
        return any(ref.get("name") == test for ref in owners)
    return (metadata.get("labels") or {}).get(TEST_LABEL) == test


def _named_for(runs: list[dict[str, Any]], test: str) -> list[dict[str, Any]]:
    """The PerfRuns whose spec names `test` (the test label holds only 63 characters of it)."""
    return [run for run in runs if (run.get("spec") or {}).get("testName") == test]


def _json(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(response.data)
    return data


def _or_none(call: Callable[[], Any]) -> dict[str, Any] | None:
    """The object a GET returns as a dict, or None when the API answers 404."""
    try:
        return _json(call())
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _sent(call: Callable[[], Any], *, done_already: int) -> bool:
    """Run a write; False when the API answers `done_already` (the write had been made)."""
    try:
        _drain(call())
        return True
    except ApiException as exc:
        if exc.status == done_already:
            return False
        raise


def _deleted(call: Callable[[], Any]) -> bool:
    """Run a DELETE; False when the object was already gone (404)."""
    return _sent(call, done_already=404)


def _created(call: Callable[[], Any]) -> bool:
    """Run a create; False when the object was already there (409)."""
    return _sent(call, done_already=409)


def _conflict(call: Callable[[], Any], what: str) -> Any:
    """Run a write guarded by a resourceVersion; Conflict naming `what` when the API answers 409."""
    try:
        return call()
    except ApiException as exc:
        if exc.status == 409:
            raise Conflict(f"{what} changed") from None
        raise


def _drain(response: Any) -> None:
    """Read an answer that is not needed, so that its connection goes back to the pool."""
    _ = response.data


class ClusterApi:
    """What the operator asks of one cluster's API server (a `kube.protocol.KubeApi`)."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        request_timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> None:
        """`request_timeout`: (connect, read) seconds for every call."""
        self.api_client = api_client
        self.request_timeout = request_timeout

        def group(api: Any) -> Any:
            return ApiGroup(api, request_timeout)

        # Typed as Any: the operator passes and receives plain dicts, not the client's models.
        self.core: Any = group(kubernetes.client.CoreV1Api(api_client))
        self.batch: Any = group(kubernetes.client.BatchV1Api(api_client))
        self.custom: Any = group(kubernetes.client.CustomObjectsApi(api_client))
        self.rbac: Any = group(kubernetes.client.RbacAuthorizationV1Api(api_client))
        self.admission: Any = group(kubernetes.client.AdmissionregistrationV1Api(api_client))
        self.authorization: Any = group(kubernetes.client.AuthorizationV1Api(api_client))

    # --- PerfTests and PerfRuns -------------------------------------------------------------

    def get_perftest(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, PERFTESTS, name, _preload_content=False
            )
        )

    def get_perfrun(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, PERFRUNS, name, _preload_content=False
            )
        )

    def list_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The test's whole history."""
        return _named_for(self._list_perfruns(namespace, test), test)

    def list_unfinished_perfruns(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The test's PerfRuns not marked finished yet: the active ones and any just finished."""
        return _named_for(self._list_perfruns(namespace, test, UNFINISHED_RUNS_SELECTOR), test)

    def list_perfrun_metadata(self, namespace: str, test: str) -> list[dict[str, Any]]:
        """The metadata of the test's PerfRuns (names, labels), without their specs or statuses.

        A fifth of the bytes of the whole history, for what needs only names and labels.
        """
        return [
            item
            for item in self._list_perfruns(namespace, test, metadata_only=True)
            if _owned_by_test(item.get("metadata") or {}, test)
        ]

    def _list_perfruns(
        self, namespace: str, test: str, selector: str = "", *, metadata_only: bool = False
    ) -> list[dict[str, Any]]:
        labels = ",".join(filter(None, [f"{TEST_LABEL}={perfrun_test_label(test)}", selector]))
        headers = {"Accept": METADATA_LIST_ACCEPT} if metadata_only else None
        result = _json(
            self.custom.list_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                PERFRUNS,
                label_selector=labels,
                _headers=headers,
                _preload_content=False,
            )
        )
        items: list[dict[str, Any]] = result.get("items") or []
        return items

    def create_perfrun(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The PerfRun and whether this call created it (False: it existed already)."""
        namespace = body["metadata"]["namespace"]
        try:
            created = _json(
                self.custom.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, PERFRUNS, dict(body), _preload_content=False
                )
            )
            return created, True
        except ApiException as exc:
            if exc.status != 409:
                raise
        # Already there (a repeated trigger): the one that exists.
        existing = _json(
            self.custom.get_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                PERFRUNS,
                body["metadata"]["name"],
                _preload_content=False,
            )
        )
        return existing, False

    def replace_perftest_status(
        self, test: Mapping[str, Any], status: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Write the whole status of a PerfTest read earlier; Conflict if it changed meanwhile."""
        meta = test["metadata"]
        metadata: dict[str, Any] = {"name": meta["name"], "namespace": meta["namespace"]}
        if meta.get("resourceVersion"):
            # A precondition: the API server answers 409 if the PerfTest changed since it was read.
            metadata["resourceVersion"] = meta["resourceVersion"]
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "PerfTest",
            "metadata": metadata,
            "status": dict(status),
        }
        return _json(
            _conflict(
                lambda: self.custom.patch_namespaced_custom_object_status(
                    GROUP,
                    VERSION,
                    meta["namespace"],
                    PERFTESTS,
                    meta["name"],
                    body,
                    _preload_content=False,
                ),
                f"PerfTest {meta['namespace']}/{meta['name']}",
            )
        )

    def patch_perfrun_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge `status` into the PerfRun's; with `resource_version`, Conflict if it changed."""
        patch: dict[str, Any] = {"status": dict(status)}
        if resource_version is not None:
            patch["metadata"] = {"resourceVersion": resource_version}
        return _json(
            _conflict(
                lambda: self.custom.patch_namespaced_custom_object_status(
                    GROUP, VERSION, namespace, PERFRUNS, name, patch, _preload_content=False
                ),
                f"PerfRun {namespace}/{name}",
            )
        )

    def patch_perfrun_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Merge `metadata` into the PerfRun's (None if it is gone); Conflict on a stale
        `resourceVersion` in it."""
        return _or_none(
            lambda: _conflict(
                lambda: self.custom.patch_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    namespace,
                    PERFRUNS,
                    name,
                    {"metadata": dict(metadata)},
                    _preload_content=False,
                ),
                f"PerfRun {namespace}/{name}",
            )
        )

    # --- objects of a run on the target ----------------------------------------------------

    def ensure_namespace(self, name: str) -> None:
        try:
            self.core.read_namespace(name, _preload_content=False)
            return
        except ApiException as exc:
            if exc.status != 404:
                raise
        _created(
            lambda: self.core.create_namespace(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                _preload_content=False,
            )
        )

    def create_config_map(self, body: Mapping[str, Any]) -> bool:
        """Create it; False when it already existed (a repeated step after a restart)."""
        return _created(
            lambda: self.core.create_namespaced_config_map(
                body["metadata"]["namespace"], dict(body), _preload_content=False
            )
        )

    def set_owner(self, namespace: str, config_map: str, owner: OwnerRef) -> None:
        """Make `owner` the controller of a ConfigMap (garbage-collected with it)."""
        patch = {"metadata": {"ownerReferences": [owner.reference()]}}
        _drain(
            self.core.patch_namespaced_config_map(
                config_map, namespace, patch, _preload_content=False
            )
        )

    def create_job(self, body: Mapping[str, Any]) -> bool:
        """Create it; False when it already existed, so a restart never launches a second Job."""
        return _created(
            lambda: self.batch.create_namespaced_job(
                body["metadata"]["namespace"], dict(body), _preload_content=False
            )
        )

    def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _or_none(
            lambda: self.batch.read_namespaced_job(name, namespace, _preload_content=False)
        )

    def list_job_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        result = _json(
            self.core.list_namespaced_pod(
                namespace, label_selector=f"job-name={job_name}", _preload_content=False
            )
        )
        return [
            pod
            for pod in result.get("items", [])
            if (pod.get("metadata", {}).get("labels") or {}).get("job-name") == job_name
        ]

    def read_config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """The ConfigMap's text data (its ``data``), or None when the ConfigMap does not exist."""
        config_map = _or_none(
            lambda: self.core.read_namespaced_config_map(name, namespace, _preload_content=False)
        )
        if config_map is None:
            return None
        data = config_map.get("data") or {}
        return {str(key): value for key, value in data.items() if isinstance(value, str)}

    def read_config_map_key(self, namespace: str, name: str, key: str) -> str | None:
        """The value under key, or None when the ConfigMap or the key does not exist."""
        return (self.read_config_map_data(namespace, name) or {}).get(key)

    def read_secret_key(self, namespace: str, name: str, key: str) -> str | None:
        """The decoded value under key, or None when the Secret or the key does not exist."""
        secret = _or_none(
            lambda: self.core.read_namespaced_secret(name, namespace, _preload_content=False)
        )
        value = ((secret or {}).get("data") or {}).get(key)
        if not isinstance(value, str):
            return None
        return base64.b64decode(value).decode()

    def service_account_exists(self, namespace: str, name: str) -> bool:
        """Whether the ServiceAccount is there (False also when its namespace is not)."""
        return (
            _or_none(
                lambda: self.core.read_namespaced_service_account(
                    name, namespace, _preload_content=False
                )
            )
            is not None
        )

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
        """Whether RBAC allows the ServiceAccount ``verb`` on ``resource`` in every namespace
        (a SubjectAccessReview, asked with the groups its own tokens carry)."""
        resource, _, subresource = resource.partition("/")
        attributes = {"verb": verb, "group": group, "resource": resource}
        if subresource:
            attributes["subresource"] = subresource
        if name:
            attributes["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{namespace}:{account}",
                # A review uses exactly the groups it is given; a ServiceAccount's tokens carry
                # these (kubernetes pkg/serviceaccount/util.go MakeGroupNames).
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{namespace}",
                    "system:authenticated",
                ],
                "resourceAttributes": attributes,
            },
        }
        answer = _json(
            self.authorization.create_subject_access_review(body, _preload_content=False)
        )
        return bool((answer.get("status") or {}).get("allowed"))

    # --- what the target cluster is -----------------------------------------------------------

    def get_cluster_object(
        self, group: str, version: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        """A cluster-scoped object, or None when it, or its resource type, does not exist."""
        return _or_none(
            lambda: self.custom.get_cluster_custom_object(
                group, version, plural, name, _preload_content=False
            )
        )

    def list_cluster_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        """Cluster-scoped objects of a resource type; empty when the type is not served."""
        try:
            result = _json(
                self.custom.list_cluster_custom_object(
                    group, version, plural, _preload_content=False
                )
            )
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    def get_object(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """An object a workload's prerequisites read (contract data names it), or None when it,
        or its resource type, does not exist. Namespace None: a cluster-scoped object."""
        if namespace is None:
            return _or_none(
                lambda: self.custom.get_cluster_custom_object(
                    group, version, plural, name, _preload_content=False
                )
            )
        return _or_none(
            lambda: self.custom.get_namespaced_custom_object(
                group, version, namespace, plural, name, _preload_content=False
            )
        )

    def resource_served(self, group: str, version: str, plural: str) -> bool:
        """Whether the API serves ``plural`` in ``group/version`` (its discovery document)."""
        try:
            if group:
                document = _json(
                    self.custom.get_api_resources(group, version, _preload_content=False)
                )
            else:
                document = _json(self.core.get_api_resources(_preload_content=False))
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return any(item.get("name") == plural for item in document.get("resources") or [])

    def list_nodes(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = _json(self.core.list_node(_preload_content=False)).get(
            "items", []
        )
        return items

    def server_version(self) -> dict[str, Any]:
        """The body of GET /version."""
        version = ApiGroup(kubernetes.client.VersionApi(self.api_client), self.request_timeout)
        return _json(version.get_code(_preload_content=False))

    def create_event(self, body: Mapping[str, Any]) -> None:
        _drain(
            self.core.create_namespaced_event(
                body["metadata"]["namespace"], dict(body), _preload_content=False
            )
        )

    # --- kube-burner's ServiceAccount and RBAC on a remote target ------------------------------

    def apply_rbac_object(self, body: Mapping[str, Any]) -> None:
        """Create a ServiceAccount, ClusterRole, ClusterRoleBinding, ValidatingAdmissionPolicy
        or its binding, or bring it up to date.

        A ServiceAccount that exists is left alone (its token Secrets belong to it); roles and
        bindings are replaced, so a new operator version's rules reach old targets.
        """
        kind, name = body["kind"], body["metadata"]["name"]
        if kind == "ServiceAccount":
            namespace = body["metadata"]["namespace"]
            _created(
                lambda: self.core.create_namespaced_service_account(
                    namespace, dict(body), _preload_content=False
                )
            )
            return
        create, replace = {
            "ClusterRole": (
                self.rbac.create_cluster_role,
                self.rbac.replace_cluster_role,
            ),
            "ClusterRoleBinding": (
                self.rbac.create_cluster_role_binding,
                self.rbac.replace_cluster_role_binding,
            ),
            "ValidatingAdmissionPolicy": (
                self.admission.create_validating_admission_policy,
                self.admission.replace_validating_admission_policy,
            ),
            "ValidatingAdmissionPolicyBinding": (
                self.admission.create_validating_admission_policy_binding,
                self.admission.replace_validating_admission_policy_binding,
            ),
        }[kind]
        if not _created(lambda: create(dict(body), _preload_content=False)):
            _drain(replace(name, dict(body), _preload_content=False))

    def get_namespaced_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> dict[str, Any] | None:
        """A namespaced object of any API, or None when it, or its resource type, does not exist."""
        return _or_none(
            lambda: self.custom.get_namespaced_custom_object(
                group, version, namespace, plural, name, _preload_content=False
            )
        )

    def mint_service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int
    ) -> str:
        """A short-lived token of a ServiceAccount (TokenRequest); never logged."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": expiration_seconds},
        }
        answer = _json(
            self.core.create_namespaced_service_account_token(
                name, namespace, body, _preload_content=False
            )
        )
        return str(answer["status"]["token"])

    # --- deleting what a run left behind -------------------------------------------------------

    def delete_job(self, namespace: str, name: str) -> bool:
        """Delete a Job and (in the background) its pods; False when it was already gone."""
        return _deleted(
            lambda: self.batch.delete_namespaced_job(
                name, namespace, propagation_policy="Background", _preload_content=False
            )
        )

    def delete_config_map(self, namespace: str, name: str) -> bool:
        return _deleted(
            lambda: self.core.delete_namespaced_config_map(name, namespace, _preload_content=False)
        )

    def delete_perfrun(self, namespace: str, name: str) -> bool:
        return _deleted(
            lambda: self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, PERFRUNS, name, _preload_content=False
            )
        )
