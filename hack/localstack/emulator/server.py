"""A Kubernetes API emulator serving HTTP on 127.0.0.1 (a plain aiohttp handler); I/O, not pure.

`ClusterEmulator` answers what kopf, the `kubernetes` client and kubectl send: discovery of
built-in and CRD-defined resources, objects with apiserver metadata and write semantics (see
`state`), selectors, watches by resourceVersion, server-side Tables, and a minimal OpenAPI v3
so that plain `kubectl apply` validates. `serve` runs it on aiohttp's low-level server; kmock is
used only through its public API (its error type, `kmock.resource`, and the `ObjectsArray`
and `ResourcesArray` containers in which `state` keeps objects with their history).
Run it with `python -m localstack.emulator --port 0 --kubeconfig PATH`; it writes a
kubeconfig, prints `emulator ready at URL`, and serves until SIGTERM or SIGINT.
What it does not do: docs/emulator.md.

Authentication and authorization: a request with a ServiceAccount token that the emulator
minted (TokenRequest) is authorized by RBAC as on a real API server, watches when they start,
and answered 401 once the token has expired or its ServiceAccount is gone (`tokens`, `rbac`);
SubjectAccessReviews are answered by the same authorizer (`reviews`); writes of roles and
bindings by such an identity are refused when they would grant what it does not hold, unless
it may `escalate` or `bind` (`escalation`). Every other request, with no token or a token the
emulator did not mint, is an administrator's and skips all of it (one header look-up). Pod
Security admission, which exempts no one, applies to every write (`podsecurity`, in the store's
write path).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import kmock

from localstack.emulator.admission_policy import (
    ADMISSION_GROUP,
    AdmissionRequest,
    admission_denial,
)
from localstack.emulator.builtin_resources import event_field_label
from localstack.emulator.errors import (
    bad_request,
    expired,
    invalid,
    method_not_allowed,
    qualified,
    resource_not_found,
    status_body,
    unsupported_media_type,
)
from localstack.emulator.escalation import BINDING_RESOURCES, ROLE_RESOURCES, check_write
from localstack.emulator.http_requests import (
    json_response,
    paginate,
    read_body,
    request_key,
    write_options,
)
from localstack.emulator.journal import Change
from localstack.emulator.object_selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from localstack.emulator.openapi import group_version_document, index_document
from localstack.emulator.patches import patch_type
from localstack.emulator.paths import ResourcePath, parse_resource_path
from localstack.emulator.rbac import (
    RBAC_GROUP,
    Decision,
    RbacPolicy,
    UserInfo,
    forbidden_error,
    request_attributes,
    service_account_user,
)
from localstack.emulator.resources import ServedResource, api_version
from localstack.emulator.reviews import (
    is_review,
    review_attributes,
    review_response,
    review_subject,
)
from localstack.emulator.seed import load_seed
from localstack.emulator.state import ClusterState, WriteGuard
from localstack.emulator.tables import (
    build_metadata_list,
    build_table,
    wants_metadata_list,
    wants_table,
)
from localstack.emulator.tokens import (
    DEFAULT_EXPIRATION_SECONDS,
    LEEWAY,
    MAX_EXPIRATION_SECONDS,
    MIN_EXPIRATION_SECONDS,
    TokenRegistry,
    unauthorized,
)
from localstack.pod_security import go_quote

__all__ = ["ClusterEmulator", "ServingEmulator", "serve"]

logger = logging.getLogger("localstack.emulator")

# A real apiserver ends watches after 30-60 minutes when the client asks for no timeout.
DEFAULT_WATCH_SECONDS = 1800.0
# The Python client asks for /version/ (trailing slash), kubectl for /version.
_VERSION_PATHS = frozenset({"/version", "/version/"})
# Discovery documents: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
_DISCOVERY_PATH = re.compile(r"^/(?:api(?:/[^/]+)?|apis(?:/[^/]+){0,2})/?$")
_HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
_OPENAPI_DOCUMENT = re.compile(r"^/openapi/v3/apis?/.+")
# Objects whose JSON encoding lists reuse (see `_encoded`); the cache starts over when full.
ENCODING_CACHE_SIZE = 250_000
# How often an idle watch checks whether its client is gone or the server is stopping.
WATCH_POLL_SECONDS = 1.0
SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@attrs.define(kw_only=True)
class ClusterEmulator:
    """The aiohttp request handler of the emulated API server (`serve` runs it)."""

    # How many changes watches can resume from; older resourceVersions get 410 Gone.
    watch_history: int = 10_000
    _state: ClusterState = attrs.field(init=False)
    _stopping: bool = attrs.field(default=False, init=False)
    # Requests served, by (client, verb, resource): see `count_request` and GET /emulator/requests.
    request_counts: collections.Counter[tuple[str, str, str]] = attrs.field(
        factory=collections.Counter, init=False
    )
    _encodings: dict[tuple[Any, ...], tuple[str, bytes]] = attrs.field(factory=dict, init=False)
    # The cluster's clock (token expiry, timestamps); tests may pass one they move.
    clock: Callable[[], datetime.datetime] | None = None
    _tokens: TokenRegistry = attrs.field(factory=TokenRegistry, init=False)
    _policy: RbacPolicy | None = attrs.field(default=None, init=False)
    _policy_revision: int = attrs.field(default=-1, init=False)

    def __attrs_post_init__(self) -> None:
        self._state = ClusterState(
            kmock.ObjectsArray(),
            kmock.ResourcesArray(),
            journal_capacity=self.watch_history,
            clock=self.clock,
        )

    @property
    def state(self) -> ClusterState:
        return self._state

    @property
    def objects(self) -> kmock.ObjectsArray:
        """Every object with its history, as kmock's container shows them (for assertions)."""
        return self._state.objects

    def stop_watches(self) -> None:
        """End every open watch stream now (before the HTTP server waits for its handlers)."""
        self._stopping = True
        self._state.journal.wake()

    # The entry point: object requests, then discovery, version, health, OpenAPI, counts.

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        target = parse_resource_path(raw_request.path)
        self.request_counts[request_key(raw_request, target)] += 1
        user = None
        if "Authorization" in raw_request.headers:
            try:
                user = self._authenticate(raw_request)
                if user is not None:
                    self._authorize(raw_request, user)
            except kmock.KubernetesError as error:
                logger.info("%s %s -> %s", raw_request.method, raw_request.path_qs, error.status)
                return json_response(status_body(error), status=error.status)
        if target is None and raw_request.method == "GET" and raw_request.path in _VERSION_PATHS:
            response = json_response(dict(SERVER_VERSION))
        elif (
            target is None
            and raw_request.method == "GET"
            and _DISCOVERY_PATH.match(raw_request.path)
        ):
            response = await self._serve_discovery(raw_request)
        elif target is None:
            response = self._serve_other(raw_request)
        else:
            response = await self._serve_object_request(raw_request, target, user)
        logger.info("%s %s -> %s", raw_request.method, raw_request.path_qs, response.status)
        return response

    def _serve_other(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.Response:
        """The paths that are neither objects nor discovery; 404 for anything else."""
        path = raw_request.path
        try:
            if raw_request.method != "GET":
                raise resource_not_found()
            if path in _HEALTH_PATHS:
                return aiohttp.web.Response(body=b"ok", content_type="text/plain")
            if path == "/":
                return json_response(self._root_paths())
            if path == "/openapi/v3":
                return json_response(index_document(self._state.served_resources()))
            if _OPENAPI_DOCUMENT.match(path):
                return json_response(self._openapi_document(path))
            if path == "/emulator/requests":
                return json_response(self._request_count_list())
            raise resource_not_found()
        except kmock.KubernetesError as error:
            return json_response(status_body(error), status=error.status)

    # Authentication and authorization (administrators never get here: see __call__).

    def _authenticate(self, raw_request: aiohttp.web.BaseRequest) -> UserInfo | None:
        """The ServiceAccount a minted token names; None for an administrator; 401 if the
        token has expired or its ServiceAccount (by uid) is gone."""
        minted = self._tokens.lookup(raw_request.headers.get("Authorization"))
        if minted is None:
            return None
        now = self._state.now()
        if now - LEEWAY > minted.expires:
            raise unauthorized()
        accounts = self._state.served("", "v1", "serviceaccounts")
        try:
            account = self._state.get(accounts, minted.namespace, minted.name)
        except kmock.KubernetesError as exc:
            raise unauthorized() from exc
        meta = account["metadata"]
        deleted = meta.get("deletionTimestamp")
        if deleted and datetime.datetime.fromisoformat(deleted) < now - LEEWAY:
            raise unauthorized()
        if meta.get("uid") != minted.uid:
            raise unauthorized()
        return service_account_user(minted.namespace, minted.name)

    def _rbac_policy(self) -> RbacPolicy:
        """The RBAC index, rebuilt after any change to a role or binding."""
        revision = self._state.rbac_revision
        if self._policy is None or self._policy_revision != revision:
            roles, cluster_roles, role_bindings, cluster_role_bindings = self._state.rbac_objects()
            self._policy = RbacPolicy(roles, cluster_roles, role_bindings, cluster_role_bindings)
            self._policy_revision = revision
        return self._policy

    def _authorize(self, raw_request: aiohttp.web.BaseRequest, user: UserInfo) -> None:
        attributes = request_attributes(
            user, raw_request.method, raw_request.path, raw_request.query
        )
        decision = self._rbac_policy().authorize(attributes)
        if not decision.allowed:
            raise forbidden_error(attributes, decision.reason)

    def _escalation_guard(
        self, raw_request: aiohttp.web.BaseRequest, target: ResourcePath, user: UserInfo | None
    ) -> WriteGuard | None:
        """The API server's privilege-escalation check for a write of a role or binding by an
        RBAC-checked identity (see `escalation`); None when there is nothing to check."""
        plural = target.plural
        rbac_object = plural in ROLE_RESOURCES or plural in BINDING_RESOURCES
        if user is None or target.group != RBAC_GROUP or not rbac_object or target.subresource:
            return None
        attributes = request_attributes(
            user, raw_request.method, raw_request.path, raw_request.query
        )
        policy = self._rbac_policy()

        def guard(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
            check_write(policy, attributes, new, old)

        return guard

    def _admission_guard(
        self,
        served: ServedResource,
        target: ResourcePath,
        user: UserInfo | None,
        escalation: WriteGuard | None,
    ) -> WriteGuard | None:
        """The escalation check and the bound ValidatingAdmissionPolicies (`admission_policy`)
        on a write; None when there is nothing to check. ``new`` is None on a delete."""
        policies_served = self._state.served(ADMISSION_GROUP, "v1", "validatingadmissionpolicies")
        bindings_served = self._state.served(
            ADMISSION_GROUP, "v1", "validatingadmissionpolicybindings"
        )
        everything = self._selectors(bindings_served, {})
        bindings = self._state.list_objects(bindings_served, None, *everything)
        if not bindings:
            return escalation
        policies = self._state.list_objects(policies_served, None, *everything)
        namespace_object = None
        if target.namespace:
            namespaces = self._state.served("", "v1", "namespaces")
            with contextlib.suppress(kmock.KubernetesError):
                namespace_object = self._state.get(namespaces, None, target.namespace)

        def guard(new: Mapping[str, Any] | None, old: Mapping[str, Any] | None) -> None:
            if escalation is not None and new is not None:
                escalation(new, old)
            operation = "DELETE" if new is None else ("CREATE" if old is None else "UPDATE")
            meta = (new if new is not None else old or {}).get("metadata") or {}
            denial = admission_denial(
                policies,
                bindings,
                AdmissionRequest(
                    username="" if user is None else user.name,
                    operation=operation,
                    group=served.group,
                    version=served.version,
                    resource=served.plural,
                    subresource=target.subresource or "",
                    namespace=target.namespace or "",
                    name=str(meta.get("name") or target.name or ""),
                    obj=new,
                    old=old,
                    namespace_object=namespace_object,
                ),
            )
            if denial is not None:
                name = str(meta.get("name") or meta.get("generateName") or "Unknown")
                details: dict[str, Any] = {
                    "name": name,
                    "kind": served.plural,
                    "causes": [{"message": denial.message}],
                }
                if served.group:
                    details["group"] = served.group
                raise kmock.KubernetesError(
                    status=denial.status,
                    reason=denial.reason,
                    message=f"{qualified(served.plural, served.group)} {go_quote(name)} is "
                    f"forbidden: {denial.message}",
                    details=details,
                )

        return guard

    def _review(self, kind: str, data: Any, requester: UserInfo | None) -> dict[str, Any]:
        """A SubjectAccessReview or SelfSubjectAccessReview answered by the RBAC authorizer."""
        if kind == "SubjectAccessReview":
            attributes = review_attributes(kind, data, review_subject(data))
            decision = self._rbac_policy().authorize(attributes)
        elif requester is None:  # an administrator asking about itself
            review_attributes(kind, data, UserInfo(""))
            decision = Decision(True)
        else:
            decision = self._rbac_policy().authorize(review_attributes(kind, data, requester))
        return review_response(kind, data, decision)

    async def _serve_object_request(
        self, raw_request: aiohttp.web.BaseRequest, target: ResourcePath, user: UserInfo | None
    ) -> aiohttp.web.StreamResponse:
        try:
            body = await raw_request.read()
            return await self._dispatch(raw_request, body, target, user)
        except kmock.KubernetesError as error:
            return json_response(status_body(error), status=error.status)
        except Exception as exc:
            logger.exception("Internal error on %s %s", raw_request.method, raw_request.path_qs)
            internal = kmock.KubernetesError(status=500, reason="InternalError", message=repr(exc))
            return json_response(status_body(internal), status=500)
        finally:
            if self._state.has_pending_work:
                asyncio.get_running_loop().call_soon(self._collect_garbage)

    def _collect_garbage(self) -> None:
        """Delete dependents of deleted owners, empty terminating namespaces and CRDs."""
        try:
            self._state.collect_garbage()
        except Exception:
            logger.exception("Garbage collection failed")

    # Object requests.

    async def _dispatch(
        self,
        raw_request: aiohttp.web.BaseRequest,
        body: bytes,
        target: ResourcePath,
        user: UserInfo | None,
    ) -> aiohttp.web.StreamResponse:
        served = self._state.served(target.group, target.version, target.plural)
        self._check_target(served, target)
        method, params = raw_request.method, dict(raw_request.query)
        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._stream_watch(raw_request, served, target)
        if method == "GET":
            return self._serve_read(raw_request, served, target)
        content_type = raw_request.headers.get("Content-Type", "")
        data = read_body(body, content_type)
        options = write_options(params, data)
        review = is_review(target.group, target.plural)
        if review is not None:
            if method != "POST" or target.name is not None:
                raise method_not_allowed(method)
            return json_response(self._review(review, data, user), status=201)
        guard = self._admission_guard(
            served, target, user, self._escalation_guard(raw_request, target, user)
        )
        if method == "POST" and target.name is None:
            created = self._state.create(served, target.namespace, data, options, guard)
            return json_response(created.body, status=201, warnings=created.warnings)
        if method == "DELETE" and target.name is None:
            labels, fields = self._selectors(served, params)
            deleted = self._state.delete_collection(
                served, target.namespace, labels, fields, options
            )
            listing = {
                "apiVersion": served.api_version,
                "kind": f"{served.kind}List",
                "items": deleted,
            }
            return json_response(
                {**listing, "metadata": {"resourceVersion": str(self._state.revision)}}
            )
        if target.name is None:
            raise method_not_allowed(method)
        if target.subresource == "token":
            if method != "POST":
                raise method_not_allowed(method)
            return json_response(self._mint_token(served, target, data), status=201)
        if method == "PUT":
            result = self._state.replace(
                served,
                target.namespace,
                target.name,
                data,
                subresource=target.subresource,
                options=options,
                guard=guard,
            )
        elif method == "PATCH":
            kind = patch_type(content_type)
            if kind is None:
                raise unsupported_media_type(content_type)
            result = self._state.patch(
                served,
                target.namespace,
                target.name,
                data,
                kind,
                subresource=target.subresource,
                options=options,
                guard=guard,
            )
        elif method == "DELETE" and target.subresource is None:
            if guard is not None:
                existing = None
                with contextlib.suppress(kmock.KubernetesError):  # absent: the delete says so
                    existing = self._state.get(served, target.namespace, target.name)
                if existing is not None:
                    guard(None, existing)
            preconditions = data.get("preconditions") if isinstance(data, Mapping) else None
            result = self._state.delete(
                served, target.namespace, target.name, options, preconditions
            )
            if result.removed and served.crd_name is None:
                return json_response(self._deleted_status(served, result.body))
        else:
            raise method_not_allowed(method)
        return json_response(result.body, warnings=result.warnings)

    def _mint_token(
        self, served: ServedResource, target: ResourcePath, data: Any
    ) -> dict[str, Any]:
        """A TokenRequest answered as the API server does; 404 unless the ServiceAccount exists.

        The token names its account (emulator-token.<namespace>.<name>.<random>), so a test can
        tell which account a client authenticated as, and authenticates as that account until
        it expires or the account is deleted (see `tokens`).
        """
        assert target.name is not None
        account = self._state.get(served, target.namespace, target.name)
        spec = dict(data.get("spec") or {}) if isinstance(data, Mapping) else {}
        seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION_SECONDS)
        self._check_expiration(seconds)
        now = self._state.now()
        expires = now + datetime.timedelta(seconds=seconds)
        token = self._tokens.mint(
            target.namespace or "",
            target.name,
            account["metadata"]["uid"],
            now=now,
            expires=expires,
        )
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": target.name, "namespace": target.namespace},
            "spec": {**spec, "expirationSeconds": seconds},
            "status": {
                "token": token,
                "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        }

    @staticmethod
    def _check_expiration(seconds: int) -> None:
        """pkg/apis/authentication/validation/validation.go ValidateTokenRequest."""
        if seconds < MIN_EXPIRATION_SECONDS:
            detail = "may not specify a duration less than 10 minutes"
        elif seconds > MAX_EXPIRATION_SECONDS:
            detail = "may not specify a duration larger than 2^32 seconds"
        else:
            return
        cause = (
            "spec.expirationSeconds",
            "FieldValueInvalid",
            f"Invalid value: {seconds}: {detail}",
        )
        raise invalid("TokenRequest", "authentication.k8s.io", "", [cause])

    @staticmethod
    def _check_target(served: ServedResource, target: ResourcePath) -> None:
        if target.namespace is not None and not served.namespaced:
            raise resource_not_found()
        if served.namespaced and target.name is not None and target.namespace is None:
            raise resource_not_found()
        unknown_subresource = target.subresource not in (None, *served.subresources)
        if unknown_subresource or (target.subresource is not None and target.name is None):
            raise resource_not_found()

    @staticmethod
    def _deleted_status(served: ServedResource, body: Mapping[str, Any]) -> dict[str, Any]:
        """What the apiserver answers for a built-in object deleted at once."""
        details: dict[str, Any] = {"name": body["metadata"]["name"], "kind": served.plural}
        details["uid"] = body["metadata"]["uid"]
        if served.group:
            details["group"] = served.group
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    @staticmethod
    def _selectors(
        served: ServedResource, params: Mapping[str, str], name: str | None = None
    ) -> tuple[LabelSelector, FieldSelector]:
        rename = event_field_label if served.is_events_v1 else None
        try:
            labels = parse_label_selector(params.get("labelSelector"))
            fields = parse_field_selector(params.get("fieldSelector"), served.kind, rename=rename)
        except SelectorError as exc:
            raise bad_request(str(exc)) from exc
        if name is not None:
            pinned = FieldRequirement("metadata.name", name, negated=False)
            fields = FieldSelector((*fields.requirements, pinned))
        return labels, fields

    def _serve_read(
        self, raw_request: aiohttp.web.BaseRequest, served: ServedResource, target: ResourcePath
    ) -> aiohttp.web.Response:
        params = raw_request.query
        table = wants_table(raw_request.headers.get("Accept", ""))
        include_object = params.get("includeObject") or "Metadata"
        if target.name is not None:
            body = self._state.get(served, target.namespace, target.name)
            if not table:
                return json_response(body)
            metadata = {"resourceVersion": body["metadata"]["resourceVersion"]}
            return json_response(
                build_table(
                    [body],
                    served.columns,
                    now=self._state.now(),
                    list_metadata=metadata,
                    include_object=include_object,
                )
            )
        labels, fields = self._selectors(served, params)
        items = self._state.list_objects(served, target.namespace, labels, fields)
        page, metadata = paginate(items, params, self._state.revision)
        if table:
            return json_response(
                build_table(
                    page,
                    served.columns,
                    now=self._state.now(),
                    list_metadata=metadata,
                    include_object=include_object,
                )
            )
        if wants_metadata_list(raw_request.headers.get("Accept", "")):
            return json_response(build_metadata_list(page, list_metadata=metadata))
        head = {
            "apiVersion": served.api_version,
            "kind": f"{served.kind}List",
            "metadata": metadata,
        }
        items = b",".join(self._encoded(item) for item in page)
        body = json.dumps(head).encode()[:-1] + b', "items": [' + items + b"]}"
        return aiohttp.web.Response(body=body, content_type="application/json")

    def _encoded(self, body: Mapping[str, Any]) -> bytes:
        """An object as JSON, kept per resourceVersion: a test's history is listed again and
        again (encoding 100 PerfRuns took 13 ms, more than finding them)."""
        meta = body["metadata"]
        key = (body.get("apiVersion"), body.get("kind"), meta.get("namespace"), meta["name"])
        version = str(meta.get("resourceVersion"))
        cached = self._encodings.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        if len(self._encodings) >= ENCODING_CACHE_SIZE:
            self._encodings.clear()
        encoded = json.dumps(body).encode()
        self._encodings[key] = (version, encoded)
        return encoded

    # Watches.

    async def _stream_watch(
        self, raw_request: aiohttp.web.BaseRequest, served: ServedResource, target: ResourcePath
    ) -> aiohttp.web.StreamResponse:
        params = raw_request.query
        labels, fields = self._selectors(served, params, name=target.name)
        try:
            timeout = float(params.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
            since_text = params.get("resourceVersion") or ""
            since = int(since_text) if since_text not in ("", "0") else None
        except ValueError as exc:
            raise bad_request(f"invalid watch parameters: {exc}") from exc
        initial = since is None or params.get("sendInitialEvents") == "true"
        bookmarks = params.get("allowWatchBookmarks") == "true"

        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(raw_request)
        events = self._watch_events(
            raw_request,
            served,
            target.namespace,
            labels,
            fields,
            since=since,
            initial=initial,
            timeout=timeout,
            bookmarks=bookmarks,
            initial_end_bookmark=params.get("sendInitialEvents") == "true",
        )
        with contextlib.suppress(ConnectionResetError):  # the client went away
            async for event in events:
                await response.write(json.dumps(event).encode() + b"\n")
            await response.write_eof()
        return response

    async def _watch_events(
        self,
        raw_request: aiohttp.web.BaseRequest,
        served: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        since: int | None,
        initial: bool,
        timeout: float,
        bookmarks: bool,
        initial_end_bookmark: bool,
    ) -> AsyncIterator[dict[str, Any]]:
        """ADDED for what exists (unless resuming), then every change until the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        journal = self._state.journal
        position = self._state.revision
        if since is not None and not initial:
            oldest = journal.oldest_revision()
            if not journal.remembers(since):
                yield {"type": "ERROR", "object": status_body(expired(since, oldest or 0))}
                return
            position = since
        if initial:
            for obj in self._state.list_objects(served, namespace, labels, fields):
                yield {"type": "ADDED", "object": obj}
            if initial_end_bookmark:
                yield self._bookmark(served, position, initial_end=True)
        while True:
            for change in journal.since(position):
                position = change.revision
                event = self._watch_event(change, served, namespace, labels, fields)
                if event is not None:
                    yield event
            remaining = deadline - loop.time()
            transport = raw_request.transport
            if remaining <= 0 or self._stopping or transport is None or transport.is_closing():
                break
            await journal.wait_for_change(min(remaining, WATCH_POLL_SECONDS))
        if bookmarks and not self._stopping:
            yield self._bookmark(served, position)

    def _watch_event(
        self,
        change: Change,
        served: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
    ) -> dict[str, Any] | None:
        """The event a watcher sees: a change that makes an object (stop) match is ADDED (DELETED).

        As the API server's watch cache does, an object that stops matching is sent as DELETED
        with its previous content (the content that matched) at the change's resourceVersion.
        """
        if change.storage != served.storage:
            return None
        if namespace is not None and change.new["metadata"].get("namespace") != namespace:
            return None
        matches_now = self._state.selects(change.new, labels, fields)
        matched_before = change.old is not None and self._state.selects(change.old, labels, fields)
        if change.type == "MODIFIED" and matches_now != matched_before:
            if not matches_now and change.old is not None:
                left = served.from_storage(change.old)
                left["metadata"] = {
                    **left["metadata"],
                    "resourceVersion": change.new["metadata"]["resourceVersion"],
                }
                return {"type": "DELETED", "object": left}
            event_type = "ADDED"
        elif matches_now or (change.type == "DELETED" and matched_before):
            event_type = change.type
        else:
            return None
        return {"type": event_type, "object": served.from_storage(change.new)}

    @staticmethod
    def _bookmark(
        served: ServedResource, revision: int, *, initial_end: bool = False
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        body = {"kind": served.kind, "apiVersion": served.api_version, "metadata": metadata}
        return {"type": "BOOKMARK", "object": body}

    # Discovery, the root, OpenAPI and request counts.

    async def _serve_discovery(
        self, raw_request: aiohttp.web.BaseRequest
    ) -> aiohttp.web.StreamResponse:
        parts = raw_request.path.strip("/").split("/")
        try:
            if parts == ["api"]:
                payload = self._api_versions(raw_request)
            elif parts == ["apis"]:
                payload = self._api_group_list()
            elif parts[0] == "apis" and len(parts) == 2:
                payload = self._api_group_document(parts[1])
            else:
                payload = self._api_resource_list(parts)
        except kmock.KubernetesError as error:
            return json_response(status_body(error), status=error.status)
        return json_response(payload)

    def _root_paths(self) -> dict[str, Any]:
        paths = {"/api", "/api/v1", "/apis", "/version", "/healthz", "/livez", "/readyz"}
        for served in self._state.served_resources():
            if served.group:
                paths |= {f"/apis/{served.group}", f"/apis/{served.group}/{served.version}"}
        return {"paths": sorted(paths)}

    @staticmethod
    def _api_versions(raw_request: aiohttp.web.BaseRequest) -> dict[str, Any]:
        address = f"{raw_request.url.host}:{raw_request.url.port}"
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }

    def _api_group(self, group: str) -> dict[str, Any] | None:
        versions = list(
            dict.fromkeys(s.version for s in self._state.served_resources() if s.group == group)
        )
        preferred = self._state.preferred_version(group)
        if not versions or preferred is None:
            return None
        return {
            "name": group,
            "versions": [
                {"groupVersion": api_version(group, version), "version": version}
                for version in versions
            ],
            "preferredVersion": {
                "groupVersion": api_version(group, preferred),
                "version": preferred,
            },
        }

    def _api_group_list(self) -> dict[str, Any]:
        groups = dict.fromkeys(s.group for s in self._state.served_resources() if s.group)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [body for group in groups if (body := self._api_group(group)) is not None],
        }

    def _api_group_document(self, group: str) -> dict[str, Any]:
        body = self._api_group(group)
        if body is None:
            raise resource_not_found()
        return {"kind": "APIGroup", "apiVersion": "v1", **body}

    def _api_resource_list(self, parts: list[str]) -> dict[str, Any]:
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        resources = [
            entry
            for served in self._state.served_resources()
            if served.group == group and served.version == version
            for entry in served.discovery()
        ]
        if not resources:
            raise resource_not_found()
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": api_version(group, version),
            "resources": resources,
        }

    def _request_count_list(self) -> dict[str, Any]:
        """Every request served so far, counted by client (User-Agent), verb and resource."""
        return {
            "requests": [
                {"client": client, "verb": verb, "resource": plural, "count": count}
                for (client, verb, plural), count in sorted(self.request_counts.items())
            ]
        }

    def _openapi_document(self, path: str) -> dict[str, Any]:
        parts = path.strip("/").split("/")[2:]  # after openapi/v3
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        document = group_version_document(group, version, self._state.served_resources())
        if not document["paths"]:
            raise resource_not_found()
        return document


@dataclasses.dataclass(frozen=True)
class ServingEmulator:
    """An emulator being served: the handler (for in-process inspection) and its URL."""

    emulator: ClusterEmulator
    url: str


@contextlib.asynccontextmanager
async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    watch_history: int = 10_000,
    seed: Path | None = None,
    clock: Callable[[], datetime.datetime] | None = None,
) -> AsyncIterator[ServingEmulator]:
    """Serve a fresh emulator on host:port (0: a free port) in the running event loop.

    `seed`: a JSON-lines file of objects stored before serving (see `seed`);
    `clock`: the cluster's time (default: the system's), for tests of token expiry.
    """
    emulator = ClusterEmulator(watch_history=watch_history, clock=clock)
    if seed is not None:
        count, seconds = load_seed(emulator.state, seed)
        logger.info("Seeded %d objects from %s in %.1f s", count, seed, seconds)
    runner = aiohttp.web.ServerRunner(aiohttp.web.Server(emulator))
    await runner.setup()
    try:
        site = aiohttp.web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        try:
            yield ServingEmulator(emulator, f"http://{bound_host}:{bound_port}")
        finally:
            emulator.stop_watches()
    finally:
        await runner.cleanup()
