"""The three ways the operator lists a test's PerfRuns, against the API (emulator or a cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from localstack.cluster import Cluster
from perftest_operator.api.perfrun import (
    FINISHED_LABEL,
    TEST_LABEL,
    Trigger,
    build_perfrun,
    next_run_number,
)
from perftest_operator.kube.api import ClusterApi

LONG = "a" * 60 + "-long-test"  # the test label holds only its first 63 characters


@pytest.fixture()
def hub(cluster: Cluster, namespace: str) -> ClusterApi:
    return ClusterApi(cluster.api_client())


def perftest(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "perftest.dev/v1alpha1",
        "kind": "PerfTest",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": 1},
        "spec": {},
    }


def create_runs(hub: ClusterApi, namespace: str, test: str, count: int) -> list[str]:
    names = []
    for number in range(1, count + 1):
        body = build_perfrun(perftest(namespace, test), number, Trigger.MANUAL, f"t-{number}")
        run, created = hub.create_perfrun(body)
        assert created
        names.append(str(run["metadata"]["name"]))
    return names


def test_metadata_and_unfinished_lists_agree_with_the_whole_history(
    hub: ClusterApi, namespace: str
) -> None:
    runs = create_runs(hub, namespace, "nightly", 3)
    create_runs(hub, namespace, "other", 2)
    hub.patch_perfrun_metadata(namespace, runs[0], {"labels": {FINISHED_LABEL: "true"}})

    whole = hub.list_perfruns(namespace, "nightly")
    metadata = hub.list_perfrun_metadata(namespace, "nightly")
    unfinished = hub.list_unfinished_perfruns(namespace, "nightly")

    assert sorted(r["metadata"]["name"] for r in whole) == sorted(runs)
    assert sorted(r["metadata"]["name"] for r in metadata) == sorted(runs)
    assert all("status" not in r and "spec" not in r for r in metadata), "metadata only"
    assert next_run_number(metadata) == next_run_number(whole) == 4
    assert sorted(r["metadata"]["name"] for r in unfinished) == sorted(runs[1:])
    assert all(r["spec"]["testName"] == "nightly" for r in unfinished)


def test_tests_whose_names_share_the_label_are_told_apart(hub: ClusterApi, namespace: str) -> None:
    long_runs = create_runs(hub, namespace, LONG, 2)
    twin = LONG.replace("-long-test", "-long-twin")
    twin_runs = create_runs(hub, namespace, twin, 1)
    labels = {
        (hub.get_perfrun(namespace, name) or {})["metadata"]["labels"][TEST_LABEL]
        for name in long_runs + twin_runs
    }
    assert len(labels) == 1, "both tests' runs carry the same cut label"

    for listing in (hub.list_perfruns, hub.list_perfrun_metadata, hub.list_unfinished_perfruns):
        assert sorted(r["metadata"]["name"] for r in listing(namespace, LONG)) == sorted(long_runs)
        assert [r["metadata"]["name"] for r in listing(namespace, twin)] == twin_runs
