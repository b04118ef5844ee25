"""Serves the operator's metrics over HTTP on /metrics, in a thread of its own (I/O)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from prometheus_client import start_http_server

from perftest_operator.telemetry.metrics import OperatorMetrics


@dataclass(frozen=True)
class MetricsServer:
    """A running metrics endpoint: where it listens, and how to stop it."""

    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(metrics: OperatorMetrics, host: str, port: int) -> MetricsServer:
    """Start serving `metrics` on http://HOST:PORT/metrics (port 0: any free port).

    Only the operator's own registry is served. The server thread is a daemon: it ends with
    the process.
    """
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    return MetricsServer(host=host, port=int(server.server_port), _server=server, _thread=thread)
