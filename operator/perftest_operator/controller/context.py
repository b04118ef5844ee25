"""What every controller step needs: the API clients and the operator settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from perftest_operator.api.settings import Settings
from perftest_operator.kube.api import KubeApi
from perftest_operator.kube.targets import TargetClients
from perftest_operator.telemetry.metrics import OperatorMetrics


@dataclass(frozen=True)
class Context:
    api: KubeApi  # the hub: PerfTests, PerfRuns, Events, Secrets
    settings: Settings
    targets: TargetClients = field(default_factory=TargetClients)  # remote targets' clients
    telemetry: OperatorMetrics = field(default_factory=OperatorMetrics)  # served on /metrics
