"""API clients of remote targets, built from kubeconfig Secrets and cached per Secret (I/O).

A client is cached under the Secret's namespace, name and key, together with a digest of the
kubeconfig it was built from: the Secret is read on every use (one GET), and a changed
kubeconfig (a rotated token, a moved server) gives a new client at once. Certificates and keys
live in private files (the client library only takes file names) that are removed with their
client. Nothing here logs or raises a kubeconfig's contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes

from perftest_operator.api.errors import TargetSecretMissing
from perftest_operator.api.spec import SecretKeyRef
from perftest_operator.kube.api import ClusterApi
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.target.kubeconfig import TargetConnection, parse_target_kubeconfig


def _private_file(directory: Path, name: str, content: bytes) -> str:
    path = directory / name
    path.touch(mode=0o600)
    path.write_bytes(content)
    return str(path)


def build_target_configuration(
    connection: TargetConnection, directory: Path
) -> kubernetes.client.Configuration:
    """The client configuration for `connection`; PEM data goes to private files in `directory`."""
    configuration = kubernetes.client.Configuration()
    configuration.host = connection.server
    configuration.verify_ssl = not connection.insecure_skip_tls_verify
    if connection.certificate_authority is not None:
        configuration.ssl_ca_cert = _private_file(
            directory, "ca.crt", connection.certificate_authority
        )
    if connection.client_certificate is not None and connection.client_key is not None:
        configuration.cert_file = _private_file(
            directory, "client.crt", connection.client_certificate
        )
        configuration.key_file = _private_file(directory, "client.key", connection.client_key)
    if connection.token is not None:
        configuration.api_key = {"authorization": connection.token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
    if connection.tls_server_name is not None:
        configuration.tls_server_name = connection.tls_server_name
    if connection.proxy_url is not None:
        configuration.proxy = connection.proxy_url
    return configuration


@dataclass
class _CachedTarget:
    digest: str
    api: ClusterApi
    directory: Path


class TargetClients:
    """One ClusterApi per kubeconfig Secret, rebuilt when the Secret's kubeconfig changes.

    Each call to a target has the client's request timeout (kube.api_client.REQUEST_TIMEOUT): an
    unreachable target fails fast.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], _CachedTarget] = {}
        self._lock = threading.Lock()  # kopf runs sync handlers in a thread pool

    def api_for(self, hub: KubeApi, namespace: str, ref: SecretKeyRef) -> ClusterApi:
        """The client of the target whose kubeconfig is in `ref` (in `namespace` on the hub).

        Raises TargetSecretMissing when the Secret or its key does not exist, and
        TargetConfigInvalid when the kubeconfig is unusable or unsafe (exec plugins, files).
        """
        text = hub.read_secret_key(namespace, ref.name, ref.key)
        if text is None:
            raise TargetSecretMissing(
                f"Secret {ref.name} with key {ref.key} not found in namespace {namespace}"
            )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = (namespace, ref.name, ref.key)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.digest == digest:
                return cached.api
            connection = parse_target_kubeconfig(text)
            directory = Path(tempfile.mkdtemp(prefix="perftest-target-"))
            try:
                configuration = build_target_configuration(connection, directory)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            api = ClusterApi(kubernetes.client.ApiClient(configuration))
            self._cache[key] = _CachedTarget(digest=digest, api=api, directory=directory)
            if cached is not None:
                self._discard(cached)
            return api

    def close(self) -> None:
        """Forget every client and remove its files."""
        with self._lock:
            for cached in self._cache.values():
                self._discard(cached)
            self._cache.clear()

    @staticmethod
    def _discard(cached: _CachedTarget) -> None:
        with contextlib.suppress(Exception):
            client: Any = cached.api.api_client  # untyped
            client.close()
        shutil.rmtree(cached.directory, ignore_errors=True)
