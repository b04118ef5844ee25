"""A Prometheus client for a PerfTest: its token and CA read from Secrets, never logged (I/O)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from prometheus_api_client import PrometheusConnect

from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import PerfTestSpec, SecretKeyRef
from perftest_operator.controller.context import Context
from perftest_operator.metrics.client import build_prometheus_client

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def _secret_value(ctx: Context, namespace: str, ref: SecretKeyRef, field: str) -> str:
    value = ctx.api.read_secret_key(namespace, ref.name, ref.key)
    if value is None:
        raise SpecError(
            field, f"Secret {ref.name} with key {ref.key} not found in namespace {namespace}"
        )
    return value


def read_token(ctx: Context, namespace: str, spec: PerfTestSpec) -> str | None:
    """The bearer token the PerfTest asks for: from its Secret, or the operator's service account."""
    prometheus = spec.prometheus
    if prometheus.bearer_token_secret_ref is not None:
        ref = prometheus.bearer_token_secret_ref
        return _secret_value(ctx, namespace, ref, "spec.prometheus.bearerTokenSecretRef").strip()
    if prometheus.use_service_account_token:
        try:
            with open(SERVICE_ACCOUNT_TOKEN, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError:
            raise SpecError(
                "spec.prometheus.useServiceAccountToken",
                "the operator has no service account token",
            ) from None
    return None


@contextlib.contextmanager
def prometheus_client(
    ctx: Context, namespace: str, spec: PerfTestSpec
) -> Iterator[PrometheusConnect]:
    """A client for the PerfTest's Prometheus; a CA from a Secret lives in a private file meanwhile."""
    token = read_token(ctx, namespace, spec)
    ref = spec.prometheus.ca_secret_ref
    if ref is None:
        yield build_prometheus_client(spec.prometheus, bearer_token=token, ca_file=None)
        return
    ca = _secret_value(ctx, namespace, ref, "spec.prometheus.caSecretRef")
    descriptor, path = tempfile.mkstemp(prefix="perftest-ca-", suffix=".crt")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(ca)
        yield build_prometheus_client(spec.prometheus, bearer_token=token, ca_file=path)
    finally:
        os.unlink(path)
