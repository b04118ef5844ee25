"""How the kubernetes client is made: credentials from the environment, API groups with a timeout (I/O)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import kubernetes

from perftest_operator.workarounds import throttle_credential_refresh, unchecked_method

# (connect, read) seconds for each call to an API server, the hub's or a target's: a connection
# that hangs (a target whose address black-holes packets, a hub connection gone half-open) fails
# the call instead of holding one of the operator's worker threads for minutes. The client's own
# default is no timeout at all. kopf watches with a client of its own, not this one; the read
# timeout bounds each wait for the next bytes, not a whole answer.
REQUEST_TIMEOUT = (5.0, 30.0)


class ApiGroup:
    """One of the client's API groups (CoreV1Api, ...), each method called with `timeout`.

    Bodies go out as the plain dicts they are, unchecked by the client (workarounds 2).
    """

    def __init__(self, api: Any, timeout: tuple[float, float]) -> None:
        self._api = api
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._api, name)
        if not callable(attribute):
            return attribute
        return functools.partial(unchecked_method(self._api, name), _request_timeout=self._timeout)


@dataclass(frozen=True)
class HubClient:
    """The client of the operator's own cluster, and whether its credentials are the pod's own
    service account (inside the cluster) or a kubeconfig's."""

    api_client: kubernetes.client.ApiClient
    in_cluster: bool


def from_environment(kubeconfig: str | None = None, *, connections: int = 10) -> HubClient:
    """In-cluster credentials when running in a pod, else the kubeconfig (or $KUBECONFIG).

    A `kubeconfig` given wins over the pod's account. `connections`: kept open to the API
    server; as many as handlers run at once, or each one over the pool opens (and closes) a
    connection per request.
    """
    configuration = kubernetes.client.Configuration()
    configuration.connection_pool_maxsize = connections
    loader: Any = kubernetes.config  # its loaders are untyped
    in_cluster = False
    try:
        if kubeconfig:
            raise kubernetes.config.ConfigException("kubeconfig given")
        loader.load_incluster_config(client_configuration=configuration)
        in_cluster = True
    except kubernetes.config.ConfigException:
        loader.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    throttle_credential_refresh(configuration)
    return HubClient(kubernetes.client.ApiClient(configuration), in_cluster)
