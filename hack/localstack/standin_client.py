"""The stand-in's way to the API server: in-cluster credentials, requests, discovery (I/O).

As client-go's ``rest.InClusterConfig`` (which kube-burner-ocp's ``NewKubeClientProvider("",
"")`` falls back to in a pod without a kubeconfig): the server is
``KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT``, the bearer token is the file
``/var/run/secrets/kubernetes.io/serviceaccount/token`` and the CA ``ca.crt`` beside it. The
simulated kubelet cannot mount volumes, so these paths are read under ``$KUBE_BURNER_STANDIN_ROOT``
(the directory that plays the container's filesystem, ``ROOT_ENV``) when it is set. With a
``ca.crt`` the stand-in speaks HTTPS and verifies the server with it; without one it speaks plain
HTTP, which is what the emulator serves on 127.0.0.1 (the simulated kubelet writes no CA then).

Requests go out one at a time on one kept-alive connection (standard library ``http.client``,
so that the stand-in starts in a few milliseconds). Every request is journaled with its
method, path, status and the RBAC attributes it carries; the stand-in writes the journal to
``standin-requests.json`` in its working directory (``JOURNAL_FILE``).

``RestMapper`` does what kube-burner's discovery RESTMapper does (KB pkg/burner/executor.go:75-76,
pkg/burner/utils.go:176-181): it reads ``/api/v1``, ``/apis`` and the group versions it needs,
to know each resource's preferred version and whether it is namespaced.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import pathlib
import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any

ROOT_ENV = "KUBE_BURNER_STANDIN_ROOT"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
JOURNAL_FILE = "standin-requests.json"
REQUEST_TIMEOUT_SECONDS = 60.0  # kube-burner's requestTimeout (KB pkg/config/config.go:45)
# client-go rest/config.go InClusterConfig: ErrNotInCluster.
NOT_IN_CLUSTER = (
    "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
    "KUBERNETES_SERVICE_PORT must be defined"
)


def in_container(root: str | None, path: str) -> pathlib.Path:
    """An absolute path of the container as the stand-in reads it (under the root, if any)."""
    return pathlib.Path(root) / path.lstrip("/") if root else pathlib.Path(path)


@dataclasses.dataclass(frozen=True)
class Target:
    """One object or collection of a resource, as a URL path names it."""

    group: str
    version: str
    resource: str  # the plural
    namespaced: bool
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @property
    def path(self) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and self.namespace:
            base += f"/namespaces/{urllib.parse.quote(self.namespace)}"
        base += f"/{self.resource}"
        if self.name:
            base += f"/{urllib.parse.quote(self.name)}"
        if self.subresource:
            base += f"/{self.subresource}"
        return base


@dataclasses.dataclass(frozen=True)
class Response:
    status: int  # 0 when the server could not be reached
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def denied(self) -> bool:
        return self.status in (401, 403)

    @property
    def message(self) -> str:
        """The Status message, as client-go's StatusError.Error() gives it."""
        if isinstance(self.body, Mapping) and self.body.get("message"):
            return str(self.body["message"])
        return f"the server responded with status {self.status}" if self.status else str(self.body)


class ApiClient:
    """Requests with the pod's ServiceAccount token, journaled."""

    def __init__(self, env: Mapping[str, str]) -> None:
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ConnectionError(NOT_IN_CLUSTER)
        directory = in_container(env.get(ROOT_ENV), SERVICE_ACCOUNT_DIR)
        self._token = (directory / "token").read_text().strip()
        ca = directory / "ca.crt"
        self._context = ssl.create_default_context(cafile=str(ca)) if ca.exists() else None
        self._host, self._port = host, int(port)
        self._connection: http.client.HTTPConnection | None = None
        self.journal: list[dict[str, Any]] = []
        # Which of the contract's phases the requests belong to (startup, prerun, preload,
        # measurement:<name>, cleanup, namespaces, create, wait, verify, churn, gc).
        self.phase = ""
        self.job = ""  # the kube-burner job the requests are made for, if any

    def _connect(self) -> http.client.HTTPConnection:
        if self._context is not None:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=REQUEST_TIMEOUT_SECONDS, context=self._context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT_SECONDS)

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": "kube-burner-standin",
        }
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def raw(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        record: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> Response:
        """One request; ``stream``: read the status only and close (a watch that just began)."""
        data = None if body is None else json.dumps(body).encode()
        headers = self._headers(content_type or ("application/json" if data else None))
        for attempt in (1, 2):
            connection = self._connect() if stream else (self._connection or self._connect())
            try:
                connection.request(method, path, body=data, headers=headers)
                reply = connection.getresponse()
                status = reply.status
                payload = b"" if stream and status == 200 else reply.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                connection.close()
                self._connection = None
                if attempt == 2 or isinstance(exc, ConnectionRefusedError):
                    response = Response(0, f"{method} {path}: {exc}")
                    break
                continue
            if stream:
                connection.close()
            else:
                self._connection = connection
            try:
                decoded = json.loads(payload) if payload else None
            except ValueError:
                decoded = payload.decode("utf-8", "replace")
            response = Response(status, decoded)
            break
        self.journal.append(
            {"method": method, "path": path, "status": response.status, **(record or {})}
        )
        return response

    def call(
        self,
        verb: str,
        target: Target,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        patch_type: str = "application/merge-patch+json",
    ) -> Response:
        """A request of one RBAC verb (get, list, watch, create, update, patch, delete)."""
        method = {
            "get": "GET",
            "list": "GET",
            "watch": "GET",
            "create": "POST",
            "update": "PUT",
            "patch": "PATCH",
            "delete": "DELETE",
        }[verb]
        parameters = dict(query or {})
        if verb == "watch":
            parameters["watch"] = "true"
        path = target.path + ("?" + urllib.parse.urlencode(parameters) if parameters else "")
        resource = target.resource + (f"/{target.subresource}" if target.subresource else "")
        record = {
            "phase": self.phase,
            "job": self.job,
            "verb": verb,
            "group": target.group,
            "resource": resource,
            "namespace": target.namespace if target.namespaced else None,
            "name": target.name,
        }
        return self.raw(
            method,
            path,
            body=body,
            content_type=patch_type if verb == "patch" else None,
            record=record,
            stream=verb == "watch",
        )

    def denied(self) -> list[dict[str, Any]]:
        return [entry for entry in self.journal if entry["status"] in (401, 403)]

    def write_journal(self, workdir: pathlib.Path) -> None:
        document = {"requests": self.journal, "denied": self.denied()}
        path = workdir / JOURNAL_FILE
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(document, indent=1) + "\n")
        os.replace(temporary, path)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclasses.dataclass(frozen=True)
class ServedResource:
    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool

    def target(
        self,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> Target:
        return Target(
            self.group,
            self.version,
            self.resource,
            self.namespaced,
            namespace if self.namespaced else None,
            name,
            subresource,
        )


class RestMapper:
    """What the server serves: discovery, read when first needed and kept for the run."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._versions: dict[str, list[str]] | None = None  # group -> versions, preferred first
        self._served: dict[tuple[str, str], list[ServedResource]] = {}

    def _get(self, path: str) -> Any:
        response = self.client.raw("GET", path, record={"verb": "get", "nonResource": True})
        return response.body if response.ok else None

    def _groups(self) -> dict[str, list[str]]:
        if self._versions is None:
            self._versions = {"": ["v1"]}
            listing = self._get("/apis") or {}
            for group in listing.get("groups") or []:
                preferred = (group.get("preferredVersion") or {}).get("version")
                versions = [v["version"] for v in group.get("versions") or []]
                if preferred:
                    self._versions[group["name"]] = [preferred] + [
                        v for v in versions if v != preferred
                    ]
        return self._versions

    def _resources(self, group: str, version: str) -> list[ServedResource]:
        key = (group, version)
        if key not in self._served:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            listing = self._get(path) or {}
            self._served[key] = [
                ServedResource(group, version, r["name"], r.get("kind", ""), bool(r["namespaced"]))
                for r in listing.get("resources") or []
                if "/" not in r["name"]
            ]
        return self._served[key]

    def preferred(self, group: str, resource: str) -> ServedResource | None:
        """The resource at its group's preferred version, or None when it is not served."""
        versions = self._groups().get(group)
        if not versions:
            return None
        return next(
            (r for r in self._resources(group, versions[0]) if r.resource == resource), None
        )

    def kind(self, group: str, kind: str) -> ServedResource | None:
        """RESTMapping(GroupKind): the kind in its group's versions, preferred first, or None.

        kube-burner maps the template's group and kind only (KB pkg/burner/create.go:67-71), so
        an object is created at the version the server prefers."""
        for version in self._groups().get(group) or []:
            found = next((r for r in self._resources(group, version) if r.kind == kind), None)
            if found is not None:
                return found
        return None
