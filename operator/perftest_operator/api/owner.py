"""The owner reference that ties an object to the one whose deletion takes it along (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OwnerRef:
    """The object that owns the run's Job and ConfigMap (garbage collection follows it).

    Only usable when the Job is created in the owner's own cluster and namespace: Kubernetes
    treats an owner in another namespace as absent and garbage-collects the dependent.
    """

    api_version: str
    kind: str
    name: str
    uid: str

    def reference(self) -> dict[str, Any]:
        """The `metadata.ownerReferences` entry: the controller, blocking the owner's deletion."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
