"""What every controller step needs: the API client and the operator settings."""

from __future__ import annotations

from dataclasses import dataclass

from perftest_operator.api.settings import Settings
from perftest_operator.kube.api import KubeApi


@dataclass(frozen=True)
class Context:
    api: KubeApi
    settings: Settings
