"""References tying a run's Job and ConfigMap to their PerfRun and owner: value objects (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunRef:
    """The PerfRun a Job belongs to; its uid is also kube-burner's ``--uuid``.

    ``namespace`` is the PerfRun's (and its PerfTest's) namespace. The Job and ConfigMap go to
    ``spec.target.namespace`` when the spec names one, else to this namespace.
    """

    test: str  # PerfTest name
    run: str  # PerfRun name
    uid: str  # PerfRun uid
    namespace: str


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
