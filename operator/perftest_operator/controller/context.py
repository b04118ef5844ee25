"""What every controller step needs: the API clients and the operator settings."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import cast

from perftest_operator.api.settings import Settings
from perftest_operator.kube.api import KubeApi
from perftest_operator.kube.cached import StepReads
from perftest_operator.kube.targets import TargetClients
from perftest_operator.telemetry.metrics import OperatorMetrics


class RunLocks:
    """One step at a time per PerfRun in this process: a Job's completion and the run's timer
    may both want to advance it, and only one should query Prometheus."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._busy: set[tuple[str, str]] = set()

    @contextlib.contextmanager
    def holding(self, namespace: str, name: str) -> Iterator[bool]:
        """Yields True with the run held, or False at once when another caller holds it."""
        key = (namespace, name)
        with self._guard:
            acquired = key not in self._busy
            self._busy.add(key)
        try:
            yield acquired
        finally:
            if acquired:
                with self._guard:
                    self._busy.discard(key)


@dataclass(frozen=True)
class Context:
    api: KubeApi  # the hub: PerfTests, PerfRuns, Events, Secrets
    settings: Settings
    targets: TargetClients = field(default_factory=TargetClients)  # remote targets' clients
    telemetry: OperatorMetrics = field(default_factory=OperatorMetrics)  # served on /metrics
    run_locks: RunLocks = field(default_factory=RunLocks)

    def for_step(self) -> Context:
        """This context with hub reads remembered for one step (see `kube.cached`)."""
        # StepReads answers every KubeApi call (the rest go to self.api unchanged).
        return replace(self, api=cast(KubeApi, StepReads(self.api)))
