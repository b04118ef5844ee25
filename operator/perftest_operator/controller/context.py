"""What every controller step needs: the API clients and the operator settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from perftest_operator.api.settings import Settings
from perftest_operator.kube.cached import StepReads
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.kube.target_clients import TargetClients
from perftest_operator.telemetry.metrics import OperatorMetrics

T = TypeVar("T")


class RunLocks:
    """One step at a time per PerfRun in this process: a Job's completion and the run's timer
    may both want to advance it, and only one should query Prometheus."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._busy: set[tuple[str, str]] = set()
        self._asked_again: set[tuple[str, str]] = set()

    def run_exclusively(self, namespace: str, name: str, step: Callable[[], T]) -> T | None:
        """`step()` with the run held; None at once when another caller holds it.

        A caller turned away has news (a Job that finished while the holder was looking at
        it), so the holder runs `step` once more before letting go: nothing waits for the
        run's next timer tick because it came at the wrong moment.
        """
        key = (namespace, name)
        with self._guard:
            if key in self._busy:
                self._asked_again.add(key)
                return None
            self._busy.add(key)
        try:
            while True:
                result = step()
                with self._guard:
                    if key not in self._asked_again:
                        self._busy.discard(key)
                        return result
                    self._asked_again.discard(key)
        except BaseException:
            with self._guard:
                self._busy.discard(key)
                self._asked_again.discard(key)
            raise


class PassedChecks:
    """Checks that passed lately, remembered for a while: a check many PerfTests share (the hub
    Job account's permissions) is not repeated for each of them."""

    def __init__(self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._guard = threading.Lock()
        self._passed: dict[Hashable, float] = {}

    def fresh(self, key: Hashable) -> bool:
        with self._guard:
            when = self._passed.get(key)
            return when is not None and self._clock() - when < self.seconds

    def passed(self, key: Hashable) -> None:
        with self._guard:
            self._passed[key] = self._clock()


@dataclass(frozen=True)
class Context:
    api: KubeApi  # the hub: PerfTests, PerfRuns, Events, Secrets
    settings: Settings
    targets: TargetClients = field(default_factory=TargetClients)  # remote targets' clients
    telemetry: OperatorMetrics = field(default_factory=OperatorMetrics)  # served on /metrics
    run_locks: RunLocks = field(default_factory=RunLocks)
    permission_checks: PassedChecks = field(default_factory=PassedChecks)

    def for_step(self) -> Context:
        """This context with hub reads remembered for one step (see `kube.cached`)."""
        return replace(self, api=StepReads(self.api))
