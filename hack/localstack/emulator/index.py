"""Indexes of the emulator's live objects by resource, namespace, label and owner; in memory, no I/O.

Without them every list, selector and garbage collection scans every object of the cluster:
with 100,000 PerfRuns a list of one test's 100 runs cost tens of milliseconds. `ClusterState`
keeps the index in step with its commits (`add` the new version, `discard` the old one).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any

from kmock import resource

from localstack.emulator.object_selectors import LabelSelector, Operator

StorageKey = tuple[resource, str | None, str]


def _labels(stored: Mapping[str, Any]) -> dict[str, str]:
    return dict((stored.get("metadata") or {}).get("labels") or {})


def _owner_uids(stored: Mapping[str, Any]) -> set[str]:
    references = (stored.get("metadata") or {}).get("ownerReferences") or []
    return {str(ref["uid"]) for ref in references if isinstance(ref, Mapping) and ref.get("uid")}


class ObjectIndex:
    """Keys of live objects by storage, by (storage, namespace), by label and by owner uid."""

    def __init__(self) -> None:
        # dicts as ordered sets: listings keep the order of creation, as a scan would.
        self._by_storage: dict[resource, dict[StorageKey, None]] = collections.defaultdict(dict)
        self._by_namespace: dict[str, dict[StorageKey, None]] = collections.defaultdict(dict)
        self._by_label: dict[tuple[resource, str, str], set[StorageKey]] = collections.defaultdict(
            set
        )
        self._by_owner: dict[str, set[StorageKey]] = collections.defaultdict(set)

    def add(self, key: StorageKey, stored: Mapping[str, Any]) -> None:
        storage, namespace, _ = key
        self._by_storage[storage][key] = None
        if namespace is not None:
            self._by_namespace[namespace][key] = None
        for label, value in _labels(stored).items():
            self._by_label[storage, label, str(value)].add(key)
        for uid in _owner_uids(stored):
            self._by_owner[uid].add(key)

    def discard(self, key: StorageKey, stored: Mapping[str, Any]) -> None:
        storage, namespace, _ = key
        self._by_storage[storage].pop(key, None)
        if namespace is not None:
            self._by_namespace[namespace].pop(key, None)
        for label, value in _labels(stored).items():
            keys = self._by_label.get((storage, label, str(value)))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_label[storage, label, str(value)]
        for uid in _owner_uids(stored):
            owned = self._by_owner.get(uid)
            if owned is not None:
                owned.discard(key)
                if not owned:
                    del self._by_owner[uid]

    def keys(self, storage: resource) -> list[StorageKey]:
        return list(self._by_storage.get(storage, {}))

    def in_namespace(self, namespace: str) -> list[StorageKey]:
        return list(self._by_namespace.get(namespace, {}))

    def owned_by(self, uid: str) -> list[StorageKey]:
        return list(self._by_owner.get(uid, ()))

    def candidates(
        self, storage: resource, namespace: str | None, labels: LabelSelector
    ) -> Iterable[StorageKey]:
        """A superset of the keys that `namespace` and the equality terms of `labels` select."""
        narrowest: set[StorageKey] | None = None
        for requirement in labels.requirements:
            if requirement.operator not in (Operator.EQUALS, Operator.IN):
                continue
            matching: set[StorageKey] = set()
            for value in requirement.values:
                matching |= self._by_label.get((storage, requirement.key, value), set())
            if narrowest is None or len(matching) < len(narrowest):
                narrowest = matching
        if narrowest is None and namespace is None:
            return list(self._by_storage.get(storage, {}))
        if narrowest is None:
            in_namespace = self._by_namespace.get(namespace, {})
            return [key for key in in_namespace if key[0] == storage]
        return [key for key in narrowest if namespace is None or key[1] == namespace]
