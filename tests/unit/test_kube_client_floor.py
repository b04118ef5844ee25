"""What pyproject's kubernetes floor (>=37) stands for: ClusterApi's PerfRun lists pass `_headers=`
(None, or the metadata-only Accept), and the client must send a given Accept unchanged.

kubernetes 35.0.0 refuses `_headers` (ApiTypeError); 36.0.0 takes it but fails on None
(`dict(None)`) and overwrites Accept with application/json (kubernetes/client/api/
custom_objects_api.py of each wheel). Here the real client talks to a recording server on
127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes
import pytest
from local_server import serving

from perftest_operator.kube.api import METADATA_LIST_ACCEPT, ClusterApi


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Accept", "")))
        body = json.dumps({"kind": "List", "items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[ClusterApi, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        host = f"http://127.0.0.1:{server.server_port}"
        configuration = kubernetes.client.Configuration(host=host)
        yield ClusterApi(kubernetes.client.ApiClient(configuration), request_timeout=(5, 5)), seen


def test_whole_list_and_metadata_list_send_their_accept_headers(
    api: tuple[ClusterApi, list[tuple[str, str]]],
) -> None:
    kube, seen = api
    assert kube.list_perfruns("team-a", "nightly") == []  # _headers=None
    assert kube.list_perfrun_metadata("team-a", "nightly") == []
    (whole_path, whole_accept), (metadata_path, metadata_accept) = seen
    assert (
        whole_path.startswith("/apis/perftest.dev/") and "/namespaces/team-a/perfruns" in whole_path
    )
    assert metadata_path == whole_path
    assert whole_accept == "application/json"
    assert metadata_accept == METADATA_LIST_ACCEPT
