"""A run's time window and one Prometheus range query per distinct KPI query over it (does I/O)."""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException

from perftest_operator.api.errors import (
    MetricMissing,
    PerfTestError,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    QueryError,
)
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.metrics.aggregate import LabelledSeries, MetricValue, reduce_metric
from perftest_operator.metrics.client import display_url

# HTTP statuses with which Prometheus rejects the query itself: 400 bad_data (syntax, bad
# parameters such as too many points per series), 422 execution (e.g. many-to-many matching,
# too many samples). Asking again cannot succeed. Everything else may be transient.
_QUERY_REJECTED = frozenset({400, 422})
# Refused credentials: thanos-querier's kube-rbac-proxy answers 401 to a token it cannot
# authenticate and 403 to an account without `get prometheuses/api` (cluster-monitoring-view).
_CREDENTIALS_REFUSED = frozenset({401, 403})
# The probe of a Prometheus before any run: answered from nothing stored, by any PromQL engine.
PROBE_QUERY = "vector(1)"
_STATUS_MESSAGE = re.compile(r"^HTTP Status Code (\d{3}) \((.*)\)$", re.DOTALL)
_DETAIL_LIMIT = 300
# A KPI is one number per run, reduced per series and then across series: a query that returns
# more series than this has not been aggregated in PromQL (e.g. a bare histogram).
MAX_SERIES = 1000


@dataclass(frozen=True)
class RunWindow:
    """When a run ran: [start, end], timezone-aware, kept in UTC, start strictly before end."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"run window {name} {moment.isoformat()} has no timezone")
            object.__setattr__(self, name, moment.astimezone(UTC))
        if self.start >= self.end:
            start, end = self.start.isoformat(), self.end.isoformat()
            raise ValueError(f"run window start {start} is not before its end {end}")

    @property
    def duration_seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _format_step(step_seconds: float) -> str:
    if not math.isfinite(step_seconds) or step_seconds <= 0:
        raise ValueError(f"query step must be a positive number of seconds, got {step_seconds!r}")
    return f"{step_seconds:g}"


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def _header_values(client: PrometheusConnect) -> list[str]:
    headers: Mapping[str, Any] | None = client.headers
    values = [str(value) for value in (headers or {}).values()]
    # "Bearer abc": also hide "abc" on its own, should an answer quote only the token.
    return values + [value.split(" ", 1)[1] for value in values if " " in value]


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 3] + "..."


def _http_failure(exc: PrometheusApiClientException) -> tuple[int | None, str]:
    """Status and Prometheus' error text from the library's "HTTP Status Code N (b'body')"."""
    match = _STATUS_MESSAGE.match(str(exc))
    if match is None:
        return None, str(exc)
    status = int(match.group(1))
    try:
        body = ast.literal_eval(match.group(2))
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    except (ValueError, SyntaxError):
        text = match.group(2)
    try:
        answer = json.loads(text)
    except ValueError:
        return status, f"HTTP {status}: {text}"
    if isinstance(answer, dict) and "error" in answer:
        return status, f"HTTP {status}, {answer.get('errorType', 'error')}: {answer['error']}"
    return status, f"HTTP {status}: {text}"


def _describe_os_error(exc: OSError) -> str:
    """The root cause of a requests error: urllib3's MaxRetryError hides it behind a long URL."""
    cause: BaseException = exc
    if exc.args and isinstance(exc.args[0], BaseException):
        cause = exc.args[0]
    reason = getattr(cause, "reason", None)
    if isinstance(reason, BaseException):
        cause = reason
    return f"{type(cause).__name__}: {cause}"


def _parse_matrix(result: Any) -> list[LabelledSeries]:
    """The series of a range query's ``data.result``: [{"metric": {...}, "values": [[t, "v"]]}]."""
    if not isinstance(result, list):
        raise TypeError(f"expected a list of series, got {type(result).__name__}")
    parsed = []
    for item in result:
        labels = item.get("metric") or {}
        if not isinstance(labels, dict):
            raise TypeError(f"expected a series' labels as an object, got {type(labels).__name__}")
        samples = [(float(t), float(v)) for t, v in item["values"]]
        parsed.append(LabelledSeries({str(k): str(v) for k, v in labels.items()}, samples))
    return parsed


def _naming(names: Sequence[str]) -> str:
    return ("metric " if len(names) == 1 else "metrics ") + ", ".join(map(repr, names))


def _classify(
    exc: Exception, where: str, secrets: Sequence[str], names: Sequence[str]
) -> PerfTestError:
    """What a failed request to Prometheus means, as the operator's error (no secret in it).

    ``names`` are the KPIs the query serves (a QueryError names them); none for the probe.
    """
    subject = _naming(names) if names else f"probe query {PROBE_QUERY}"
    if isinstance(exc, PrometheusApiClientException):
        status, detail = _http_failure(exc)
        detail = _shorten(_redact(detail, secrets))
        if status in _QUERY_REJECTED and names:
            return QueryError(
                names[0], f"Prometheus at {where} rejected the query: {detail}", also=names[1:]
            )
        if status in _CREDENTIALS_REFUSED:
            return PrometheusUnauthorized(
                f"{subject}: Prometheus at {where} refused the credentials: {detail}"
            )
        return PrometheusUnavailable(f"{subject}: Prometheus at {where} failed the query: {detail}")
    # HTTP 200, but no Prometheus result or no JSON (requests' JSONDecodeError is an OSError
    # too, so this comes first).
    if isinstance(exc, KeyError | TypeError | ValueError | AttributeError):
        detail = _shorten(_redact(f"{type(exc).__name__}: {exc}", secrets))
        return PrometheusUnavailable(
            f"{subject}: Prometheus at {where} gave an unexpected answer: {detail}"
        )
    # requests' errors (connection, timeout, TLS) are OSErrors
    detail = _shorten(
        _redact(_describe_os_error(exc) if isinstance(exc, OSError) else repr(exc), secrets)
    )
    return PrometheusUnavailable(f"{subject}: Prometheus at {where} is unreachable: {detail}")


def probe(client: PrometheusConnect) -> None:
    """One cheap instant query (PROBE_QUERY) through the client a run's collection uses: does
    Prometheus answer, over TLS as configured, and accept the credentials?

    Raises PrometheusUnauthorized (401, 403) or PrometheusUnavailable (no connection, TLS,
    timeout, any other HTTP error, an answer that is not a Prometheus result); the message names
    Prometheus' URL without credentials, never a token.
    """
    secrets = _header_values(client)
    failure: PerfTestError | None = None
    try:
        result = client.custom_query(query=PROBE_QUERY)
        if not isinstance(result, list) or len(result) != 1:
            raise ValueError(f"{PROBE_QUERY} gave {result!r:.80}")
    except (PrometheusApiClientException, KeyError, TypeError, ValueError, OSError) as exc:
        failure = _classify(exc, display_url(client.url), secrets, ())
    if failure is not None:
        raise failure


def range_query(
    client: PrometheusConnect,
    query: str,
    names: Sequence[str],
    window: RunWindow,
    step_seconds: float,
) -> list[LabelledSeries]:
    """Run ONE range query over exactly [window.start, window.end]: every series, labelled.

    ``names`` are the KPIs the query serves (at least one); errors name them. Evaluation
    points are start, start + step, ... up to end, at the window's exact instants (the library
    would round them to whole seconds, so they are passed explicitly).

    Raises:
        QueryError: Prometheus rejected the PromQL (HTTP 400 bad_data, 422 execution), or
            the query returned more than MAX_SERIES series.
        PrometheusUnavailable: no connection, a timeout, any other HTTP error, an answer that
            is not a Prometheus result; PrometheusUnauthorized (a subclass) for 401 and 403.
            The message names the KPIs and Prometheus' URL (without credentials), never a
            token.
    """
    if not names:
        raise ValueError("a query must serve at least one KPI")
    first, others = names[0], tuple(names[1:])
    step = _format_step(step_seconds)
    where = display_url(client.url)
    secrets = _header_values(client)
    failure: PerfTestError | None = None
    series: list[LabelledSeries] = []
    try:
        result = client.custom_query_range(
            query=query,
            start_time=window.start,
            end_time=window.end,
            step=step,
            params={"start": repr(window.start.timestamp()), "end": repr(window.end.timestamp())},
        )
        series = _parse_matrix(result)
        if len(series) > MAX_SERIES:
            failure = QueryError(
                first,
                f"the query returned {len(series)} series (at most {MAX_SERIES}); aggregate "
                "it in PromQL, e.g. max(...) or histogram_quantile(0.99, sum by (le) (...))",
                also=others,
            )
    except (
        PrometheusApiClientException,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        OSError,
    ) as exc:
        failure = _classify(exc, where, secrets, names)
    if failure is not None:
        # Raised outside the handlers, so that no __context__ carries the original error (whose
        # text may quote an answer that echoed credentials) into tracebacks.
        raise failure
    return series


def query_window(
    client: PrometheusConnect, metric: MetricSpec, window: RunWindow, step_seconds: float
) -> MetricValue:
    """ONE range query of ``metric`` over exactly the window, reduced to the KPI's value.

    Raises QueryError and PrometheusUnavailable as ``range_query`` does, and MetricMissing when
    no series carries the KPI's labels or none of those has a finite sample.
    """
    series = range_query(client, metric.query, [metric.name], window, step_seconds)
    return reduce_metric(metric, series)


def collect_run_metrics(
    client: PrometheusConnect,
    metrics: Sequence[MetricSpec],
    window: RunWindow,
    step_seconds: float,
) -> dict[str, MetricValue | MetricMissing]:
    """Every KPI of a run by name, in the order given: ONE range query per distinct PromQL.

    KPIs with the same query text (avg and max of one expression, one per scope) are each
    reduced from the same answer. A KPI without samples maps to its MetricMissing, and the others
    are still read; a QueryError or PrometheusUnavailable propagates (the first one).
    """
    sharing: dict[str, list[MetricSpec]] = {}
    for metric in metrics:
        if metric.kube_burner is not None:
            raise ValueError(f"{metric.name} is read from the run's summary, not from Prometheus")
        sharing.setdefault(metric.query, []).append(metric)
    results: dict[str, MetricValue | MetricMissing] = {}
    for query, served in sharing.items():
        series = range_query(client, query, [m.name for m in served], window, step_seconds)
        for metric in served:
            try:
                results[metric.name] = reduce_metric(metric, series)
            except MetricMissing as missing:
                results[metric.name] = missing
    return {metric.name: results[metric.name] for metric in metrics}
