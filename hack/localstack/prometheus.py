"""Real Prometheus on 127.0.0.1 for tests and the demo, history backfilled by promtool (I/O)."""

from __future__ import annotations

import contextlib
import http.server
import itertools
import math
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

from localstack.processes import stop_process

PROMETHEUS_BINARY = "/usr/bin/prometheus"
PROMTOOL_BINARY = "/usr/bin/promtool"

SCRAPE_INTERVAL_SECONDS = 15
"""How often the generated apiserver histograms are "scraped"."""

LEAD_SECONDS = 300
"""How long before each run's window the generated samples start (a few scrapes of baseline)."""

# kube-apiserver's buckets of apiserver_request_duration_seconds (+Inf follows implicitly).
APISERVER_LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2,
    3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
)  # fmt: skip
APISERVER_LATENCY_METRIC = "apiserver_request_duration_seconds"

# The labels a scraped series carries besides the metric's own verb, resource and scope, by how
# the monitoring stack scrapes the API server. OpenShift's ServiceMonitor adds apiserver=
# "kube-apiserver" (openshift/cluster-kube-apiserver-operator, manifests/0000_90_kube-apiserver-
# operator_04_servicemonitor-apiserver.yaml:110-113 at c813e820); kube-prometheus' (v0.18.0,
# commit 4775d44d, manifests/kubernetesControlPlane-serviceMonitorApiserver.yaml:12-94) scrapes
# the default/kubernetes Service's https port with jobLabel component, so prometheus-operator
# (v0.92.0 pkg/prometheus/promcfg.go:2090-2177) gives job, namespace, service and endpoint, and
# Prometheus the instance; the metric itself adds component, group, version, dry_run and
# subresource (kubernetes/apiserver v0.33.0 pkg/endpoints/metrics/metrics.go:96-109).
STACK_LABELS: Mapping[str, Mapping[str, str]] = {
    "OpenShift": {"apiserver": "kube-apiserver"},
    "kube-prometheus": {
        "job": "apiserver",
        "namespace": "default",
        "service": "kubernetes",
        "endpoint": "https",
        "instance": "10.0.0.1:443",
        "component": "apiserver",
        "dry_run": "",
        "group": "",
        "version": "v1",
        "subresource": "",
    },
}

_REQUESTS_PER_INTERVAL = 600.0  # observations per scrape interval of one series (40 req/s)
_QUANTILE = 0.99  # kube-burner's queries take the 99th percentile


# --------------------------------------------------------------------------------------------
# OpenMetrics text


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _format_labels(labels: Mapping[str, str]) -> str:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    inner = ",".join(f'{name}="{escape(value)}"' for name, value in labels.items())
    return "{" + inner + "}" if inner else ""


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no timezone")
    return moment.timestamp()


def gauge_openmetrics(
    name: str,
    points: Sequence[tuple[datetime, float]],
    labels: Mapping[str, str] | None = None,
    *,
    help_text: str = "",
) -> str:
    """A whole OpenMetrics document (ending in ``# EOF``) of one gauge series, for backfilling."""
    stamps = [_timestamp(moment) for moment, _ in points]
    if any(later <= earlier for earlier, later in itertools.pairwise(stamps)):
        raise ValueError(f"points of {name} must be in strictly increasing time order")
    label_text = _format_labels(labels or {})
    lines = [f"# HELP {name} {help_text or name}", f"# TYPE {name} gauge"]
    lines += [
        f"{name}{label_text} {_format_number(value)} {_format_number(stamp)}"
        for stamp, (_, value) in zip(stamps, points, strict=True)
    ]
    return "\n".join([*lines, "# EOF", ""])


# --------------------------------------------------------------------------------------------
# Replayed kube-apiserver latency histograms


@dataclass(frozen=True)
class ReplayRun:
    """One past benchmark run and the p99 API latencies (s) its busiest series reach.

    For each of kube-burner-ocp's two API latency expressions (read-only, mutating) the replay
    holds two series (see _API_SERIES): a busy one whose p99 rises to the run's value over the
    first half of the window and holds it, and a quiet one constantly at ``below(value)``. So
    max-ro-apicalls-latency-namespace (max over time of the one namespace-scoped read-only
    series) is exactly ``read_only_api_calls_latency``; the cluster-scoped read-only KPIs are
    ``below(read_only_api_calls_latency)``; max-mutating-apicalls-latency is the mean of
    ``mutating_api_calls_latency`` and ``below`` of it. Each value must lie in (0.005, 60],
    the range a p99 over the apiserver's buckets can express.
    """

    start: datetime
    end: datetime
    read_only_api_calls_latency: float
    mutating_api_calls_latency: float

    def __post_init__(self) -> None:
        if _timestamp(self.end) - _timestamp(self.start) < 4 * SCRAPE_INTERVAL_SECONDS:
            raise ValueError("a replayed run must last at least a minute")
        for value in (self.read_only_api_calls_latency, self.mutating_api_calls_latency):
            if not APISERVER_LATENCY_BUCKETS[0] < value <= APISERVER_LATENCY_BUCKETS[-1]:
                raise ValueError(f"latency {value} s is outside (0.005, 60]: no p99 encodes it")

    def exact_kpis(self) -> dict[str, float]:
        """The default KPIs the replay fixes exactly: the peaks and the quiet series."""
        read_only, mutating = self.read_only_api_calls_latency, self.mutating_api_calls_latency
        return {
            "max-ro-apicalls-latency-namespace": read_only,  # GET pods, its only series
            "max-ro-apicalls-latency-cluster": below(read_only),  # LIST configmaps, constant
            "avg-ro-apicalls-latency-cluster": below(read_only),
            "max-mutating-apicalls-latency": (mutating + below(mutating)) / 2,  # POST, DELETE
        }


def _p99_bucket_increments(value: float) -> list[float]:
    """Observations per bucket (the last is +Inf) in one interval whose p99 is exactly ``value``.

    histogram_quantile finds the first bucket b whose cumulative count reaches
    rank = 0.99 * total and interpolates linearly inside it:
    lo + (hi - lo) * (rank - below) / in_bucket. With total N, below = (0.99 - 0.01 f) N in the
    first bucket, in_bucket = 0.01 N and the remaining 0.01 f N beyond 60 s, the result is
    lo + (hi - lo) * f, so f = (value - lo) / (hi - lo) in (0, 1] hits ``value``. Only the ratios
    matter (the quantile is scale-free), so irate over any interval gives the same answer.
    """
    bounds = APISERVER_LATENCY_BUCKETS
    b = next(i for i, bound in enumerate(bounds) if bound >= value)
    if b == 0:
        raise ValueError(f"latency {value} s is at or below the first bucket bound")
    f = (value - bounds[b - 1]) / (bounds[b] - bounds[b - 1])
    total = _REQUESTS_PER_INTERVAL
    increments = [0.0] * (len(bounds) + 1)
    increments[0] = (_QUANTILE - 0.01 * f) * total
    increments[b] = 0.01 * total
    increments[-1] = 0.01 * f * total
    return increments


def below(value: float) -> float:
    """A latency strictly between the first bucket bound and ``value``: the quiet series' p99."""
    return (value + APISERVER_LATENCY_BUCKETS[0]) / 2


def _ramp(run_start: float, run_end: float, wanted: float) -> Callable[[float], float]:
    """p99 over time: a baseline below ``wanted`` up to the start, a linear rise over the first
    half of the window, then ``wanted`` held over the second half, so that the max over the
    window is ``wanted`` for any query step shorter than half the window, and max != avg."""
    baseline = below(wanted)
    middle = (run_start + run_end) / 2

    def value_at(moment: float) -> float:
        if moment <= run_start:
            return baseline
        if moment >= middle:
            return wanted
        return baseline + (wanted - baseline) * (moment - run_start) / (middle - run_start)

    return value_at


@dataclass(frozen=True)
class _ApiSeries:
    verb: str
    resource: str
    scope: str
    pick: Callable[[ReplayRun], Callable[[float], float]]  # p99 over time for a run


# Two series per expression, as kube-burner's p99 by (resource, verb, scope) gives them: pods
# at the wanted value (rising), configmaps constantly below it. The read-only pair differs in
# scope (the scope KPIs each see one), the mutating pair does not (its KPIs average both).
_API_SERIES: tuple[_ApiSeries, ...] = (
    _ApiSeries(
        "GET",
        "pods",
        "namespace",
        lambda run: _ramp(
            _timestamp(run.start), _timestamp(run.end), run.read_only_api_calls_latency
        ),
    ),
    _ApiSeries(
        "LIST",
        "configmaps",
        "cluster",
        lambda run: lambda _: below(run.read_only_api_calls_latency),
    ),
    _ApiSeries(
        "POST",
        "pods",
        "namespace",
        lambda run: _ramp(
            _timestamp(run.start), _timestamp(run.end), run.mutating_api_calls_latency
        ),
    ),
    _ApiSeries(
        "DELETE",
        "configmaps",
        "namespace",
        lambda run: lambda _: below(run.mutating_api_calls_latency),
    ),
)


def _scrape_times(run: ReplayRun) -> list[float]:
    """Every SCRAPE_INTERVAL_SECONDS back from the window's end to LEAD_SECONDS before its start."""
    end = _timestamp(run.end)
    first = _timestamp(run.start) - LEAD_SECONDS
    count = int((end - first) // SCRAPE_INTERVAL_SECONDS)
    return [end - SCRAPE_INTERVAL_SECONDS * k for k in range(count, -1, -1)]


def apiserver_latency_openmetrics(runs: Sequence[ReplayRun], stack: str = "OpenShift") -> str:
    """An OpenMetrics document (ending in ``# EOF``) of apiserver_request_duration_seconds.

    For each run, cumulative histogram buckets are "scraped" every 15 s from LEAD_SECONDS
    before its window to its end, such that kube-burner-ocp's p99 expressions for read-only
    and mutating calls give each series the p99 that _API_SERIES wants at each scrape (to float
    precision; see ReplayRun for what the default KPIs then report). Counters keep growing across runs, never reset; runs
    must be in time order and their lead-ins must not overlap the previous run. A purely
    computational function with no side effects. ``stack`` labels the series as that monitoring
    stack scrapes them (STACK_LABELS).
    """
    previous_end = -math.inf
    for run in runs:
        if _scrape_times(run)[0] <= previous_end:
            raise ValueError(
                f"run starting {run.start.isoformat()} overlaps the previous run or its "
                f"{LEAD_SECONDS} s lead-in; give the runs in time order, further apart"
            )
        previous_end = _timestamp(run.end)
    name = APISERVER_LATENCY_METRIC
    les = [f"{bound:g}" for bound in APISERVER_LATENCY_BUCKETS] + ["+Inf"]
    lines = [
        f"# HELP {name} Response latency distribution in seconds (replayed).",
        f"# TYPE {name} histogram",
    ]
    for series in _API_SERIES:
        labels = {
            **STACK_LABELS[stack],
            "verb": series.verb,
            "resource": series.resource,
            "scope": series.scope,
        }
        counts = [0.0] * len(les)  # cumulative per `le`, carried from run to run
        for run in runs:
            p99_at = series.pick(run)
            for index, moment in enumerate(_scrape_times(run)):
                if index:  # the first scrape of a run only restates the counters
                    per_bucket = _p99_bucket_increments(p99_at(moment))
                    running = 0.0
                    for i, added in enumerate(per_bucket):
                        running += added
                        counts[i] += running
                stamp = _format_number(moment)
                for le, count in zip(les, counts, strict=True):
                    bucket_labels = _format_labels({**labels, "le": le})
                    lines.append(f"{name}_bucket{bucket_labels} {_format_number(count)} {stamp}")
                lines.append(
                    f"{name}_count{_format_labels(labels)} {_format_number(counts[-1])} {stamp}"
                )
    return "\n".join([*lines, "# EOF", ""])


# --------------------------------------------------------------------------------------------
# promtool and the server


def backfill_openmetrics(text: str, data_dir: Path) -> None:
    """Write ``text`` (OpenMetrics ending in ``# EOF``) as TSDB blocks into ``data_dir``.

    Runs ``promtool tsdb create-blocks-from openmetrics`` (one block per 2 h of data). Do it
    before the server starts: Prometheus loads the blocks when it opens its storage, and they
    answer range queries as soon as ``/-/ready`` does, however old they are (with the 100-year
    retention of PrometheusServer). Blocks written into the directory of a running server
    only show up at its next block reload, about a minute later (measured with 2.42). Several
    calls may add blocks that overlap in time (Prometheus >= 2.39 merges them).
    """
    if not text.rstrip().endswith("# EOF"):
        raise ValueError("OpenMetrics text must end with '# EOF'")
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="openmetrics-") as scratch:
        source = Path(scratch) / "input.om"
        source.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        done = subprocess.run(
            [
                PROMTOOL_BINARY,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(source),
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"promtool failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


_CONFIG = """\
# Written by hack/localstack/prometheus.py: no scrape targets, history comes from backfilled blocks.
global:
  scrape_interval: 15s
  evaluation_interval: 15s
scrape_configs: []
"""


class PrometheusServer:
    """``/usr/bin/prometheus`` on 127.0.0.1 with a free port, serving ``data_dir``.

    A context manager: entering starts the server and waits for ``/-/ready``; leaving stops it
    (SIGTERM, then SIGKILL). The config (no scrape targets) and the server's log
    (``prometheus.log``) are written into ``data_dir``. Retention is 100 years, so that
    backfilled history of any age stays queryable. Blocks backfilled into ``data_dir`` before
    the start are visible to range queries as soon as the server is ready.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        binary: str = PROMETHEUS_BINARY,
        ready_timeout_seconds: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.binary = binary
        self.ready_timeout_seconds = ready_timeout_seconds
        self.extra_args = tuple(extra_args)
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Prometheus server is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "prometheus.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("the Prometheus server is already started")
        if shutil.which(self.binary) is None:
            raise FileNotFoundError(f"{self.binary} not found (Debian package prometheus)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(_CONFIG, encoding="utf-8")
        for _ in range(3):  # another process may take the free port before Prometheus binds it
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    [
                        self.binary,
                        f"--config.file={config}",
                        f"--web.listen-address=127.0.0.1:{self.port}",
                        f"--storage.tsdb.path={self.data_dir}",
                        "--storage.tsdb.retention.time=100y",
                        *self.extra_args,
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            if "address already in use" not in self._log_tail():
                break
        tail = self._log_tail()
        self.stop()
        raise RuntimeError(f"Prometheus did not become ready; log tail:\n{tail}")

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.ready_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer,
            ):
                if answer.status == 200:
                    return True
            time.sleep(0.1)
        return False

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def replayed_prometheus(
    runs: Sequence[ReplayRun], data_dir: Path | None = None, *, monitoring: str = "OpenShift"
) -> Iterator[PrometheusServer]:
    """A started PrometheusServer holding the apiserver latency history of ``runs``, labelled as
    the ``monitoring`` stack scrapes it (STACK_LABELS).

    Without ``data_dir`` a temporary directory is used and removed afterwards.
    """
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prometheus-")))
        backfill_openmetrics(apiserver_latency_openmetrics(runs, monitoring), data_dir)
        yield stack.enter_context(PrometheusServer(data_dir))


# --------------------------------------------------------------------------------------------
# A recording proxy, to see what a client really sends


@dataclass
class RecordedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]


@dataclass
class HeaderRecordingProxy:
    """An HTTP proxy on 127.0.0.1 that records each request, then forwards it to ``upstream``.

    For tests only: it keeps request headers (credentials included) in memory. A context
    manager; ``.url`` is where clients should point, ``.requests`` what they sent. ``port``: a
    given one (0: any free one). ``refuse``: an HTTP status (401, 403) to answer every request
    with instead of forwarding it, as kube-rbac-proxy in front of thanos-querier answers a
    token it does not accept; may be changed while the proxy runs.
    """

    upstream: str
    port: int = 0
    refuse: int | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.requests.append(
                    RecordedRequest(self.command, self.path, dict(self.headers.items()))
                )
                if proxy.refuse is not None:
                    refused = b"Forbidden" if proxy.refuse == 403 else b"Unauthorized"
                    self.send_response(proxy.refuse)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(refused)))
                    self.end_headers()
                    self.wfile.write(refused)
                    return
                upstream = urllib.request.Request(
                    proxy.upstream.rstrip("/") + self.path, data=body, method=self.command
                )
                if self.headers.get("Content-Type"):
                    upstream.add_header("Content-Type", self.headers["Content-Type"])
                try:
                    with urllib.request.urlopen(upstream, timeout=30) as answer:
                        status, content = answer.status, answer.read()
                        kind = answer.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as failed:
                    status, content = failed.code, failed.read()
                    kind = failed.headers.get("Content-Type", "application/json")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _forward
            do_POST = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep recorded credentials out of stderr

        return Forward

    def __enter__(self) -> HeaderRecordingProxy:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


__all__ = [
    "APISERVER_LATENCY_BUCKETS",
    "APISERVER_LATENCY_METRIC",
    "LEAD_SECONDS",
    "PROMETHEUS_BINARY",
    "PROMTOOL_BINARY",
    "SCRAPE_INTERVAL_SECONDS",
    "HeaderRecordingProxy",
    "PrometheusServer",
    "RecordedRequest",
    "ReplayRun",
    "apiserver_latency_openmetrics",
    "backfill_openmetrics",
    "below",
    "free_port",
    "gauge_openmetrics",
    "replayed_prometheus",
]
