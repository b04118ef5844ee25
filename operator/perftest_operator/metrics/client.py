"""The Prometheus client built from a PerfTest's settings; does no I/O until used."""

from __future__ import annotations

import re
import urllib.parse

import requests
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import PrometheusSettings

AUTHORIZATION = "Authorization"

# A dead or overloaded Prometheus must fail a run's query in seconds, not minutes: the
# library's default Retry (3 tries, 1 s backoff, honouring Retry-After) could wait far longer.
# Connection failures and gateway errors are retried twice (backoff 0 s, then 0.5 s); a read
# timeout is not retried (the query timeout already bounds it); the last 5xx answer is
# returned, not raised, so that its status and body reach the error message.
_RETRY = Retry(
    total=2,
    connect=2,
    read=0,
    status=2,
    other=0,
    backoff_factor=0.25,
    status_forcelist=(502, 503, 504),
    allowed_methods=frozenset({"GET", "POST"}),
    raise_on_status=False,
    respect_retry_after_header=False,
)

_HEADER_VALUE_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class _SecretHeaders(dict[str, str]):
    """Request headers whose repr hides the Authorization value."""

    def __repr__(self) -> str:
        shown = {
            name: "<redacted>" if name.lower() == AUTHORIZATION.lower() else value
            for name, value in self.items()
        }
        return repr(shown)


def display_url(url: str) -> str:
    """The URL without user info, query or fragment: safe to log and to put in a message (pure)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _authorization_headers(bearer_token: str | None) -> _SecretHeaders | None:
    if bearer_token is None:
        return None
    token = bearer_token.strip()  # tokens read from files and Secrets often end with a newline
    if not token:
        raise SpecError("spec.prometheus", "the Prometheus bearer token is empty")
    if _HEADER_VALUE_UNSAFE.search(token):
        # requests would reject the header with the token itself in the message.
        raise SpecError(
            "spec.prometheus",
            "the Prometheus bearer token contains line breaks or control characters",
        )
    return _SecretHeaders({AUTHORIZATION: f"Bearer {token}"})


def build_prometheus_client(
    settings: PrometheusSettings, *, bearer_token: str | None, ca_file: str | None
) -> PrometheusConnect:
    """A synchronous Prometheus client for ``settings``; it connects only when queried.

    Sends ``Authorization: Bearer <token>`` when ``bearer_token`` is given (surrounding
    whitespace stripped). TLS certificates are verified against ``ca_file`` when given, else
    against the system's CA bundle; ``settings.insecure_skip_verify`` turns verification off
    (and wins over ``ca_file``). Every request times out after
    ``settings.query_timeout_seconds``. The client is blocking (requests): call it from async
    code through ``asyncio.to_thread``.

    The token is kept out of reprs and messages: the headers' repr shows ``<redacted>``, and
    an unusable token raises a ``SpecError`` that does not quote it.
    """
    if settings.url is None:
        raise SpecError("spec.prometheus.url", "no Prometheus URL")
    session = requests.Session()
    session.verify = False if settings.insecure_skip_verify else (ca_file or True)
    return PrometheusConnect(
        url=settings.url,
        headers=_authorization_headers(bearer_token),
        retry=_RETRY,
        session=session,
        timeout=settings.query_timeout_seconds,  # seconds; requests takes floats
    )
