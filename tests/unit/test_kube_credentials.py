"""The client's per-request credential hook runs at most once per interval (workarounds 3; no server)."""

from __future__ import annotations

import http.server
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from local_server import serving

from perftest_operator.kube.api_client import from_environment
from perftest_operator.workarounds import throttle_credential_refresh


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_hook_runs_once_per_interval_and_again_when_it_is_due() -> None:
    configuration = kubernetes.client.Configuration()
    configuration.api_key = {"BearerToken": "first"}
    calls: list[float] = []
    clock = FakeClock()

    def hook(config: kubernetes.client.Configuration) -> None:
        calls.append(clock.now)
        config.api_key["BearerToken"] = f"token-{len(calls)}"

    configuration.refresh_api_key_hook = hook
    throttle_credential_refresh(configuration, every=10.0, clock=clock)

    seen = []
    for now in (1000.0, 1001.0, 1009.9, 1010.0, 1015.0, 1020.5):
        clock.now = now
        seen.append(configuration.get_api_key_with_prefix("BearerToken"))
    assert calls == [1000.0, 1010.0, 1020.5]
    assert seen == ["token-1", "token-1", "token-1", "token-2", "token-2", "token-3"]


def test_a_configuration_without_a_hook_is_left_alone() -> None:
    configuration = kubernetes.client.Configuration()
    throttle_credential_refresh(configuration)
    assert configuration.refresh_api_key_hook is None


def _token_kubeconfig(path: Path) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "planted-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_kubeconfig_loader_applies_its_settings_once_not_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader_class: Any = kubernetes.config.kube_config.KubeConfigLoader
    applied: list[object] = []
    original = loader_class._set_config

    def counting_set_config(self: Any, configuration: Any) -> None:
        applied.append(configuration)
        original(self, configuration)

    monkeypatch.setattr(loader_class, "_set_config", counting_set_config)
    hub = from_environment(str(_token_kubeconfig(tmp_path / "kubeconfig")))
    configuration = hub.api_client.configuration
    applied.clear()  # the load itself

    tokens = {configuration.get_api_key_with_prefix("BearerToken") for _ in range(50)}

    assert tokens == {"Bearer planted-token"}
    assert len(applied) == 1  # the first request; the other 49 within the interval skip it
    assert configuration.host == "https://127.0.0.1:6443"


def _pod_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pod has: the service's address in its environment, its account's token and CA."""
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("pod-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    incluster: Any = kubernetes.config.incluster_config
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")


def test_in_a_pod_the_operator_knows_it_runs_inside_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pod_files(tmp_path, monkeypatch)
    hub = from_environment()
    assert hub.in_cluster
    assert hub.api_client.configuration.host == "https://10.0.0.1:443"


def test_with_a_kubeconfig_the_operator_runs_outside_even_in_a_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pod_files(tmp_path, monkeypatch)
    hub = from_environment(str(_token_kubeconfig(tmp_path / "kubeconfig")))
    assert not hub.in_cluster
    assert hub.api_client.configuration.host == "https://127.0.0.1:6443"


# --- what throttle_credential_refresh relies on in the installed client (workarounds 3) -------


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers {} and keeps each request's Authorization header."""

    seen: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


def test_the_client_runs_the_hook_before_every_request() -> None:
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)) as server:
        configuration = kubernetes.client.Configuration()
        configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
        configuration.api_key = {"BearerToken": "loaded"}  # as the loaders leave it
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        calls: list[object] = []

        def hook(config: kubernetes.client.Configuration) -> None:
            calls.append(config)
            config.api_key["BearerToken"] = f"token-{len(calls)}"

        configuration.refresh_api_key_hook = hook
        version = kubernetes.client.VersionApi(kubernetes.client.ApiClient(configuration))
        _Answers.seen = []
        for _ in range(3):
            version.get_code(_preload_content=False)
    assert len(calls) == 3
    assert _Answers.seen == ["Bearer token-1", "Bearer token-2", "Bearer token-3"]


def _hook_reinstalled(configuration: kubernetes.client.Configuration) -> bool:
    first = configuration.refresh_api_key_hook
    assert first is not None
    first(configuration)
    again = configuration.refresh_api_key_hook
    return again is not None and again is not first


def test_the_kubeconfig_loader_installs_its_hook_again_each_time_it_runs(tmp_path: Path) -> None:
    configuration = kubernetes.client.Configuration()
    loader: Any = kubernetes.config
    loader.load_kube_config(
        config_file=str(_token_kubeconfig(tmp_path / "kubeconfig")),
        client_configuration=configuration,
    )
    assert _hook_reinstalled(configuration)


def test_the_in_cluster_loader_installs_its_hook_again_each_time_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pod_files(tmp_path, monkeypatch)
    configuration = kubernetes.client.Configuration()
    loader: Any = kubernetes.config
    loader.load_incluster_config(client_configuration=configuration)
    assert _hook_reinstalled(configuration)
