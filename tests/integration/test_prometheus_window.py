"""Window queries on a real Prometheus with replayed nightly runs; the client's failure modes."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import itertools
import json
import logging
import re
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_api_client import PrometheusConnect

from localstack.prometheus import (
    HeaderRecordingProxy,
    PrometheusServer,
    ReplayRun,
    apiserver_latency_openmetrics,
    backfill_openmetrics,
    below,
    free_port,
    gauge_openmetrics,
    replayed_prometheus,
)
from perftest_operator.api.default_kpis import DEFAULT_METRICS as ALL_DEFAULTS
from perftest_operator.api.errors import (
    MetricMissing,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    QueryError,
    SpecError,
)
from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime
from perftest_operator.api.spec import PrometheusSettings
from perftest_operator.metrics.client import build_prometheus_client, display_url
from perftest_operator.metrics.window import (
    PROBE_QUERY,
    MetricValue,
    RunWindow,
    collect_run_metrics,
    probe,
    query_window,
)

STEP = 30.0
RUN_MINUTES = 40
FIRST_NIGHT = datetime(2025, 1, 13, 2, 0, tzinfo=UTC)
# Three nightly runs a day apart; the middle one has the lowest values of both KPIs, so any
# sample of a neighbour leaking into its window would raise its `max`. 4.0 sits exactly on a
# bucket bound, 0.0123 in the lowest bucket that can encode a p99.
RUNS = [
    ReplayRun(
        start=FIRST_NIGHT + timedelta(days=night),
        end=FIRST_NIGHT + timedelta(days=night, minutes=RUN_MINUTES),
        read_only_api_calls_latency=read_only,
        mutating_api_calls_latency=mutating,
    )
    for night, (read_only, mutating) in enumerate([(4.0, 0.31), (0.98, 0.0123), (19.9, 0.35)])
]
# The defaults read from Prometheus (podReadyLatency comes from the run's own summary).
DEFAULT_METRICS = tuple(metric for metric in ALL_DEFAULTS if metric.kube_burner is None)
BY_NAME = {metric.name: metric for metric in DEFAULT_METRICS}
READ_ONLY = BY_NAME["max-ro-apicalls-latency-namespace"]
MUTATING = BY_NAME["max-mutating-apicalls-latency"]
TOKEN = "plantedToken-3f9a1c7e5b"


def wanted(run: ReplayRun) -> dict[str, float]:
    """The defaults that the replay fixes exactly (ReplayRun)."""
    return run.exact_kpis()


# Series per default KPI in the replay: one read-only series per scope, two mutating ones.
SERIES_PER_KPI = {
    "avg-ro-apicalls-latency-namespace": 1,
    "max-ro-apicalls-latency-namespace": 1,
    "avg-ro-apicalls-latency-cluster": 1,
    "max-ro-apicalls-latency-cluster": 1,
    "avg-mutating-apicalls-latency": 2,
    "max-mutating-apicalls-latency": 2,
}


def run_window(run: ReplayRun) -> RunWindow:
    return RunWindow(run.start, run.end)


def client_for(url: str, *, token: str | None = None, timeout: float = 5.0) -> PrometheusConnect:
    return build_prometheus_client(
        PrometheusSettings(url=url, query_timeout_seconds=timeout),
        bearer_token=token,
        ca_file=None,
    )


GAUGE = "perftest_replayed_objects"
# A gauge over the middle run's window, 0, 1, 2, ... every 15 s, from its start to its end.
GAUGE_POINTS = [
    (RUNS[1].start + timedelta(seconds=15 * i), float(i)) for i in range(RUN_MINUTES * 4 + 1)
]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """One real server for the module, started after the three runs were backfilled.

    The gauge is backfilled by a second promtool call whose blocks overlap the first's.
    """
    data_dir = tmp_path_factory.mktemp("prometheus")
    backfill_openmetrics(gauge_openmetrics(GAUGE, GAUGE_POINTS, {"job": "replay"}), data_dir)
    with replayed_prometheus(RUNS, data_dir) as server:
        yield server


# --- the real server, with the real kube-burner queries --------------------------------------


@pytest.mark.prometheus
@pytest.mark.parametrize("night", range(len(RUNS)))
def test_each_window_gives_its_runs_values(prometheus: PrometheusServer, night: int) -> None:
    run = RUNS[night]
    window = run_window(run)
    client = build_prometheus_client(
        PrometheusSettings(url=prometheus.url), bearer_token=None, ca_file=None
    )

    values = collect_run_metrics(client, DEFAULT_METRICS, window, STEP)

    assert list(values) == [metric.name for metric in DEFAULT_METRICS]
    read = {name: value for name, value in values.items() if isinstance(value, MetricValue)}
    assert read.keys() == values.keys()
    for name, expected in wanted(run).items():
        assert read[name].value == pytest.approx(expected, rel=1e-6), name
    # the averages over time of the rising series lie between its baseline and its peak
    for kind, peak in [
        ("ro-apicalls-latency-namespace", run.read_only_api_calls_latency),
        ("mutating-apicalls-latency", run.mutating_api_calls_latency),
    ]:
        average, maximum = read[f"avg-{kind}"].value, read[f"max-{kind}"].value
        assert below(below(peak)) < average < maximum, kind
    evaluations = int(window.duration_seconds // STEP) + 1
    for name, value in read.items():
        assert value.name == name
        assert value.series_count == SERIES_PER_KPI[name], name
        assert value.sample_count == SERIES_PER_KPI[name] * evaluations, name


@pytest.mark.prometheus
def test_neighbouring_runs_do_not_leak_into_a_window(prometheus: PrometheusServer) -> None:
    before, middle, after = RUNS
    client = client_for(prometheus.url)
    # From just after the previous run's last sample (its 2m irate range included) to just
    # before the next run's first sample (its lead-in starts 5 minutes before its window).
    wide = RunWindow(before.end + timedelta(minutes=3), after.start - timedelta(minutes=6))

    # The maxima over time and the constant series: a wider window around the middle run adds
    # no sample above its own (its lead-in and tail are lower or equal).
    for name, expected in wanted(middle).items():
        result = query_window(client, BY_NAME[name], wide, STEP)
        assert result.value == pytest.approx(expected, rel=1e-6), name
        # and the neighbours' own windows still hold their (higher) values
        assert query_window(
            client, BY_NAME[name], RunWindow(after.start, after.end), STEP
        ).value > (result.value)


@pytest.mark.prometheus
@pytest.mark.parametrize(
    ("over_time", "aggregation", "expected"),
    # evaluations every 30 s see every other point: 0, 2, ..., 160; one series
    [
        (OverTime.LAST, Aggregation.MAX, 160.0),
        (OverTime.MIN, Aggregation.MIN, 0.0),
        (OverTime.AVG, Aggregation.AVG, 80.0),
        (OverTime.P95, Aggregation.AVG, 152.0),  # 0.95 * 160
    ],
)
def test_a_backfilled_gauge_aggregates_over_the_window(
    prometheus: PrometheusServer, over_time: OverTime, aggregation: Aggregation, expected: float
) -> None:
    metric = MetricSpec(
        name="objects",
        query=f'{GAUGE}{{job="replay"}}',
        over_time=over_time,
        aggregation=aggregation,
    )
    result = query_window(client_for(prometheus.url), metric, run_window(RUNS[1]), STEP)
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert result.series_count == 1
    assert result.sample_count == RUN_MINUTES * 2 + 1


@pytest.mark.prometheus
def test_the_window_end_is_respected(prometheus: PrometheusServer) -> None:
    """The p99 rises through the first half of each run: a window ending early sees less."""
    run = RUNS[1]
    client = client_for(prometheus.url)
    early = RunWindow(run.start, run.start + timedelta(minutes=RUN_MINUTES / 4))
    full = query_window(client, READ_ONLY, RunWindow(run.start, run.end), STEP)
    partial = query_window(client, READ_ONLY, early, STEP)
    assert 0 < partial.value < 0.95 * full.value
    # ... and max differs from avg over the full window (the ramp is real)
    average = query_window(
        client, BY_NAME["avg-ro-apicalls-latency-namespace"], run_window(run), STEP
    )
    assert average.value < full.value


@pytest.mark.prometheus
@pytest.mark.parametrize("metric", DEFAULT_METRICS, ids=lambda metric: metric.name)
def test_a_window_without_data_is_missing_not_zero(
    prometheus: PrometheusServer, metric: MetricSpec
) -> None:
    client = client_for(prometheus.url)
    empty = RunWindow(RUNS[0].start - timedelta(days=3), RUNS[0].start - timedelta(days=2))
    with pytest.raises(MetricMissing) as caught:
        query_window(client, metric, empty, STEP)
    assert caught.value.metric == metric.name


@pytest.mark.prometheus
def test_a_promql_syntax_error_is_a_query_error(prometheus: PrometheusServer) -> None:
    broken = MetricSpec(name="broken", query="sum(rate(apiserver_request_duration_seconds[5m])")
    with pytest.raises(QueryError, match="bad_data") as caught:
        query_window(client_for(prometheus.url), broken, run_window(RUNS[0]), STEP)
    assert caught.value.metric == "broken"
    assert not isinstance(caught.value, PrometheusUnavailable)
    assert prometheus.url in str(caught.value)


@pytest.mark.prometheus
def test_a_query_that_fails_to_evaluate_is_a_query_error(prometheus: PrometheusServer) -> None:
    many_to_many = MetricSpec(
        name="manyToMany",
        query="apiserver_request_duration_seconds_bucket"
        " * on(verb) apiserver_request_duration_seconds_count",
    )
    with pytest.raises(QueryError, match="execution"):
        query_window(client_for(prometheus.url), many_to_many, run_window(RUNS[0]), STEP)


@pytest.mark.prometheus
def test_one_range_query_over_the_exact_window_carrying_the_bearer_token(
    prometheus: PrometheusServer,
) -> None:
    run = RUNS[2]
    # sub-second bounds: the library alone would round them to whole seconds
    window = RunWindow(
        run.start + timedelta(milliseconds=250), run.end - timedelta(milliseconds=750)
    )
    with HeaderRecordingProxy(prometheus.url) as proxy:
        client = client_for(proxy.url, token=TOKEN + "\n")  # as read from a Secret file
        result = query_window(client, READ_ONLY, window, STEP)

    assert result.value == pytest.approx(run.read_only_api_calls_latency, rel=1e-6)
    assert len(proxy.requests) == 1
    sent = proxy.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    url = urllib.parse.urlsplit(sent.path)
    assert url.path == "/api/v1/query_range"
    params = dict(urllib.parse.parse_qsl(url.query))
    assert params["query"] == READ_ONLY.query
    assert float(params["start"]) == window.start.timestamp()
    assert float(params["end"]) == window.end.timestamp()
    assert float(params["step"]) == STEP


@pytest.mark.prometheus
def test_no_authorization_header_without_a_token(prometheus: PrometheusServer) -> None:
    with HeaderRecordingProxy(prometheus.url) as proxy:
        query_window(client_for(proxy.url), MUTATING, run_window(RUNS[0]), STEP)
    assert [r for r in proxy.requests if "authorization" in {h.lower() for h in r.headers}] == []


@pytest.mark.prometheus
@pytest.mark.timeout(60)  # a hang guard: the failure itself takes well under a second
def test_a_stopped_server_is_unavailable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with PrometheusServer(tmp_path / "data") as server:
        url = server.url
        client = client_for(url, token=TOKEN)
        with pytest.raises(MetricMissing):  # up and empty
            query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)

    with pytest.raises(PrometheusUnavailable) as caught:
        query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)

    message = str(caught.value)
    assert READ_ONLY.name in message
    assert url in message
    assert TOKEN not in message
    assert TOKEN not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert caplog.records  # requests/urllib3 did log at DEBUG
    assert TOKEN not in caplog.text


# --- a stub Prometheus for answers a healthy server never gives -------------------------------


@dataclasses.dataclass
class Answer:
    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    delay_seconds: float = 0.0


@dataclasses.dataclass
class Stub:
    url: str
    seen: list[dict[str, str]]


MATRIX = json.dumps(
    {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"resource": "pods", "scope": "namespace"},
                    "values": [[1736733600, "1.5"]],
                }
            ],
        },
    }
)


@contextlib.contextmanager
def stub_prometheus(
    answer: Callable[[dict[str, str]], Answer], *, tls: ssl.SSLContext | None = None
) -> Iterator[Stub]:
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = dict(self.headers.items())
            seen.append(headers)
            reply = answer(headers)
            time.sleep(reply.delay_seconds)
            body = reply.body.encode()
            with contextlib.suppress(OSError):  # the client may have given up already
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield Stub(f"{scheme}://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


def echo_error(status: int, error_type: str) -> Callable[[dict[str, str]], Answer]:
    """A Prometheus-style error whose text quotes the request's Authorization header."""

    def answer(headers: dict[str, str]) -> Answer:
        error = f"backend down (request had {headers.get('Authorization')})"
        return Answer(
            status, json.dumps({"status": "error", "errorType": error_type, "error": error})
        )

    return answer


@pytest.mark.timeout(60)
def test_a_5xx_is_unavailable_retried_twice_and_the_token_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with stub_prometheus(echo_error(503, "unavailable")) as stub:
        client = client_for(stub.url, token=TOKEN)
        with pytest.raises(PrometheusUnavailable) as caught:
            query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)

    assert len(stub.seen) == 3  # the first try and two retries
    assert all(seen["Authorization"] == f"Bearer {TOKEN}" for seen in stub.seen)
    message = str(caught.value)
    assert "503" in message and "unavailable" in message and "<redacted>" in message
    assert TOKEN not in message
    assert caught.value.__context__ is None
    assert TOKEN not in caplog.text


def test_an_internal_error_is_unavailable_and_not_retried() -> None:
    with (
        stub_prometheus(echo_error(500, "internal")) as stub,
        pytest.raises(PrometheusUnavailable, match="500"),
    ):
        query_window(client_for(stub.url, token=TOKEN), READ_ONLY, run_window(RUNS[0]), STEP)
    assert len(stub.seen) == 1


def test_a_bad_data_answer_from_any_server_is_a_query_error() -> None:
    with (
        stub_prometheus(echo_error(400, "bad_data")) as stub,
        pytest.raises(QueryError, match="bad_data") as caught,
    ):
        query_window(client_for(stub.url, token=TOKEN), READ_ONLY, run_window(RUNS[0]), STEP)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "reply",
    [
        Answer(200, "<html><body>Log in with OpenShift</body></html>", "text/html"),
        Answer(200, json.dumps({"status": "error", "errorType": "internal", "error": "oops"})),
        Answer(200, json.dumps({"status": "success", "data": {"result": "not a matrix"}})),
    ],
    ids=["login-page", "status-error-with-200", "not-a-matrix"],
)
def test_an_answer_that_is_not_a_result_is_unavailable(reply: Answer) -> None:
    with (
        stub_prometheus(lambda _: reply) as stub,
        pytest.raises(PrometheusUnavailable, match="unexpected answer"),
    ):
        query_window(client_for(stub.url), READ_ONLY, run_window(RUNS[0]), STEP)


@pytest.mark.prometheus
def test_the_probe_asks_the_real_server_one_instant_query_with_the_token(
    prometheus: PrometheusServer,
) -> None:
    with HeaderRecordingProxy(prometheus.url) as proxy:
        probe(client_for(proxy.url, token=TOKEN))
    [request] = proxy.requests
    assert request.path.startswith("/api/v1/query?") or request.path == "/api/v1/query"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_unauthorized_in_the_probe_and_the_window_query(
    status: int,
) -> None:
    """kube-rbac-proxy in front of thanos-querier: 401 for a token it cannot authenticate, 403
    for an account without the right to query. Both say so, without the token."""
    with stub_prometheus(echo_error(status, "forbidden")) as stub:
        client = client_for(stub.url, token=TOKEN)
        with pytest.raises(PrometheusUnauthorized) as probed:
            probe(client)
        with pytest.raises(PrometheusUnauthorized) as queried:
            query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)
    assert len(stub.seen) == 2  # refused credentials are not retried
    for caught in (probed, queried):
        message = str(caught.value)
        assert str(status) in message and "refused the credentials" in message
        assert TOKEN not in message and caught.value.__context__ is None
    assert PROBE_QUERY in str(probed.value)
    # Still a PrometheusUnavailable: a run's collection retries it like any other.
    assert isinstance(queried.value, PrometheusUnavailable)


@pytest.mark.parametrize(
    "reply",
    [
        Answer(503, json.dumps({"status": "error", "errorType": "unavailable", "error": "x"})),
        Answer(200, "<html><body>Log in with OpenShift</body></html>", "text/html"),
        Answer(200, json.dumps({"status": "success", "data": {"result": []}})),
    ],
    ids=["503", "login-page", "no-sample"],
)
def test_a_probe_without_a_prometheus_answer_is_unavailable_not_unauthorized(
    reply: Answer,
) -> None:
    with stub_prometheus(lambda _: reply) as stub, pytest.raises(PrometheusUnavailable) as caught:
        probe(client_for(stub.url))
    assert not isinstance(caught.value, PrometheusUnauthorized)


def test_a_probe_of_a_closed_port_is_unavailable_and_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PrometheusUnavailable, match="unreachable") as caught:
        probe(client_for(url, token=TOKEN))
    assert url in str(caught.value) and TOKEN not in str(caught.value)


@pytest.mark.timeout(60)  # a hang guard: without a timeout this request would never return
def test_a_server_that_never_answers_times_out_once() -> None:
    with stub_prometheus(lambda _: Answer(200, MATRIX, delay_seconds=3.0)) as stub:
        client = client_for(stub.url, timeout=0.5)
        with pytest.raises(
            PrometheusUnavailable, match=r"unreachable: ReadTimeoutError.*timed out"
        ):
            query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)
    assert len(stub.seen) == 1  # a read timeout is not retried


def test_a_non_finite_only_answer_is_missing() -> None:
    nan_only = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {
                        "metric": {"scope": "namespace"},
                        "values": [[1736733600, "NaN"], [1736733630, "+Inf"]],
                    }
                ],
            },
        }
    )
    with (
        stub_prometheus(lambda _: Answer(200, nan_only)) as stub,
        pytest.raises(MetricMissing, match="NaN or infinite"),
    ):
        query_window(client_for(stub.url), READ_ONLY, run_window(RUNS[0]), STEP)


# --- the client: TLS, tokens, URLs ------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 that no system CA bundle trusts, and a server context."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


def tls_client(
    url: str, *, ca_file: Path | None = None, insecure: bool = False
) -> PrometheusConnect:
    settings = PrometheusSettings(url=url, insecure_skip_verify=insecure, query_timeout_seconds=5)
    return build_prometheus_client(
        settings, bearer_token=TOKEN, ca_file=str(ca_file) if ca_file else None
    )


def test_tls_is_verified_by_default(self_signed: tuple[Path, ssl.SSLContext]) -> None:
    _, context = self_signed
    with (
        stub_prometheus(lambda _: Answer(200, MATRIX), tls=context) as stub,
        pytest.raises(
            PrometheusUnavailable, match=r"unreachable: SSLError.*CERTIFICATE_VERIFY_FAILED"
        ) as caught,
    ):
        query_window(tls_client(stub.url), READ_ONLY, run_window(RUNS[0]), STEP)
    assert TOKEN not in str(caught.value)


def test_tls_trusts_the_given_ca_file(self_signed: tuple[Path, ssl.SSLContext]) -> None:
    cert, context = self_signed
    with stub_prometheus(lambda _: Answer(200, MATRIX), tls=context) as stub:
        result = query_window(
            tls_client(stub.url, ca_file=cert), READ_ONLY, run_window(RUNS[0]), STEP
        )
    assert result.value == 1.5
    assert stub.seen[0]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_skip_verify_turns_verification_off(
    self_signed: tuple[Path, ssl.SSLContext],
) -> None:
    _, context = self_signed
    with stub_prometheus(lambda _: Answer(200, MATRIX), tls=context) as stub:
        result = query_window(
            tls_client(stub.url, insecure=True), READ_ONLY, run_window(RUNS[0]), STEP
        )
    assert result.value == 1.5


def test_a_missing_ca_file_is_unavailable_and_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    client = tls_client("https://127.0.0.1:9", ca_file=missing)
    with pytest.raises(PrometheusUnavailable, match=r"OSError: .*TLS CA certificate bundle"):
        query_window(client, READ_ONLY, run_window(RUNS[0]), STEP)


def test_the_token_is_not_in_the_clients_repr() -> None:
    client = client_for("http://127.0.0.1:9", token=TOKEN)
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.headers)
    assert TOKEN not in str(vars(client))


@pytest.mark.parametrize("token", ["", "  \n", "abc\ndef", "abc\x00def"])
def test_an_unusable_token_is_a_spec_error_that_does_not_quote_it(token: str) -> None:
    with pytest.raises(SpecError) as caught:
        client_for("http://127.0.0.1:9", token=token)
    if token.strip():
        assert token not in str(caught.value)
        assert "abc" not in str(caught.value) and "def" not in str(caught.value)


def test_credentials_in_the_url_stay_out_of_messages() -> None:
    port = free_port()
    dead = f"http://alice:hunter2@127.0.0.1:{port}/prometheus"
    with pytest.raises(PrometheusUnavailable) as caught:
        query_window(client_for(dead), READ_ONLY, run_window(RUNS[0]), STEP)
    assert "hunter2" not in str(caught.value)
    assert f"http://127.0.0.1:{port}/prometheus" in str(caught.value)


def test_display_url_drops_user_info_query_and_fragment() -> None:
    assert (
        display_url("https://user:pw@thanos.example:9091/api/prom?token=x#f")
        == "https://thanos.example:9091/api/prom"
    )
    assert display_url("http://[::1]:9090") == "http://[::1]:9090"


# --- the replay generator ---------------------------------------------------------------------


def parse_openmetrics(text: str) -> dict[str, list[tuple[float, float]]]:
    """Samples per series (name with labels) of the generator's output, in file order."""
    samples: dict[str, list[tuple[float, float]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, value, stamp = line.rsplit(" ", 2)
        samples.setdefault(series, []).append((float(stamp), float(value)))
    return samples


def test_replayed_counters_only_grow_in_time_order_across_all_runs() -> None:
    text = apiserver_latency_openmetrics(RUNS)
    assert text.endswith("# EOF\n")
    samples = parse_openmetrics(text)
    assert len(samples) == 4 * 25  # 4 label sets x (24 buckets + _count)
    for series, points in samples.items():
        stamps = [stamp for stamp, _ in points]
        values = [value for _, value in points]
        assert stamps == sorted(set(stamps)), series
        assert values == sorted(values), series
        assert stamps[-1] == RUNS[-1].end.timestamp()
    # each metric (label set without `le`) is written in one piece, as OpenMetrics wants
    metrics = [
        re.sub(r'_bucket|_count|,le="[^"]*"', "", line.rsplit(" ", 2)[0])
        for line in text.splitlines()
        if not line.startswith("#")
    ]
    pieces = [metric for metric, _ in itertools.groupby(metrics)]
    assert len(pieces) == len(set(pieces)) == 4
    families = [line for line in text.splitlines() if line.startswith("# TYPE")]
    assert families == ["# TYPE apiserver_request_duration_seconds histogram"]


def test_replayed_runs_must_not_overlap() -> None:
    first = RUNS[0]
    too_close = ReplayRun(
        first.end + timedelta(minutes=2), first.end + timedelta(minutes=30), 1.0, 0.3
    )
    with pytest.raises(ValueError, match="overlaps"):
        apiserver_latency_openmetrics([first, too_close])
    with pytest.raises(ValueError, match="overlaps"):
        apiserver_latency_openmetrics([RUNS[1], RUNS[0]])


@pytest.mark.parametrize("latency", [0.005, 0.0, 60.5])
def test_a_latency_no_p99_can_encode_is_refused(latency: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        ReplayRun(RUNS[0].start, RUNS[0].end, latency, 0.3)


def test_a_gauge_needs_points_in_time_order() -> None:
    moment = RUNS[0].start
    with pytest.raises(ValueError, match="increasing time order"):
        gauge_openmetrics("g", [(moment, 1.0), (moment, 2.0)])


def test_backfill_needs_the_eof_marker(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="# EOF"):
        backfill_openmetrics("# TYPE g gauge\ng 1 1700000000\n", tmp_path)


# --- RunWindow --------------------------------------------------------------------------------


def test_a_run_window_is_kept_in_utc() -> None:
    cest = timezone(timedelta(hours=2))
    window = RunWindow(
        datetime(2025, 1, 13, 4, 0, tzinfo=cest), datetime(2025, 1, 13, 4, 20, tzinfo=cest)
    )
    assert window.start == datetime(2025, 1, 13, 2, 0, tzinfo=UTC)
    assert window.start.utcoffset() == timedelta(0) and window.end.utcoffset() == timedelta(0)
    assert window.duration_seconds == 1200.0


def test_a_run_window_needs_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        RunWindow(datetime(2025, 1, 13, 2, 0), datetime(2025, 1, 13, 3, 0, tzinfo=UTC))


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_run_window_must_start_before_it_ends(minutes: int) -> None:
    start = datetime(2025, 1, 13, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="not before"):
        RunWindow(start, start + timedelta(minutes=minutes))


@pytest.mark.parametrize("step", [0.0, -30.0, float("nan")])
def test_the_step_must_be_positive(step: float) -> None:
    with pytest.raises(ValueError, match="step"):
        query_window(client_for("http://127.0.0.1:9"), READ_ONLY, run_window(RUNS[0]), step)
