"""While a PerfTest is Ready=False no run starts: neither a due schedule slot nor a PerfRun's Job
(the controller steps against the API: the emulator, or a cluster)."""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

import pytest

from localstack.cluster import Cluster
from localstack.objects import Kube
from perftest_operator.api.conditions import FALSE, TRUE, format_time
from perftest_operator.api.perfrun import Trigger, build_perfrun
from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import Settings
from perftest_operator.api.status import Reason, RunPhase
from perftest_operator.controller.context import Context
from perftest_operator.controller.perfruns import advance_run
from perftest_operator.controller.perftests import sync_test_status
from perftest_operator.controller.triggers import tick_test
from perftest_operator.kube.api import ClusterApi

NOT_READY = (FALSE, Reason.PROMETHEUS_UNREACHABLE.value, "spec.prometheus.url: refused")
READY = (TRUE, Reason.SPEC_VALID.value, "the spec is valid")


@pytest.fixture()
def kube(cluster: Cluster, namespace: str) -> Kube:
    kube = Kube(cluster.api_client(), namespace)
    kube.create_service_account("perftest-kube-burner")
    return kube


def context(kube: Kube, **settings: Any) -> Context:
    return Context(
        api=ClusterApi(kube.api_client),
        settings=Settings(**{"policy": RunPolicy(local_runs=True), **settings}),
    )


def create_test(kube: Kube, name: str, **spec: Any) -> dict[str, Any]:
    return kube.create_perftest(
        {
            "metadata": {"name": name},
            "spec": {
                "workload": {"name": "node-density"},
                "prometheus": {"url": "http://127.0.0.1:9"},
                **spec,
            },
        }
    )


def test_a_due_slot_waits_while_the_test_is_not_ready_and_starts_once_it_is(
    kube: Kube, tmp_path: pathlib.Path
) -> None:
    clock = tmp_path / "now"
    # An hour after creation: the slot at the full hour (or the one before) is due.
    clock.write_text(format_time(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)))
    ctx = context(kube, clock_file=str(clock))
    create_test(kube, "nightly", schedule="*/30 * * * *")
    sync_test_status(ctx, kube.namespace, "nightly", ready=NOT_READY)

    tick_test(ctx.for_step(), kube.get("perftests", "nightly") or {})
    test = kube.get("perftests", "nightly") or {}
    assert kube.perfruns() == []
    assert "lastScheduleTime" not in test["status"], "the slot is still due"

    sync_test_status(ctx, kube.namespace, "nightly", ready=READY)
    tick_test(ctx.for_step(), kube.get("perftests", "nightly") or {})
    [run] = kube.perfruns()
    assert run["spec"]["trigger"] == Trigger.SCHEDULED.value
    assert (kube.get("perftests", "nightly") or {})["status"]["lastScheduleTime"]


def test_a_run_made_before_waits_for_its_test_without_a_job(kube: Kube) -> None:
    """A retry, a confirmation or a PerfRun made by hand: Pending, saying why, and no Job."""
    ctx = context(kube)
    test = create_test(kube, "api")
    sync_test_status(ctx, kube.namespace, "api", ready=NOT_READY)
    run, _ = ctx.api.create_perfrun(build_perfrun(test, 1, Trigger.MANUAL, "by-hand"))
    name = run["metadata"]["name"]

    for _ in range(2):  # a second tick writes nothing new
        assert advance_run(ctx, kube.namespace, name) is RunPhase.PENDING
    status = (kube.get("perfruns", name) or {})["status"]
    assert status["reason"] == Reason.TEST_NOT_READY.value
    assert Reason.PROMETHEUS_UNREACHABLE.value in status["message"]
    assert kube.jobs() == []

    sync_test_status(ctx, kube.namespace, "api", ready=READY)
    assert advance_run(ctx, kube.namespace, name) is RunPhase.RUNNING
    [job] = kube.jobs()
    assert job.spec.template.spec.service_account_name == "perftest-kube-burner"
