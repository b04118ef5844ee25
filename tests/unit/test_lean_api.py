"""The client's API groups as ClusterApi calls them, with the installed kubernetes client against a
server on 127.0.0.1: unchecked calls send what the client's checked methods send (workarounds 2),
and every call has a timeout, so a hung API server fails it instead of holding a worker."""

from __future__ import annotations

import http.server
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest
import urllib3
from local_server import serving

from perftest_operator.kube.api import ClusterApi
from perftest_operator.kube.api_client import REQUEST_TIMEOUT, ApiGroup
from perftest_operator.workarounds import unchecked_method

CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "run-1", "namespace": "perf", "labels": {"app": "kube-burner"}},
    "data": {"config.yml": "jobs: []\n"},
}
STATUS = {"metadata": {"resourceVersion": "7"}, "status": {"phase": "Analyzing", "values": {}}}


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request with an empty JSON object, keeping what was asked."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "content-type": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
                "body": json.loads(body) if body else None,
            }
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with serving(Recorder()) as server:
        yield server


def client_of(url: str) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    configuration.host = url
    return kubernetes.client.ApiClient(configuration)


CORE, CUSTOM = kubernetes.client.CoreV1Api, kubernetes.client.CustomObjectsApi
# (client group, method, how ClusterApi calls it, the body the API server must receive)
CALLS: list[tuple[Any, str, Callable[[Any], Any], Any]] = [
    (
        CORE,
        "create_namespaced_config_map",
        lambda method: method("perf", dict(CONFIG_MAP), _preload_content=False),
        CONFIG_MAP,
    ),
    (
        CUSTOM,
        "patch_namespaced_custom_object_status",
        lambda method: method(
            "perftest.dev", "v1alpha1", "perf", "perfruns", "run-1", STATUS, _preload_content=False
        ),
        STATUS,
    ),
    (
        CUSTOM,
        "list_namespaced_custom_object",
        lambda method: method(
            "perftest.dev",
            "v1alpha1",
            "perf",
            "perfruns",
            label_selector="perftest.dev/test=nightly",
            _headers={"Accept": "application/json;as=PartialObjectMetadataList"},
            _preload_content=False,
        ),
        None,
    ),
]


@pytest.mark.parametrize(("group_class", "name", "call", "body"), CALLS, ids=[c[1] for c in CALLS])
def test_an_unchecked_call_sends_what_the_clients_checked_method_sends(
    recorder: Recorder, group_class: Any, name: str, call: Callable[[Any], Any], body: Any
) -> None:
    group = group_class(client_of(f"http://127.0.0.1:{recorder.server_address[1]}"))
    # What the shortcut relies on: the installed client wraps the method in pydantic's
    # validate_call, which keeps the undecorated function.
    assert callable(getattr(getattr(group_class, name), "raw_function", None)), (
        f"kubernetes {kubernetes.__version__}: {group_class.__name__}.{name} has no raw_function"
    )

    call(getattr(group, name))  # the client's own, checked path
    call(unchecked_method(group, name))
    call(getattr(ApiGroup(group, (5.0, 30.0)), name))  # how ClusterApi calls it

    checked, unchecked, grouped = recorder.requests
    assert checked["body"] == body
    assert unchecked == checked
    assert grouped == checked


def test_a_method_without_pydantic_checks_is_called_as_it_is() -> None:
    class Plain:
        def version(self) -> str:
            return "v1"

    assert unchecked_method(Plain(), "version")() == "v1"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A 127.0.0.1 port whose connections are accepted (by the kernel) and never answered."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.get_perftest("perf", "nightly"),  # a custom object
        lambda api: api.create_event({"metadata": {"namespace": "perf"}}),  # core
        lambda api: api.server_version(),  # /version
    ],
    ids=["custom", "core", "version"],
)
def test_a_call_to_an_api_server_that_never_answers_fails_after_its_timeout(
    silent_server: str, call: Callable[[ClusterApi], Any]
) -> None:
    api = ClusterApi(client_of(silent_server), request_timeout=(0.2, 0.2))
    started = time.monotonic()
    # urllib3 tries a GET 4 times (its default Retry(3)), a POST once.
    with pytest.raises((urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.MaxRetryError)):
        call(api)
    assert time.monotonic() - started < 5.0


def test_every_client_has_a_timeout_the_hubs_too() -> None:
    # The hub's client is built as cli.command_run builds it: ClusterApi(hub.api_client).
    api = ClusterApi(client_of("http://127.0.0.1:1"))
    assert api.request_timeout == REQUEST_TIMEOUT
    assert all(0 < seconds < 60 for seconds in REQUEST_TIMEOUT)
