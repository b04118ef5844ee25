"""What one served API resource is (names, scope, subresources, schema, storage); pure."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Any

from kmock import ResourceInfo, resource

from localstack.emulator.builtin_resources import (
    STANDARD_VERBS,
    BuiltinResource,
    event_from_core,
    event_to_core,
)
from localstack.emulator.crd_rules import RuleNode
from localstack.emulator.crds import CustomVersion
from localstack.emulator.schema import StructuralSchema
from localstack.emulator.tables import DEFAULT_COLUMNS, Column

CRD_STORAGE = resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACE_STORAGE = resource("", "v1", "namespaces")
EVENT_STORAGE = resource("", "v1", "events")
SECRET_STORAGE = resource("", "v1", "secrets")
_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Sort key of API versions as Kubernetes ranks them: v2 > v1 > v1beta2 > v1alpha1 > other."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (0, 0, 0)
    level = {None: 3, "beta": 2, "alpha": 1}[match[2]]
    return (level, int(match[1]), int(match[3] or 0))


def api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


# Subresources whose kind is not their resource's.
_SUBRESOURCE_KINDS = {"scale": "Scale", "token": "TokenRequest"}


@dataclasses.dataclass(frozen=True)
class ServedResource:
    """One resource in one API version, and how its objects are stored.

    Objects are stored once per resource: custom resources under the CRD's storage version,
    events.k8s.io/v1 Events as core v1 Events; reads and writes convert between the two.
    """

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    columns: tuple[Column, ...] = DEFAULT_COLUMNS
    schema: StructuralSchema | None = None
    rules: RuleNode | None = None  # the schema's x-kubernetes-validations (`crd_rules`)
    crd_name: str | None = None
    storage_version: str = ""
    verbs: tuple[str, ...] = STANDARD_VERBS

    @classmethod
    def from_builtin(cls, builtin: BuiltinResource) -> ServedResource:
        return cls(
            group=builtin.group,
            version=builtin.version,
            plural=builtin.plural,
            kind=builtin.kind,
            singular=builtin.singular,
            namespaced=builtin.namespaced,
            short_names=builtin.short_names,
            categories=builtin.categories,
            subresources=builtin.subresources,
            columns=builtin.columns,
            verbs=builtin.verbs,
        )

    @classmethod
    def from_custom(cls, custom: CustomVersion) -> ServedResource:
        return cls(
            group=custom.group,
            version=custom.version,
            plural=custom.plural,
            kind=custom.kind,
            singular=custom.singular,
            namespaced=custom.namespaced,
            short_names=custom.short_names,
            categories=custom.categories,
            subresources=custom.subresources,
            columns=custom.columns,
            schema=custom.schema,
            rules=custom.rules,
            crd_name=custom.crd_name,
            storage_version=custom.storage_version,
        )

    @property
    def key(self) -> resource:
        return resource(self.group, self.version, self.plural)

    @property
    def api_version(self) -> str:
        return api_version(self.group, self.version)

    @property
    def is_events_v1(self) -> bool:
        return self.group == "events.k8s.io" and self.plural == "events"

    @functools.cached_property
    def storage(self) -> resource:
        """Where objects of this resource are kept, whichever version they are served in.

        Kept: making a kmock `resource` checks its arguments against typing Protocols, which
        took a tenth of the emulator's time under load."""
        if self.is_events_v1:
            return EVENT_STORAGE
        return resource(self.group, self.storage_version or self.version, self.plural)

    @property
    def info(self) -> ResourceInfo:
        """The discovery record in kmock's own terms (for `emulator.resources`)."""
        return ResourceInfo(
            namespaced=self.namespaced,
            kind=self.kind,
            singular=self.singular,
            verbs=set(self.verbs),
            shortnames=set(self.short_names),
            categories=set(self.categories),
            subresources=set(self.subresources),
        )

    def to_storage(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if self.is_events_v1:
            return event_to_core(body)
        stored = dict(body)
        stored.update(apiVersion=api_version(self.storage.group or "", self.storage.version or ""))
        stored.update(kind=self.kind)
        return stored

    def from_storage(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        if self.is_events_v1:
            return event_from_core(stored)
        body = dict(stored)
        body.update(apiVersion=self.api_version, kind=self.kind)
        return body

    def discovery(self) -> list[dict[str, Any]]:
        """The APIResourceList entries: the resource itself, then its subresources."""
        main = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        subresources = [
            {
                "name": f"{self.plural}/{subresource}",
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": _SUBRESOURCE_KINDS.get(subresource, self.kind),
                "verbs": ["create"] if subresource == "token" else ["get", "patch", "update"],
            }
            for subresource in self.subresources
        ]
        return [main, *subresources]
