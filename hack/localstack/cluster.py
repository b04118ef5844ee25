"""Which Kubernetes API a test or the demo talks to: a kubeconfig, emulated or real."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import kubernetes


@dataclass(frozen=True)
class Cluster:
    kubeconfig: pathlib.Path
    emulated: bool

    def api_client(self) -> kubernetes.client.ApiClient:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(
            config_file=str(self.kubeconfig), client_configuration=configuration
        )
        return kubernetes.client.ApiClient(configuration)
