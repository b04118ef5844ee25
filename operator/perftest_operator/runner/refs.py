"""The reference tying a run's Job and ConfigMap to their PerfRun: a value object (pure)."""

from __future__ import annotations

from dataclasses import dataclass


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
