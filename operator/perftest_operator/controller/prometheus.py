"""A Prometheus client for a run: endpoint, token and CA resolved for its target, never logged (I/O).

The same resolution and client serve two moments: the check of a PerfTest before any run
(`check_prometheus`: resolve, then one probe query) and the collection of a run's KPIs
(`prometheus_client`). What the check accepts is what the collection will use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator

from kubernetes.client.exceptions import ApiException
from prometheus_api_client import PrometheusConnect

from perftest_operator.api.errors import (
    PrometheusUnauthorized,
    PrometheusUnavailable,
    PrometheusUnusable,
)
from perftest_operator.api.spec import PerfTestSpec, SecretKeyRef
from perftest_operator.controller.context import Context
from perftest_operator.controller.target_access import job_service_account, reaching_target
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.metrics.client import build_prometheus_client, display_url
from perftest_operator.metrics.window import probe
from perftest_operator.target.endpoints import (
    CaSource,
    PrometheusEndpoint,
    TokenSource,
    prometheus_endpoint,
    token_field,
)
from perftest_operator.target.profiles import OPENSHIFT_PROMETHEUS_ROUTE, PlatformProfile

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt"
# The CA of OpenShift's default ingress certificate, which signs Routes such as thanos-querier's:
# published by the ingress operator (openshift/cluster-ingress-operator,
# pkg/operator/controller/certificate-publisher/publish_ca.go @2f0bb7fc,
# ensureDefaultIngressCertConfigMap: key "ca-bundle.crt").
INGRESS_CA = ("openshift-config-managed", "default-ingress-cert", "ca-bundle.crt")
ROUTE_API = ("route.openshift.io", "v1")
# Minted tokens live just long enough for one collection.
MINTED_TOKEN_SECONDS = 600
# The probe of a PerfTest's Prometheus waits at most this long (or the spec's query timeout):
# a black-holed address must not hold an operator worker for the whole query timeout.
PROBE_TIMEOUT_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class RunTarget:
    """Where a run's Job runs: the target's API, whether it is remote, its profile, namespace."""

    api: KubeApi
    remote: bool
    profile: PlatformProfile | None
    namespace: str

    @property
    def where(self) -> str:
        return "the remote target" if self.remote else "the operator's cluster"


def _secret_value(ctx: Context, namespace: str, ref: SecretKeyRef, field: str) -> str:
    value = ctx.api.read_secret_key(namespace, ref.name, ref.key)
    if value is None:
        raise PrometheusUnusable(
            field, f"Secret {ref.name} with key {ref.key} not found in namespace {namespace}"
        )
    return value


def _operator_token() -> str:
    try:
        with open(SERVICE_ACCOUNT_TOKEN, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        raise PrometheusUnusable(
            "spec.prometheus",
            f"the operator's service account token ({SERVICE_ACCOUNT_TOKEN}) cannot be read",
        ) from None


def _minted_token(ctx: Context, target: RunTarget, field: str) -> str:
    account = job_service_account(ctx, remote=target.remote)
    with reaching_target():
        try:
            return target.api.mint_service_account_token(
                target.namespace, account, expiration_seconds=MINTED_TOKEN_SECONDS
            )
        except ApiException as exc:
            if exc.status == 404:
                problem = f"no ServiceAccount {target.namespace}/{account} to mint a token for"
            elif exc.status == 403:
                problem = (
                    f"the operator may not mint a token for ServiceAccount "
                    f"{target.namespace}/{account} (create serviceaccounts/token)"
                )
            else:
                raise
    raise PrometheusUnusable(field, f"{problem} on {target.where}")


def read_token(
    ctx: Context, namespace: str, spec: PerfTestSpec, source: TokenSource, target: RunTarget
) -> str | None:
    """The bearer token `source` names: a Secret's, the operator's own, or one minted for the Job's
    ServiceAccount; PrometheusUnusable when it cannot be had."""
    if source is TokenSource.SECRET:
        ref = spec.prometheus.bearer_token_secret_ref
        assert ref is not None  # TokenSource.SECRET means the spec names one
        field = "spec.prometheus.bearerTokenSecretRef"
        token = _secret_value(ctx, namespace, ref, field).strip()
        if not token:
            raise PrometheusUnusable(field, f"Secret {ref.name} key {ref.key} is empty")
        return token
    if source is TokenSource.OPERATOR:
        return _operator_token()
    if source is TokenSource.JOB_ACCOUNT:
        return _minted_token(ctx, target, token_field(spec.prometheus, source))
    return None


def _route_url(target: RunTarget) -> str:
    """thanos-querier's Route on the Job's cluster as a URL (https when the Route has TLS)."""
    namespace, name = OPENSHIFT_PROMETHEUS_ROUTE
    with reaching_target():
        route = target.api.get_namespaced_object(*ROUTE_API, namespace, "routes", name)
    spec = (route or {}).get("spec") or {}
    host = spec.get("host")
    if not isinstance(host, str) or not host:
        raise PrometheusUnusable(
            "spec.prometheus.url",
            f"not set, and {target.where} has no Route {namespace}/{name} with a host "
            "(thanos-querier, reached from outside the cluster)",
        )
    return f"{'https' if spec.get('tls') else 'http'}://{host}"


def _ca(
    ctx: Context, namespace: str, spec: PerfTestSpec, source: CaSource, target: RunTarget
) -> tuple[str | None, str | None]:
    """(PEM text to put in a private file, or the path of a file that holds the CA).

    (None, None): the system's bundle. The service CA and the ingress CA are taken when
    published and the system's bundle otherwise (a custom ingress certificate may be signed by
    a public CA); the probe query tells whether TLS verification succeeds.
    """
    if source is CaSource.SECRET:
        ref = spec.prometheus.ca_secret_ref
        assert ref is not None
        return _secret_value(ctx, namespace, ref, "spec.prometheus.caSecretRef"), None
    if source is CaSource.SERVICE_CA:
        return None, SERVICE_CA_FILE if os.path.exists(SERVICE_CA_FILE) else None
    if source is CaSource.INGRESS:
        with reaching_target():
            return target.api.read_config_map_key(*INGRESS_CA), None
    return None, None


def resolve_endpoint(ctx: Context, spec: PerfTestSpec, target: RunTarget) -> PrometheusEndpoint:
    """Where the run's KPIs are read (target.endpoints); SpecError when there is no such place."""
    return prometheus_endpoint(
        spec.prometheus,
        target.profile,
        remote=target.remote,
        in_cluster=ctx.settings.in_cluster,
        default_url=ctx.settings.default_prometheus_url,
    )


@contextlib.contextmanager
def prometheus_client(
    ctx: Context,
    namespace: str,
    spec: PerfTestSpec,
    target: RunTarget,
    *,
    timeout_seconds: float | None = None,
) -> Iterator[PrometheusConnect]:
    """A client for the run's Prometheus; a CA from a Secret or ConfigMap lives in a private file.

    Raises SpecError (no Prometheus at all), PrometheusUnusable (a Secret, token or Route that
    is missing) and TargetUnreachable (the Job's cluster does not answer the lookups).
    `timeout_seconds`: shorter than the spec's query timeout, for a probe.
    """
    endpoint = resolve_endpoint(ctx, spec, target)
    url = endpoint.url or _route_url(target)
    settings = dataclasses.replace(spec.prometheus, url=url)
    if timeout_seconds is not None:
        timeout = min(timeout_seconds, settings.query_timeout_seconds)
        settings = dataclasses.replace(settings, query_timeout_seconds=timeout)
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


def _token_note(ctx: Context, spec: PerfTestSpec, source: TokenSource, target: RunTarget) -> str:
    """Which token Prometheus refused, and what usually fixes it (names only, no value)."""
    if source is TokenSource.SECRET:
        ref = spec.prometheus.bearer_token_secret_ref
        assert ref is not None
        return f"the token of Secret {ref.name} key {ref.key}"
    if source is TokenSource.OPERATOR:
        return (
            "the operator's service account token (on OpenShift: bind the operator's "
            "ServiceAccount to cluster-monitoring-view)"
        )
    if source is TokenSource.JOB_ACCOUNT:
        account = job_service_account(ctx, remote=target.remote)
        return (
            f"a token minted for ServiceAccount {target.namespace}/{account} (on OpenShift: "
            f"kubectl create clusterrolebinding {account}-monitoring-{target.namespace} "
            f"--clusterrole=cluster-monitoring-view "
            f"--serviceaccount={target.namespace}:{account})"
        )
    return "no token was sent (set bearerTokenSecretRef or useServiceAccountToken)"


_CA_NOTES = {
    CaSource.SYSTEM: "the system's CA bundle (set caSecretRef for a private CA)",
    CaSource.SECRET: "the CA of spec.prometheus.caSecretRef",
    CaSource.SERVICE_CA: "OpenShift's service CA",
    CaSource.INGRESS: "the default ingress CA (openshift-config-managed/default-ingress-cert)",
}


def check_prometheus(ctx: Context, namespace: str, spec: PerfTestSpec, target: RunTarget) -> str:
    """Resolve the PerfTest's Prometheus as a run would, and ask it one probe query.

    Returns what answered, for the Ready message. Raises SpecError, PrometheusUnusable,
    TargetUnreachable (see `prometheus_client`), PrometheusUnauthorized (401/403, with the
    field and the token named) and PrometheusUnavailable (no answer: connection, TLS, timeout,
    5xx), each naming a field and never a secret.
    """
    endpoint = resolve_endpoint(ctx, spec, target)
    failure: PrometheusUnavailable | None = None
    with prometheus_client(
        ctx, namespace, spec, target, timeout_seconds=PROBE_TIMEOUT_SECONDS
    ) as client:
        where = display_url(client.url)
        try:
            probe(client)
        except PrometheusUnauthorized as exc:
            field = token_field(spec.prometheus, endpoint.token)
            note = _token_note(ctx, spec, endpoint.token, target)
            failure = PrometheusUnauthorized(f"{field}: {exc}; refused: {note}")
        except PrometheusUnavailable as exc:
            message = f"spec.prometheus.url: {exc}"
            if "SSL" in str(exc):
                message += f"; TLS verified against {_CA_NOTES[endpoint.ca]}"
            failure = PrometheusUnavailable(message)
    if failure is not None:
        raise failure
    return f"Prometheus at {where} answers"
