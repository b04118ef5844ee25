"""Which Prometheus a run's KPIs are read from, and how the operator authenticates to it (pure).

In order: the PerfTest's `spec.prometheus.url`; on the hub, the operator's default URL
(PERFTEST_DEFAULT_PROMETHEUS_URL: the hub's Prometheus says nothing about a remote target, so
it is never used for one); on OpenShift, thanos-querier — its Service on the hub, its Route
on a remote target (the Service name does not resolve from another cluster). Plain Kubernetes
has no default, and the PerfTest must name its Prometheus.

The token: a Secret's when `bearerTokenSecretRef` is set; else with `useServiceAccountToken`,
or by default for OpenShift's thanos-querier, the service account's — the operator's own on the
hub, one minted for kube-burner's ServiceAccount on a remote target (bound to
cluster-monitoring-view there). TLS is verified against `caSecretRef`, else OpenShift's service
CA (hub, Service URL) or the target's default ingress CA (remote, Route), else the system's
bundle; only `insecureSkipVerify` turns verification off.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import PrometheusSettings
from perftest_operator.target.profiles import PlatformProfile


class TokenSource(str, enum.Enum):
    NONE = "None"
    SECRET = "Secret"  # spec.prometheus.bearerTokenSecretRef
    OPERATOR = "OperatorServiceAccount"  # the operator pod's own token (hub)
    TARGET = "TargetServiceAccount"  # minted for kube-burner's ServiceAccount on the target


class CaSource(str, enum.Enum):
    SYSTEM = "System"
    SECRET = "Secret"  # spec.prometheus.caSecretRef
    SERVICE_CA = "ServiceCA"  # OpenShift's service CA, mounted in the operator's pod
    TARGET_INGRESS = "TargetIngressCA"  # the target's default ingress CA (Routes)


@dataclass(frozen=True)
class PrometheusEndpoint:
    """`url` None: the URL of the target's thanos-querier Route, looked up on the target."""

    url: str | None
    token: TokenSource
    ca: CaSource


def prometheus_endpoint(
    settings: PrometheusSettings,
    profile: PlatformProfile | None,
    *,
    remote: bool,
    default_url: str | None,
) -> PrometheusEndpoint:
    """Where to query and how (see the module docstring); SpecError when nothing is known.

    `profile` is the target's (None: not known, as for runs recorded before targets were read).
    """
    own_account = TokenSource.TARGET if remote else TokenSource.OPERATOR
    if settings.bearer_token_secret_ref is not None:
        token = TokenSource.SECRET
    elif settings.use_service_account_token:
        token = own_account
    else:
        token = TokenSource.NONE
    secret_ca = CaSource.SECRET if settings.ca_secret_ref is not None else None
    if settings.url is not None:
        return PrometheusEndpoint(settings.url, token, secret_ca or CaSource.SYSTEM)
    if not remote and default_url is not None:
        return PrometheusEndpoint(default_url, token, secret_ca or CaSource.SYSTEM)
    if profile is not None and profile.openshift and profile.prometheus_url is not None:
        if token is TokenSource.NONE:
            token = own_account  # thanos-querier answers no anonymous query
        if remote:
            return PrometheusEndpoint(None, token, secret_ca or CaSource.TARGET_INGRESS)
        return PrometheusEndpoint(profile.prometheus_url, token, secret_ca or CaSource.SERVICE_CA)
    platform = "not known yet" if profile is None else f"{profile.platform.value}, not OpenShift"
    where = "the remote target" if remote else "the operator's cluster"
    raise SpecError(
        "spec.prometheus.url",
        f"no Prometheus URL: {where} ({platform}) has no default one, and "
        + ("the operator's default is for its own cluster" if remote else "the operator has none"),
    )
