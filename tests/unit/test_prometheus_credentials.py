"""Prometheus of a run: endpoint, token and CA for the hub and for remote targets; no file left."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest
from fake_kube import FakeKube

from perftest_operator.api.errors import PrometheusUnusable, SpecError
from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import Settings
from perftest_operator.api.spec import Platform, parse_perftest_spec
from perftest_operator.controller.context import Context
from perftest_operator.controller.prometheus import (
    INGRESS_CA,
    RunTarget,
    prometheus_client,
    read_token,
)
from perftest_operator.target.endpoints import TokenSource
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.profiles import profile_for

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
INGRESS = "-----BEGIN CERTIFICATE-----\nINGRESS\n-----END CERTIFICATE-----\n"


class FakeApi(FakeKube):
    """A cluster holding the Secrets, ConfigMaps and thanos-querier Route the Prometheus
    credentials are read from, given by (namespace, name, key); `minted` records mints."""

    def __init__(
        self,
        secrets: dict[tuple[str, str, str], str] | None = None,
        *,
        route: dict[str, Any] | None = None,
        config_maps: dict[tuple[str, str, str], str] | None = None,
    ) -> None:
        super().__init__()
        for (namespace, name, key), value in (secrets or {}).items():
            self.secrets.setdefault((namespace, name), {})[key] = value
        for (namespace, name, key), value in (config_maps or {}).items():
            found = self.kinds["ConfigMap"].get((namespace, name))
            data = {**((found or {}).get("data") or {}), key: value}
            self.stored(
                "ConfigMap", {"metadata": {"namespace": namespace, "name": name}, "data": data}
            )
        if route is not None:
            where = ("route.openshift.io", "routes", "openshift-monitoring", "thanos-querier")
            self.objects[where] = route


def context(hub: FakeApi, **settings: Any) -> Context:
    return Context(api=hub, settings=Settings(**{"policy": RunPolicy(local_runs=True), **settings}))


def spec(url: str | None = "https://thanos:9091", **prometheus: Any) -> Any:
    section = dict(prometheus)
    if url is not None:
        section["url"] = url
    return parse_perftest_spec({"workload": {"name": "node-density"}, "prometheus": section})


def openshift(*, hosted: bool = False) -> Any:
    return profile_for(DetectedPlatform(Platform.AWS, True, hosted, hosted, "test"))


def kubernetes_profile() -> Any:
    return profile_for(DetectedPlatform(Platform.GCP, False, False, False, "test"))


def hub_target(hub: FakeApi, profile: Any = None) -> RunTarget:
    return RunTarget(api=hub, remote=False, profile=profile, namespace="perf")


def remote_target(api: FakeApi, profile: Any) -> RunTarget:
    return RunTarget(api=api, remote=True, profile=profile, namespace="bench")


def test_token_from_secret_is_stripped() -> None:
    hub = FakeApi({("perf", "prom", "token"): "  s3cret\n"})
    with_ref = spec(bearerTokenSecretRef={"name": "prom", "key": "token"})
    assert read_token(context(hub), "perf", with_ref, TokenSource.SECRET, hub_target(hub)) == (
        "s3cret"
    )
    assert read_token(context(hub), "perf", spec(), TokenSource.NONE, hub_target(hub)) is None


def test_missing_token_secret_names_the_field_not_the_value() -> None:
    hub = FakeApi()
    with pytest.raises(PrometheusUnusable) as caught:
        read_token(
            context(hub),
            "perf",
            spec(bearerTokenSecretRef={"name": "prom", "key": "token"}),
            TokenSource.SECRET,
            hub_target(hub),
        )
    assert caught.value.field == "spec.prometheus.bearerTokenSecretRef"


def test_ca_from_secret_is_a_private_file_only_while_the_client_is_used() -> None:
    hub = FakeApi({("perf", "ca", "ca.crt"): CA})
    with prometheus_client(
        context(hub), "perf", spec(caSecretRef={"name": "ca", "key": "ca.crt"}), hub_target(hub)
    ) as client:
        path = client._session.verify
        assert isinstance(path, str) and os.path.isfile(path)
        assert pathlib.Path(path).read_text(encoding="utf-8") == CA
        assert os.stat(path).st_mode & 0o077 == 0
    assert not os.path.exists(path)


def test_missing_ca_secret_is_an_error_naming_the_field() -> None:
    hub = FakeApi()
    with (
        pytest.raises(PrometheusUnusable) as caught,
        prometheus_client(
            context(hub), "perf", spec(caSecretRef={"name": "ca", "key": "ca.crt"}), hub_target(hub)
        ),
    ):
        pass
    assert caught.value.field == "spec.prometheus.caSecretRef"


def test_a_remote_openshift_target_is_read_through_its_route_with_a_minted_token() -> None:
    target = FakeApi(
        route={"spec": {"host": "thanos.apps.perf.example", "tls": {"termination": "reencrypt"}}},
        config_maps={INGRESS_CA: INGRESS},
    )
    hub = FakeApi()
    ctx = context(hub, default_prometheus_url="http://hub-prometheus:9090")
    with prometheus_client(ctx, "perf", spec(url=None), remote_target(target, openshift())) as c:
        # The hub's default Prometheus knows nothing of the target: never used for it.
        assert c.url == "https://thanos.apps.perf.example"
        assert c.headers["Authorization"] == "Bearer minted-for-bench-perftest-kube-burner"
        assert pathlib.Path(c._session.verify).read_text(encoding="utf-8") == INGRESS
    [(namespace, account, seconds)] = target.minted
    assert (namespace, account) == ("bench", "perftest-kube-burner") and seconds <= 3600


def test_a_route_without_tls_is_plain_http_and_a_missing_route_is_retried() -> None:
    target = FakeApi(route={"spec": {"host": "thanos.apps.perf.example"}})
    with prometheus_client(
        context(FakeApi()), "perf", spec(url=None), remote_target(target, openshift())
    ) as client:
        assert client.url == "http://thanos.apps.perf.example"
        assert client._session.verify is True  # no ingress CA published: the system's bundle
    with (
        pytest.raises(PrometheusUnusable, match="thanos-querier") as caught,
        prometheus_client(
            context(FakeApi()), "perf", spec(url=None), remote_target(FakeApi(), openshift())
        ),
    ):
        pass
    assert caught.value.field == "spec.prometheus.url"


def test_a_remote_plain_kubernetes_target_needs_a_url_even_when_the_hub_has_a_default() -> None:
    ctx = context(FakeApi(), default_prometheus_url="http://hub-prometheus:9090")
    with (
        pytest.raises(SpecError) as caught,
        prometheus_client(
            ctx, "perf", spec(url=None), remote_target(FakeApi(), kubernetes_profile())
        ),
    ):
        pass
    assert caught.value.field == "spec.prometheus.url"
    assert "GCP" in str(caught.value)


def test_the_hub_uses_the_operators_default_url_then_thanos_querier_on_openshift(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = FakeApi()
    ctx = context(hub, default_prometheus_url="http://hub-prometheus:9090")
    with prometheus_client(ctx, "perf", spec(url=None), hub_target(hub)) as client:
        assert client.url == "http://hub-prometheus:9090"
        assert "Authorization" not in (client.headers or {})
    token = tmp_path / "token"
    token.write_text("operator-token\n")
    monkeypatch.setattr("perftest_operator.controller.prometheus.SERVICE_ACCOUNT_TOKEN", str(token))
    inside = context(hub, in_cluster=True)
    with prometheus_client(inside, "perf", spec(url=None), hub_target(hub, openshift())) as c:
        assert c.url == "https://thanos-querier.openshift-monitoring.svc:9091"
        assert c.headers["Authorization"] == "Bearer operator-token"
    assert hub.minted == []


def test_outside_the_cluster_the_hubs_thanos_querier_is_its_route_with_a_minted_token(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run`: no Service name resolves and the operator has no pod token (even where a
    token file happens to exist); the hub is reached as a remote target would be."""
    token = tmp_path / "token"
    token.write_text("operator-token\n")
    monkeypatch.setattr("perftest_operator.controller.prometheus.SERVICE_ACCOUNT_TOKEN", str(token))
    hub = FakeApi(
        route={"spec": {"host": "thanos.apps.hub.example", "tls": {"termination": "reencrypt"}}},
        config_maps={INGRESS_CA: INGRESS},
    )
    outside = context(hub, in_cluster=False, job_service_account="burner")
    with prometheus_client(outside, "perf", spec(url=None), hub_target(hub, openshift())) as c:
        assert c.url == "https://thanos.apps.hub.example"
        assert c.headers["Authorization"] == "Bearer minted-for-perf-burner"
        assert pathlib.Path(c._session.verify).read_text(encoding="utf-8") == INGRESS
    [(namespace, account, _)] = hub.minted
    assert (namespace, account) == ("perf", "burner")
