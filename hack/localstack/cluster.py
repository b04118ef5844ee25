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

    def service_account_client(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> kubernetes.client.ApiClient:
        """A client that authenticates as the ServiceAccount, with a token minted for it
        through the TokenRequest API by the kubeconfig's (administrator) credentials.

        Only the server address and CA are kept from the kubeconfig: a client certificate or
        an exec plugin would authenticate before the token does and make it the admin again.
        """
        request = {"spec": {"expirationSeconds": expiration_seconds}}
        with self.api_client() as admin:
            minted = kubernetes.client.CoreV1Api(admin).create_namespaced_service_account_token(
                name, namespace, request
            )
            source = admin.configuration
        configuration = kubernetes.client.Configuration(host=source.host)
        configuration.ssl_ca_cert = source.ssl_ca_cert
        configuration.verify_ssl = source.verify_ssl
        configuration.proxy = source.proxy
        configuration.tls_server_name = source.tls_server_name
        configuration.api_key = {"authorization": f"Bearer {minted.status.token}"}
        return kubernetes.client.ApiClient(configuration)
