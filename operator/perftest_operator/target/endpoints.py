"""Which Prometheus a run's KPIs are read from, and how the operator authenticates to it (pure).

In order: the PerfTest's `spec.prometheus.url`; on the hub, the operator's default URL
(PERFTEST_DEFAULT_PROMETHEUS_URL: the hub's Prometheus says nothing about a remote target, so
it is never used for one); on OpenShift, thanos-querier. Plain Kubernetes has no default, and
the PerfTest must name its Prometheus.

Where the operator runs decides how thanos-querier is reached. From inside the Job's cluster
(the hub, with the operator in a pod there) it is its Service, read with the operator pod's own
token and verified with OpenShift's service CA. From outside (a remote target, or the hub when
the operator runs with a kubeconfig, as `make run` does) the Service name does not resolve and
there is no pod token: it is its Route, read with a token minted for the Job's ServiceAccount
(bound to cluster-monitoring-view by the operator on a remote target, by the shipped manifests
on the hub) and verified with that cluster's default ingress CA.

The token: a Secret's when `bearerTokenSecretRef` is set; else with `useServiceAccountToken`,
or by default for OpenShift's thanos-querier, a service account's as above. TLS is verified
against `caSecretRef`, else as above, else the system's bundle; only `insecureSkipVerify`
turns verification off.
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
    OPERATOR = "OperatorServiceAccount"  # the operator pod's own token (inside the hub)
    # Minted (TokenRequest) for the ServiceAccount the Job runs as, on the Job's cluster: a
    # remote target, or the hub when the operator runs outside it.
    JOB_ACCOUNT = "JobServiceAccount"


class CaSource(str, enum.Enum):
    SYSTEM = "System"
    SECRET = "Secret"  # spec.prometheus.caSecretRef
    SERVICE_CA = "ServiceCA"  # OpenShift's service CA, mounted in the operator's pod
    INGRESS = "IngressCA"  # the default ingress CA of the Job's cluster (its Routes)


@dataclass(frozen=True)
class PrometheusEndpoint:
    """`url` None: the URL of thanos-querier's Route, looked up on the Job's cluster."""

    url: str | None
    token: TokenSource
    ca: CaSource


def prometheus_endpoint(
    settings: PrometheusSettings,
    profile: PlatformProfile | None,
    *,
    remote: bool,
    in_cluster: bool,
    default_url: str | None,
) -> PrometheusEndpoint:
    """Where to query and how (see the module docstring); SpecError when nothing is known.

    `profile` is the target's (None: not known, as for runs recorded before targets were read);
    `remote`: the Job runs on a target of its own; `in_cluster`: the operator runs in a pod of
    the hub (Settings.in_cluster). A purely computational function with no side effects.
    """
    from_outside = remote or not in_cluster
    own_account = TokenSource.JOB_ACCOUNT if from_outside else TokenSource.OPERATOR
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
        if from_outside:
            return PrometheusEndpoint(None, token, secret_ca or CaSource.INGRESS)
        return PrometheusEndpoint(profile.prometheus_url, token, secret_ca or CaSource.SERVICE_CA)
    platform = "not known yet" if profile is None else f"{profile.platform.value}, not OpenShift"
    where = "the remote target" if remote else "the operator's cluster"
    raise SpecError(
        "spec.prometheus.url",
        f"no Prometheus URL: {where} ({platform}) has no default one, and "
        + ("the operator's default is for its own cluster" if remote else "the operator has none"),
    )


def token_field(settings: PrometheusSettings, token: TokenSource) -> str:
    """The field to name when Prometheus refuses the token `token` (pure)."""
    if token is TokenSource.SECRET or token is TokenSource.NONE:
        return "spec.prometheus.bearerTokenSecretRef"
    if settings.use_service_account_token:
        return "spec.prometheus.useServiceAccountToken"
    return "spec.prometheus"
