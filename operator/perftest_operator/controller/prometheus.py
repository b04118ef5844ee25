"""A Prometheus client for a run: endpoint, token and CA resolved for its target, never logged (I/O)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator

from prometheus_api_client import PrometheusConnect

from perftest_operator.api.errors import PrometheusUnavailable, SpecError
from perftest_operator.api.spec import PerfTestSpec, SecretKeyRef
from perftest_operator.controller.context import Context
from perftest_operator.controller.targets import reaching_target
from perftest_operator.kube.api import KubeApi
from perftest_operator.metrics.client import build_prometheus_client
from perftest_operator.runner.rbac import SERVICE_ACCOUNT
from perftest_operator.target.endpoints import (
    CaSource,
    PrometheusEndpoint,
    TokenSource,
    prometheus_endpoint,
)
from perftest_operator.target.profiles import OPENSHIFT_PROMETHEUS_ROUTE, PlatformProfile

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt"
# The CA of OpenShift's default ingress certificate, which signs Routes such as thanos-querier's.
INGRESS_CA = ("openshift-config-managed", "default-ingress-cert", "ca-bundle.crt")
ROUTE_API = ("route.openshift.io", "v1")
# Minted tokens live just long enough for one collection.
MINTED_TOKEN_SECONDS = 600


@dataclasses.dataclass(frozen=True)
class RunTarget:
    """Where a run's Job ran: the target's API, whether it is remote, its profile, namespace."""

    api: KubeApi
    remote: bool
    profile: PlatformProfile | None
    namespace: str


def _secret_value(ctx: Context, namespace: str, ref: SecretKeyRef, field: str) -> str:
    value = ctx.api.read_secret_key(namespace, ref.name, ref.key)
    if value is None:
        raise SpecError(
            field, f"Secret {ref.name} with key {ref.key} not found in namespace {namespace}"
        )
    return value


def _operator_token() -> str:
    try:
        with open(SERVICE_ACCOUNT_TOKEN, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        raise SpecError(
            "spec.prometheus.useServiceAccountToken",
            "the operator has no service account token",
        ) from None


def read_token(
    ctx: Context, namespace: str, spec: PerfTestSpec, source: TokenSource, target: RunTarget
) -> str | None:
    """The bearer token `source` names: a Secret's, the operator's own, or one minted on the target."""
    if source is TokenSource.SECRET:
        ref = spec.prometheus.bearer_token_secret_ref
        assert ref is not None  # TokenSource.SECRET means the spec names one
        return _secret_value(ctx, namespace, ref, "spec.prometheus.bearerTokenSecretRef").strip()
    if source is TokenSource.OPERATOR:
        return _operator_token()
    if source is TokenSource.TARGET:
        with reaching_target():
            return target.api.mint_service_account_token(
                target.namespace, SERVICE_ACCOUNT, expiration_seconds=MINTED_TOKEN_SECONDS
            )
    return None


def _route_url(api: KubeApi) -> str:
    """thanos-querier's Route on the target as a URL (https when the Route has TLS)."""
    namespace, name = OPENSHIFT_PROMETHEUS_ROUTE
    with reaching_target():
        route = api.get_namespaced_object(*ROUTE_API, namespace, "routes", name)
    host = ((route or {}).get("spec") or {}).get("host")
    if not isinstance(host, str) or not host:
        raise PrometheusUnavailable(
            f"the target has no Route {namespace}/{name} with a host (thanos-querier)"
        )
    scheme = "https" if (route or {}).get("spec", {}).get("tls") else "http"
    return f"{scheme}://{host}"


def _ca(
    ctx: Context, namespace: str, spec: PerfTestSpec, source: CaSource, target: RunTarget
) -> tuple[str | None, str | None]:
    """(PEM text to put in a private file, or the path of a file that holds the CA)."""
    if source is CaSource.SECRET:
        ref = spec.prometheus.ca_secret_ref
        assert ref is not None
        return _secret_value(ctx, namespace, ref, "spec.prometheus.caSecretRef"), None
    if source is CaSource.SERVICE_CA:
        return None, SERVICE_CA_FILE if os.path.exists(SERVICE_CA_FILE) else None
    if source is CaSource.TARGET_INGRESS:
        with reaching_target():
            return target.api.read_config_map_key(*INGRESS_CA), None
    return None, None


def resolve_endpoint(ctx: Context, spec: PerfTestSpec, target: RunTarget) -> PrometheusEndpoint:
    """Where the run's KPIs are read (target.endpoints); SpecError when there is no such place."""
    return prometheus_endpoint(
        spec.prometheus,
        target.profile,
        remote=target.remote,
        default_url=ctx.settings.default_prometheus_url,
    )


@contextlib.contextmanager
def prometheus_client(
    ctx: Context, namespace: str, spec: PerfTestSpec, target: RunTarget
) -> Iterator[PrometheusConnect]:
    """A client for the run's Prometheus; a CA from a Secret or ConfigMap lives in a private file."""
    endpoint = resolve_endpoint(ctx, spec, target)
    url = endpoint.url or _route_url(target.api)
    settings = dataclasses.replace(spec.prometheus, url=url)
    token = read_token(ctx, namespace, spec, endpoint.token, target)
    ca_text, ca_path = _ca(ctx, namespace, spec, endpoint.ca, target)
    if ca_text is None:
        yield build_prometheus_client(settings, bearer_token=token, ca_file=ca_path)
        return
    descriptor, path = tempfile.mkstemp(prefix="perftest-ca-", suffix=".crt")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(ca_text)
        yield build_prometheus_client(settings, bearer_token=token, ca_file=path)
    finally:
        os.unlink(path)
