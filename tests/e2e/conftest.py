"""End-to-end fixtures: the real operator process, a replayed Prometheus, the simulated Job controller."""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import Callable, Iterator

import pytest

from localstack.cluster import Cluster
from localstack.objects import Kube
from localstack.operator_process import OperatorProcess
from localstack.prometheus import ReplayRun, replayed_prometheus
from localstack.story import story_runs

OPERATOR_ENV = {
    "PERFTEST_POLL_INTERVAL": "0.3",
    "PERFTEST_COLLECT_BACKOFF": "0.5",
    "PERFTEST_COLLECT_BACKOFF_MAX": "2",
    "PERFTEST_MISSING_METRIC_ATTEMPTS": "2",
}


@pytest.fixture()
def kube(cluster: Cluster, namespace: str) -> Kube:
    return Kube(cluster.api_client(), namespace)


@pytest.fixture(scope="session")
def replay() -> list[ReplayRun]:
    return story_runs(now=datetime.datetime.now(datetime.UTC))


@pytest.fixture(scope="session")
def prometheus_url(
    replay: list[ReplayRun], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Prometheus server holding the replayed nightly history."""
    with replayed_prometheus(replay, tmp_path_factory.mktemp("prometheus")) as server:
        yield server.url


@pytest.fixture()
def start_operator(
    cluster: Cluster, namespace: str, tmp_path: pathlib.Path
) -> Iterator[Callable[..., OperatorProcess]]:
    """Start `perftest run` watching the test's namespace; stopped at the end of the test."""
    started: list[OperatorProcess] = []

    def start(**env: str) -> OperatorProcess:
        process = OperatorProcess(
            cluster.kubeconfig,
            tmp_path / f"operator-{len(started)}.log",
            namespaces=[namespace],
            env={**OPERATOR_ENV, **env},
        )
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {process.log_path} (tail) ---\n{process.log_text()[-6000:]}")
