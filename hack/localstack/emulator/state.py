"""The emulated cluster's objects with apiserver semantics; stateful (in memory), no I/O.

Everything here is synchronous and runs in the event loop's thread: one call is one atomic
step of the cluster (no awaits inside), so the HTTP layer needs no locks. Writes go through one path (admit, conform to the schema,
detect no-ops, bump generation, commit with a new resourceVersion, record the change for
watchers); deletions honour finalizers; garbage collection runs when the HTTP layer calls
`collect_garbage()`, right after the request that made it necessary.
"""

from __future__ import annotations

import base64
import collections
import copy
import dataclasses
import datetime
import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kmock import KubernetesError, ObjectsArray, ResourcesArray, resource

from localstack.emulator.builtin_resources import BUILTIN_RESOURCES, INITIAL_NAMESPACES
from localstack.emulator.crd_rules import BLOCKING_REASONS, NOT_CHECKED, check_rules
from localstack.emulator.crds import CLEANUP_FINALIZER, crd_status, served_versions, validate_crd
from localstack.emulator.errors import (
    already_exists,
    bad_request,
    conflict,
    forbidden,
    invalid,
    method_not_allowed,
    not_found,
    resource_not_found,
    unprocessable,
    unsupported_media_type,
)
from localstack.emulator.index import ObjectIndex
from localstack.emulator.journal import Change, Journal
from localstack.emulator.metadata import (
    SYSTEM_FIELDS,
    format_time,
    random_suffix,
    validate_labels,
    validate_name,
    validate_path_segment_name,
)
from localstack.emulator.object_selectors import FieldSelector, LabelSelector
from localstack.emulator.patches import PatchError, PatchType, apply_patch
from localstack.emulator.podsecurity import admit as admit_pod_security
from localstack.emulator.rbac_defaults import DEFAULT_CLUSTER_ROLE_BINDINGS, DEFAULT_CLUSTER_ROLES
from localstack.emulator.resources import (
    CRD_STORAGE,
    NAMESPACE_STORAGE,
    SECRET_STORAGE,
    ServedResource,
    version_priority,
)
from localstack.emulator.schema import FieldError, unknown_field_warnings

StorageKey = tuple[resource, str | None, str]
# Called with the object a write would store (as sent or patched, not yet validated) and the
# one it replaces (None for a create); raises to refuse the write, as the API server's
# policy-based RBAC storages do (see `escalation`).
WriteGuard = Callable[[Mapping[str, Any], Mapping[str, Any] | None], None]
ROLE_STORAGE = resource("rbac.authorization.k8s.io", "v1", "roles")
CLUSTER_ROLE_STORAGE = resource("rbac.authorization.k8s.io", "v1", "clusterroles")
ROLE_BINDING_STORAGE = resource("rbac.authorization.k8s.io", "v1", "rolebindings")
CLUSTER_ROLE_BINDING_STORAGE = resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
POD_STORAGE = resource("", "v1", "pods")
RBAC_STORAGES = frozenset(
    {ROLE_STORAGE, CLUSTER_ROLE_STORAGE, ROLE_BINDING_STORAGE, CLUSTER_ROLE_BINDING_STORAGE}
)
_OMITTED_WHEN_EMPTY = frozenset({"labels", "annotations", "finalizers", "ownerReferences"})


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    """Query options of a write: `dryRun=All`, `fieldValidation`, `propagationPolicy`."""

    dry_run: bool = False
    field_validation: str = "Warn"  # Strict, Warn, Ignore
    propagation: str = "Background"  # Background, Foreground, Orphan


@dataclasses.dataclass(frozen=True)
class WriteResult:
    body: dict[str, Any]
    warnings: tuple[str, ...] = ()
    removed: bool = False  # a deletion that took effect at once (no finalizers to wait for)


def _meta(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata")
    return dict(meta) if isinstance(meta, Mapping) else {}


def _without(body: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


class ClusterState:
    """All objects and served resources of one emulated cluster.

    `objects` and `resources` are kmock's own containers, so an in-process test can inspect
    `emulator.objects[...]` (with history) and `emulator.resources[...]` as kmock documents.
    """

    def __init__(
        self,
        objects: ObjectsArray,
        resources: ResourcesArray,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        rng: random.Random | None = None,
        history_limit: int = 100,
        journal_capacity: int = 10_000,
    ) -> None:
        self.objects = objects
        self.resources = resources
        self.journal = Journal(journal_capacity)
        self.revision = 0
        # Bumped by every change to a Role, ClusterRole or binding: the authorizer's cue to
        # rebuild its index (see `rbac_objects`).
        self.rbac_revision = 0
        self._clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self._rng = rng or random.Random()
        self._history_limit = history_limit
        self._served: dict[resource, ServedResource] = {}
        self._uids: dict[str, StorageKey] = {}
        self._index = ObjectIndex()
        self._orphaning: set[str] = set()
        self._pending: collections.deque[tuple[str, str]] = collections.deque()
        for builtin in BUILTIN_RESOURCES:
            self.register(ServedResource.from_builtin(builtin))
        namespaces = self._served[NAMESPACE_STORAGE]
        for name in INITIAL_NAMESPACES:
            self.create(namespaces, None, {"metadata": {"name": name}}, WriteOptions())
        for storage, bodies in (
            (CLUSTER_ROLE_STORAGE, DEFAULT_CLUSTER_ROLES),
            (CLUSTER_ROLE_BINDING_STORAGE, DEFAULT_CLUSTER_ROLE_BINDINGS),
        ):
            for body in bodies:
                self.create(self._served[storage], None, body, WriteOptions())

    # Served resources.

    def register(self, served: ServedResource) -> None:
        self._served[served.key] = served
        self.resources[served.key] = served.info

    def unregister(self, key: resource) -> None:
        self._served.pop(key, None)
        if key in self.resources:
            del self.resources[key]

    def served(self, group: str, version: str, plural: str) -> ServedResource:
        found = self._served.get(resource(group, version, plural))
        if found is None:
            raise resource_not_found()
        return found

    def served_resources(self) -> list[ServedResource]:
        """All served resources: built-ins first, then custom ones in order of registration."""
        return list(self._served.values())

    def preferred_version(self, group: str) -> str | None:
        versions = {served.version for served in self._served.values() if served.group == group}
        return max(versions, key=version_priority) if versions else None

    # Reads.

    def now(self) -> datetime.datetime:
        return self._clock()

    def _live(self, key: StorageKey) -> dict[str, Any] | None:
        if key not in self.objects:
            return None
        obj = self.objects[key]
        return None if obj.deleted else obj.last.raw

    def _live_items(
        self, storage: resource | None = None
    ) -> Iterator[tuple[StorageKey, dict[str, Any]]]:
        if storage is not None:
            for key in self._index.keys(storage):
                yield key, self.objects[key].last.raw
            return
        for key, obj in list(self.objects.items()):
            if not obj.deleted:
                yield key, obj.last.raw

    def _live_keys(self, keys: Iterable[StorageKey]) -> Iterator[tuple[StorageKey, dict[str, Any]]]:
        for key in keys:
            yield key, self.objects[key].last.raw

    def _existing(self, served: ServedResource, namespace: str | None, name: str) -> dict[str, Any]:
        stored = self._live((served.storage, namespace, name))
        if stored is None:
            raise not_found(served.plural, served.group, name)
        return stored

    def get(self, served: ServedResource, namespace: str | None, name: str) -> dict[str, Any]:
        return served.from_storage(self._existing(served, namespace, name))

    def list_objects(
        self,
        served: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
    ) -> list[dict[str, Any]]:
        """Matching objects sorted by namespace and name (all namespaces if `namespace` is None)."""
        candidates = self._index.candidates(served.storage, namespace, labels)
        found = [
            stored
            for _, stored in self._live_keys(list(candidates))
            if self.selects(stored, labels, fields)
        ]
        found.sort(key=lambda body: (_meta(body).get("namespace") or "", _meta(body)["name"]))
        return [served.from_storage(stored) for stored in found]

    @staticmethod
    def selects(stored: Mapping[str, Any], labels: LabelSelector, fields: FieldSelector) -> bool:
        return labels.matches(_meta(stored).get("labels")) and fields.matches(stored)

    def rbac_objects(self) -> tuple[list[dict[str, Any]], ...]:
        """The live Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, as stored."""
        return tuple(
            [stored for _, stored in self._live_items(storage)]
            for storage in (
                ROLE_STORAGE,
                CLUSTER_ROLE_STORAGE,
                ROLE_BINDING_STORAGE,
                CLUSTER_ROLE_BINDING_STORAGE,
            )
        )

    # Creation.

    def create(
        self,
        served: ServedResource,
        namespace: str | None,
        body: Any,
        options: WriteOptions,
        guard: WriteGuard | None = None,
    ) -> WriteResult:
        if not isinstance(body, Mapping):
            raise bad_request("the body of the request must be a JSON object")
        self._check_type(served, body)
        meta = _meta(body)
        namespace = self._object_namespace(served, namespace, meta)
        self._check_creatable(served, namespace)
        if guard is not None:
            guard(body, None)
        name = meta.get("name") or self._generate_name(served, namespace, meta.get("generateName"))
        if not name:
            causes = [
                (
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                )
            ]
            raise invalid(served.kind, served.group, "", causes)

        new = copy.deepcopy(dict(body))
        new.update(apiVersion=served.api_version, kind=served.kind)
        for field in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(field, None)
        meta.update(name=name, uid=str(uuid.uuid4()))
        meta.update(creationTimestamp=format_time(self.now()), generation=1)
        if served.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        new["metadata"] = copy.deepcopy(meta)
        if "status" in served.subresources:
            new.pop("status", None)
        new = self._admit(served, new)
        new, warnings = self._conform(served, new, options)
        # Validating admission runs after validation and before the store refuses a duplicate
        # (genericregistry Store.Create: BeforeCreate, createValidation, then storage).
        warnings += self._pod_security(served, None, new, None)

        key = (served.storage, namespace, name)
        if self._live(key) is not None:
            raise already_exists(served.plural, served.group, name)
        if options.dry_run:
            return WriteResult(new, warnings)
        stored = self._commit(key, served.to_storage(new), old=None)
        self._after_commit(key, stored)
        return WriteResult(served.from_storage(stored), warnings)

    def seed(
        self, served: ServedResource, body: Mapping[str, Any], *, check_schema: bool = True
    ) -> dict[str, Any]:
        """Store an object as given, status included, in one commit (for bulk seeding).

        Unlike `create`, it keeps `metadata.uid` and `creationTimestamp` when the object has
        them (so that seeded owner references hold) and takes the status as it is. With
        `check_schema` the object is pruned, defaulted and validated against its schema as a
        write would be; without, it is stored as it is (for clones of a checked one).
        """
        meta = _meta(body)
        namespace = meta.get("namespace") if served.namespaced else None
        self._check_creatable(served, namespace)
        name = meta.get("name")
        if not name:
            raise bad_request("a seeded object needs metadata.name")
        meta.update(
            uid=meta.get("uid") or str(uuid.uuid4()),
            creationTimestamp=meta.get("creationTimestamp") or format_time(self.now()),
            generation=meta.get("generation") or 1,
        )
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(field, None)
        new = {**copy.deepcopy(dict(body)), "metadata": meta}
        new.update(apiVersion=served.api_version, kind=served.kind)
        new = self._admit(served, new)
        if check_schema:
            new, _ = self._conform(served, new, WriteOptions())
        key = (served.storage, namespace, name)
        if self._live(key) is not None:
            raise already_exists(served.plural, served.group, name)
        stored = self._commit(key, served.to_storage(new), old=None)
        self._after_commit(key, stored)
        return served.from_storage(stored)

    def served_kind(self, api_version: str, kind: str) -> ServedResource:
        """The served resource of objects of `kind` in `api_version` (its storage version)."""
        for served in self._served.values():
            if served.api_version == api_version and served.kind == kind:
                return served
        raise bad_request(f"no resource serves {kind} in {api_version}")

    def _check_type(self, served: ServedResource, body: Mapping[str, Any]) -> None:
        kind, version = body.get("kind"), body.get("apiVersion")
        if kind and kind != served.kind:
            raise bad_request(
                f"the kind of the object ({kind}) does not match the kind of the URL ({served.kind})"
            )
        if version and version != served.api_version:
            raise bad_request(
                f"the API version in the data ({version}) does not match the expected API"
                f" version ({served.api_version})"
            )

    def _object_namespace(
        self, served: ServedResource, namespace: str | None, meta: Mapping[str, Any]
    ) -> str | None:
        if not served.namespaced:
            return None
        if namespace is None:
            raise method_not_allowed("POST")
        declared = meta.get("namespace")
        if declared and declared != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on"
                " the request"
            )
        return namespace

    def _check_creatable(self, served: ServedResource, namespace: str | None) -> None:
        if namespace is not None:
            stored = self._live((NAMESPACE_STORAGE, None, namespace))
            if stored is None:
                raise not_found("namespaces", "", namespace)
            if _meta(stored).get("deletionTimestamp"):
                raise forbidden(
                    f"unable to create new content in namespace {namespace} because it is"
                    " being terminated"
                )
        if served.crd_name is not None:
            crd = self._live((CRD_STORAGE, None, served.crd_name))
            if crd is not None and _meta(crd).get("deletionTimestamp"):
                raise KubernetesError(
                    status=405,
                    reason="MethodNotAllowed",
                    message="create not allowed while custom resource definition is terminating",
                    details={},
                )

    def _generate_name(
        self, served: ServedResource, namespace: str | None, prefix: Any
    ) -> str | None:
        if not prefix:
            return None
        for _ in range(100):
            name = f"{prefix}{random_suffix(self._rng)}"
            if self._live((served.storage, namespace, name)) is None:
                return name
        raise KubernetesError(
            status=500,
            reason="AlreadyExists",
            message=f"could not generate a unique name from {prefix!r}",
            details={},
        )

    # Updates.

    def replace(
        self,
        served: ServedResource,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None,
        options: WriteOptions,
        guard: WriteGuard | None = None,
    ) -> WriteResult:
        """PUT: the whole object (or its status) as sent."""
        if not isinstance(body, Mapping):
            raise bad_request("the body of the request must be a JSON object")
        self._check_type(served, body)
        meta = _meta(body)
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        old = served.from_storage(self._existing(served, namespace, name))
        return self._update(served, old, copy.deepcopy(dict(body)), subresource, options, guard)

    def patch(
        self,
        served: ServedResource,
        namespace: str | None,
        name: str,
        patch: Any,
        patch_type: PatchType,
        *,
        subresource: str | None,
        options: WriteOptions,
        guard: WriteGuard | None = None,
    ) -> WriteResult:
        """PATCH: merge, strategic-merge (as merge), JSON patch, or apply (creates if absent).

        Strategic merge needs Go types, so the apiserver refuses it for custom resources.
        """
        if patch_type is PatchType.STRATEGIC and served.crd_name is not None:
            raise unsupported_media_type(patch_type.value)
        stored = self._live((served.storage, namespace, name))
        if stored is None and patch_type in (PatchType.APPLY_YAML, PatchType.APPLY_CBOR):
            if not isinstance(patch, Mapping):
                raise bad_request("an apply patch must be an object")
            body = copy.deepcopy(dict(patch))
            body["metadata"] = {**_meta(body), "name": name}
            return self.create(served, namespace, body, options, guard)
        if stored is None:
            raise not_found(served.plural, served.group, name)
        old = served.from_storage(stored)
        try:
            candidate = apply_patch(old, patch, patch_type)
        except PatchError as exc:
            raise unprocessable(str(exc)) from exc
        return self._update(served, old, candidate, subresource, options, guard)

    def _update(
        self,
        served: ServedResource,
        old: dict[str, Any],
        candidate: dict[str, Any],
        subresource: str | None,
        options: WriteOptions,
        guard: WriteGuard | None = None,
    ) -> WriteResult:
        if not isinstance(candidate.get("metadata", {}), Mapping):
            raise bad_request("metadata must be an object")
        if guard is not None:
            # Before the resourceVersion check, as the registry's update transforms the
            # object before it compares versions (genericregistry Store.Update).
            guard(candidate, old)
        old_meta = _meta(old)
        requested_version = _meta(candidate).get("resourceVersion")
        if requested_version and requested_version != old_meta["resourceVersion"]:
            raise conflict(served.plural, served.group, old_meta["name"])

        new = self._merge_update(served, old, candidate, subresource)
        if subresource != "status":
            new = self._admit(served, new)
        new, warnings = self._conform(served, new, options, old)
        # Admission sees no-op updates too: the store skips the write only after it.
        warnings += self._pod_security(served, subresource, new, old)
        if new == old:
            return WriteResult(old, warnings)
        if _without(new, "metadata", "status") != _without(old, "metadata", "status"):
            new["metadata"]["generation"] = int(old_meta.get("generation", 0)) + 1
        if options.dry_run:
            return WriteResult(new, warnings)
        key = (served.storage, old_meta.get("namespace"), old_meta["name"])
        stored = self._commit(key, served.to_storage(new), old=self._live(key))
        self._after_commit(key, stored)
        return WriteResult(served.from_storage(stored), warnings)

    @staticmethod
    def _merge_update(
        served: ServedResource,
        old: Mapping[str, Any],
        candidate: Mapping[str, Any],
        subresource: str | None,
    ) -> dict[str, Any]:
        """The object a write leaves: status-only for `/status`, status kept for the main
        resource when it has a status subresource, and server-owned metadata never changes."""
        if subresource == "status":
            new = copy.deepcopy(dict(old))
            if candidate.get("status") is None:
                new.pop("status", None)
            else:
                new["status"] = copy.deepcopy(candidate["status"])
            return new
        new = copy.deepcopy(dict(candidate))
        if "status" in served.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        old_meta = _meta(old)
        meta = _meta(new)
        for field in SYSTEM_FIELDS:
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        new["metadata"] = meta
        new.update(apiVersion=served.api_version, kind=served.kind)
        return new

    def _pod_security(
        self,
        served: ServedResource,
        subresource: str | None,
        new: Mapping[str, Any],
        old: Mapping[str, Any] | None,
    ) -> tuple[str, ...]:
        """The PodSecurity admission plugin's warnings on a write; raises its refusal."""
        namespace = _meta(new).get("namespace")
        labels = None
        if namespace:
            stored = self._live((NAMESPACE_STORAGE, None, namespace))
            labels = _meta(stored).get("labels") if stored is not None else None

        def pods_of(name: str) -> list[dict[str, Any]]:
            return [body for key, body in self._live_items(POD_STORAGE) if key[1] == name]

        return admit_pod_security(
            served.group, served.plural, subresource, new, old, labels, pods_of
        )

    def _admit(self, served: ServedResource, new: dict[str, Any]) -> dict[str, Any]:
        """What the server itself sets on secrets, namespaces and CRDs on every (non-status) write."""
        meta = new["metadata"]
        terminating = bool(meta.get("deletionTimestamp"))
        if served.storage == SECRET_STORAGE:
            if not new.get("type"):
                new["type"] = "Opaque"
            # Like the API server: stringData is write-only, merged into data as base64.
            string_data = new.pop("stringData", None) or {}
            if string_data:
                encoded = {
                    key: base64.b64encode(str(value).encode()).decode()
                    for key, value in string_data.items()
                }
                new["data"] = {**(new.get("data") or {}), **encoded}
        if served.storage == NAMESPACE_STORAGE:
            new["status"] = {"phase": "Terminating" if terminating else "Active"}
            new.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        if served.storage == CRD_STORAGE:
            if not terminating and CLEANUP_FINALIZER not in meta.get("finalizers", []):
                meta["finalizers"] = [*meta.get("finalizers", []), CLEANUP_FINALIZER]
            errors = validate_crd(new)
            if not errors:
                now = format_time(self.now())
                new["status"] = crd_status(new, now=now, terminating=terminating)
        return new

    def _conform(
        self,
        served: ServedResource,
        new: dict[str, Any],
        options: WriteOptions,
        old: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Prune, default and validate (schema, then CEL rules) as the apiserver does; 422 with
        every violation found. ``old``: the stored object on an update (for transition rules)."""
        meta = {
            key: value
            for key, value in _meta(new).items()
            if key not in _OMITTED_WHEN_EMPTY or value
        }  # as Go's `omitempty` drops them
        new = {**new, "metadata": meta}
        name = str(meta.get("name", ""))
        errors: list[FieldError] = []
        if served.storage in RBAC_STORAGES:
            errors += validate_path_segment_name(name)
        else:
            errors += validate_name(name, dns_label=served.storage == NAMESPACE_STORAGE)
        errors += validate_labels(meta.get("labels"))
        if served.storage == CRD_STORAGE:
            errors += validate_crd(new)
        warnings: tuple[str, ...] = ()
        if served.schema is not None:
            new, unknown = served.schema.prune(new)
            if unknown and options.field_validation == "Strict":
                found = ", ".join(f'unknown field "{field}"' for field in unknown)
                raise bad_request(
                    f'{served.kind} in version "{served.version}" cannot be handled as a'
                    f" {served.kind}: strict decoding error: {found}"
                )
            if unknown and options.field_validation == "Warn":
                warnings = tuple(unknown_field_warnings(unknown))
            new = served.schema.default(new)
            errors += served.schema.validate(new)
        if served.rules is not None:
            if any(error.reason in BLOCKING_REASONS for error in errors):
                errors.append(NOT_CHECKED)
            else:
                checked = check_rules(served.rules, new, old)
                errors += checked.errors
                warnings += tuple(checked.warnings)
        if errors:
            causes = [(error.field, error.reason, error.message) for error in errors]
            raise invalid(served.kind, served.group, name, causes)
        return new, warnings

    # Commits: the only place where objects change.

    def _commit(
        self, key: StorageKey, stored: dict[str, Any], *, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        self.revision += 1
        stored = {**stored, "metadata": {**_meta(stored), "resourceVersion": str(self.revision)}}
        previous = self._live(key)
        if previous is not None:
            self._index.discard(key, previous)
        self._index.add(key, stored)
        if key not in self.objects:
            self.objects[key] = stored
        elif self.objects[key].deleted:
            self.objects[key].create(stored)
        else:
            history = self.objects[key].history
            history.append(stored)
            if len(history) > self._history_limit:
                del history[: len(history) - self._history_limit]
        self._uids[_meta(stored)["uid"]] = key
        if key[0] in RBAC_STORAGES:
            self.rbac_revision += 1
        change_type = "ADDED" if old is None else "MODIFIED"
        self.journal.record(Change(self.revision, key[0], change_type, stored, old))
        return stored

    def _after_commit(self, key: StorageKey, stored: Mapping[str, Any]) -> None:
        meta = _meta(stored)
        if key[0] == CRD_STORAGE:
            self._sync_crd(stored)
        if key[0] in (NAMESPACE_STORAGE, CRD_STORAGE):
            return  # removed by collect_garbage() once emptied
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(key)

    def _remove(self, key: StorageKey) -> dict[str, Any]:
        """Make the object gone; its dependents are collected by `collect_garbage()`."""
        stored = self.objects[key].last.raw
        self.revision += 1
        final = {**stored, "metadata": {**_meta(stored), "resourceVersion": str(self.revision)}}
        self.objects[key].delete()
        self._index.discard(key, stored)
        uid = _meta(stored)["uid"]
        self._uids.pop(uid, None)
        if key[0] in RBAC_STORAGES:
            self.rbac_revision += 1
        self.journal.record(Change(self.revision, key[0], "DELETED", final, stored))
        orphan = uid in self._orphaning
        self._orphaning.discard(uid)
        self._pending.append(("orphan" if orphan else "owner-gone", uid))
        if key[0] == CRD_STORAGE:
            for served in list(self._served.values()):
                if served.crd_name == key[2]:
                    self.unregister(served.key)
        return final

    def _sync_crd(self, crd: Mapping[str, Any]) -> None:
        name = _meta(crd)["name"]
        for served in list(self._served.values()):
            if served.crd_name == name:
                self.unregister(served.key)
        if not validate_crd(crd):
            for version in served_versions(crd):
                self.register(ServedResource.from_custom(version))

    # Deletion.

    def delete(
        self,
        served: ServedResource,
        namespace: str | None,
        name: str,
        options: WriteOptions,
        preconditions: Mapping[str, Any] | None = None,
    ) -> WriteResult:
        stored = self._existing(served, namespace, name)
        meta = _meta(stored)
        for field in ("uid", "resourceVersion"):
            expected = (preconditions or {}).get(field)
            if expected and expected != meta.get(field):
                raise conflict(served.plural, served.group, name)
        if options.dry_run or meta.get("deletionTimestamp"):
            return WriteResult(served.from_storage(stored))
        key = (served.storage, namespace, name)
        after, removed = self._delete_key(key, orphan=options.propagation == "Orphan")
        return WriteResult(served.from_storage(after), removed=removed)

    def _delete_key(self, key: StorageKey, *, orphan: bool = False) -> tuple[dict[str, Any], bool]:
        """Remove the object now, or mark it for deletion if something must happen first."""
        stored = self.objects[key].last.raw
        meta = _meta(stored)
        if orphan:
            self._orphaning.add(meta["uid"])
        waits = bool(meta.get("finalizers")) or key[0] in (NAMESPACE_STORAGE, CRD_STORAGE)
        if not waits:
            return self._remove(key), True
        marked = copy.deepcopy(stored)
        marked["metadata"].update(
            deletionTimestamp=format_time(self.now()),
            deletionGracePeriodSeconds=0,
            generation=int(meta.get("generation", 0)) + 1,
        )
        if key[0] == NAMESPACE_STORAGE:
            marked["status"] = {"phase": "Terminating"}
            self._pending.append(("namespace", key[2]))
        if key[0] == CRD_STORAGE:
            marked["status"] = crd_status(marked, now=format_time(self.now()), terminating=True)
            self._pending.append(("crd", key[2]))
        return self._commit(key, marked, old=stored), False

    def delete_collection(
        self,
        served: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        options: WriteOptions,
    ) -> list[dict[str, Any]]:
        deleted = []
        for body in self.list_objects(served, namespace, labels, fields):
            meta = _meta(body)
            result = self.delete(served, meta.get("namespace"), meta["name"], options)
            deleted.append(result.body)
        return deleted

    # Garbage collection, namespace and CRD clean-up.

    @property
    def has_pending_work(self) -> bool:
        return bool(self._pending)

    def collect_garbage(self) -> None:
        """Delete the dependents of gone owners, and empty and remove terminating containers."""
        while True:
            while self._pending:
                task, ident = self._pending.popleft()
                if task == "owner-gone":
                    self._collect_dependents(ident)
                elif task == "orphan":
                    self._orphan_dependents(ident)
                elif task == "namespace":
                    self._empty_namespace(ident)
                elif task == "crd":
                    self._empty_crd(ident)
            self._finalize_terminating()
            if not self._pending:
                return

    def _dependents(self, uid: str) -> list[tuple[StorageKey, dict[str, Any]]]:
        return [
            (key, stored)
            for key, stored in self._live_keys(self._index.owned_by(uid))
            if any(ref.get("uid") == uid for ref in _meta(stored).get("ownerReferences") or [])
        ]

    def _collect_dependents(self, uid: str) -> None:
        for key, stored in self._dependents(uid):
            references = _meta(stored).get("ownerReferences") or []
            remaining = [ref for ref in references if ref.get("uid") != uid]
            if any(ref.get("uid") in self._uids for ref in remaining):
                self._set_owner_references(key, stored, remaining)
            elif not _meta(stored).get("deletionTimestamp"):
                self._delete_key(key)

    def _orphan_dependents(self, uid: str) -> None:
        for key, stored in self._dependents(uid):
            references = _meta(stored).get("ownerReferences") or []
            self._set_owner_references(
                key, stored, [ref for ref in references if ref.get("uid") != uid]
            )

    def _set_owner_references(
        self, key: StorageKey, stored: dict[str, Any], references: list[Any]
    ) -> None:
        changed = copy.deepcopy(stored)
        if references:
            changed["metadata"]["ownerReferences"] = references
        else:
            changed["metadata"].pop("ownerReferences", None)
        self._commit(key, changed, old=stored)

    def _namespace_content(self, namespace: str) -> list[StorageKey]:
        return self._index.in_namespace(namespace)

    def _crd_content(self, crd: Mapping[str, Any]) -> list[StorageKey]:
        storages = {
            served.storage
            for served in self._served.values()
            if served.crd_name == _meta(crd)["name"]
        }
        return [key for storage in storages for key in self._index.keys(storage)]

    def _empty_namespace(self, name: str) -> None:
        for key in self._namespace_content(name):
            if not _meta(self.objects[key].last.raw).get("deletionTimestamp"):
                self._delete_key(key)

    def _empty_crd(self, name: str) -> None:
        crd = self._live((CRD_STORAGE, None, name))
        for key in self._crd_content(crd) if crd else []:
            if not _meta(self.objects[key].last.raw).get("deletionTimestamp"):
                self._delete_key(key)

    def _finalize_terminating(self) -> None:
        """Remove terminating namespaces and CRDs that hold nothing any more."""
        containers = [*self._live_items(NAMESPACE_STORAGE), *self._live_items(CRD_STORAGE)]
        for key, stored in containers:
            meta = _meta(stored)
            if key[0] not in (NAMESPACE_STORAGE, CRD_STORAGE) or not meta.get("deletionTimestamp"):
                continue
            if key[0] == NAMESPACE_STORAGE and self._namespace_content(key[2]):
                continue
            if key[0] == CRD_STORAGE and self._crd_content(stored):
                continue
            finalizers = meta.get("finalizers") or []
            if CLEANUP_FINALIZER in finalizers:
                released = copy.deepcopy(stored)
                released["metadata"]["finalizers"] = [
                    f for f in finalizers if f != CLEANUP_FINALIZER
                ]
                if not released["metadata"]["finalizers"]:
                    del released["metadata"]["finalizers"]
                stored = self._commit(key, released, old=stored)
            if not _meta(stored).get("finalizers"):
                self._remove(key)
