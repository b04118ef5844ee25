"""`perftest run --peering`: kopf peering for several replicas, standalone without it."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import kopf
import pytest

from perftest_operator.cli import main, peering_options, startup_priority
from perftest_operator.kube.api_client import HubClient, from_environment

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: local, user: {}}]
contexts: [{name: local, context: {cluster: local, user: local}}]
current-context: local
"""


def epoch_ns(*when: int) -> int:
    return int(datetime.datetime(*when, tzinfo=datetime.UTC).timestamp() * 1e9)  # type: ignore[misc]


def test_the_replica_that_started_first_has_the_higher_priority() -> None:
    first = epoch_ns(2025, 1, 20, 3, 0, 0)
    assert startup_priority(first) > startup_priority(first + 1_000)  # a microsecond later
    assert startup_priority(first) > startup_priority(first + 3_600 * 10**9)


def test_priorities_stay_positive_and_exact_in_json_for_this_century() -> None:
    for year in (2020, 2099):
        priority = startup_priority(epoch_ns(year, 12, 31))
        assert 0 < priority < 2**53
        assert float(priority) == priority


def test_without_peering_the_operator_runs_standalone() -> None:
    assert peering_options(None, None, started_ns=0) == {"standalone": True}


def test_with_peering_it_is_mandatory_and_prioritised() -> None:
    started = epoch_ns(2025, 1, 20)
    assert peering_options("perftest-operator", None, started_ns=started) == {
        "standalone": False,
        "peering_name": "perftest-operator",
        "priority": startup_priority(started),
    }
    assert peering_options("perftest-operator", 7, started_ns=started)["priority"] == 7


@pytest.fixture
def recorded_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[list[dict[str, Any]], Path]:
    """kopf.run replaced by a recorder; the kubeconfig points at a closed local port."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(kopf, "run", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(kopf, "configure", lambda **_: None)
    monkeypatch.setenv("KUBECONFIG", "")  # command_run sets it; monkeypatch restores it
    for name in list(os.environ):
        if name.startswith("PERFTEST_"):
            monkeypatch.delenv(name)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    assert isinstance(from_environment(str(kubeconfig)), HubClient)
    return calls, kubeconfig


def test_run_passes_peering_to_kopf(recorded_run: tuple[list[dict[str, Any]], Path]) -> None:
    calls, kubeconfig = recorded_run
    assert main(["run", "--kubeconfig", str(kubeconfig), "--peering", "perftest-operator"]) == 0
    (call,) = calls
    assert call["standalone"] is False
    assert call["peering_name"] == "perftest-operator"
    assert isinstance(call["priority"], int) and call["priority"] > 0
    assert call["clusterwide"] is True


def test_run_without_peering_stays_standalone(
    recorded_run: tuple[list[dict[str, Any]], Path],
) -> None:
    calls, kubeconfig = recorded_run
    assert main(["run", "--kubeconfig", str(kubeconfig), "-n", "perf"]) == 0
    (call,) = calls
    assert call["standalone"] is True
    assert "peering_name" not in call and "priority" not in call
    assert call["namespaces"] == ("perf",)


def test_priority_without_peering_is_refused(
    recorded_run: tuple[list[dict[str, Any]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    calls, kubeconfig = recorded_run
    assert main(["run", "--kubeconfig", str(kubeconfig), "--priority", "5"]) == 1
    assert "--priority needs --peering" in capsys.readouterr().err
    assert calls == []
