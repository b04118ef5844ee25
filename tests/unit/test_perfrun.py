"""PerfRun identity: triggers from kopf diffs, idempotent trigger labels, names, the object."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest

from perftest_operator.api.perfrun import (
    RUN_NUMBER_LABEL,
    Confirmation,
    JobRef,
    Trigger,
    build_perfrun,
    next_run_number,
    parse_perfrun,
    perfrun_name,
    trigger_from_diff,
    trigger_id,
)
from perftest_operator.api.spec import SecretKeyRef

TEST = {"metadata": {"name": "api-latency", "namespace": "perf", "uid": "u-1", "generation": 3}}


@pytest.mark.parametrize(
    ("diff", "trigger"),
    [
        ([("change", ("spec", "workload", "iterations"), 9, 10)], Trigger.SPEC_CHANGED),
        (
            [("add", ("metadata", "annotations", "perftest.dev/run-now"), None, "1")],
            Trigger.RUN_NOW,
        ),
        (
            [("change", ("metadata", "annotations", "perftest.dev/run-now"), "1", "2")],
            Trigger.RUN_NOW,
        ),
        (
            [("add", ("metadata", "annotations"), None, {"perftest.dev/run-now": "x"})],
            Trigger.RUN_NOW,
        ),
        (
            [("add", ("metadata",), None, {"annotations": {"perftest.dev/run-now": "x"}})],
            Trigger.RUN_NOW,
        ),
        ([("add", ("metadata",), None, {"annotations": {"other": "x"}})], None),
        (
            [
                (
                    "change",
                    ("metadata", "annotations"),
                    {"perftest.dev/run-now": "x"},
                    {"perftest.dev/run-now": "x", "a": "b"},
                )
            ],
            None,
        ),
        ([("remove", ("metadata", "annotations", "perftest.dev/run-now"), "1", None)], None),
        ([("change", ("metadata", "labels", "team"), "a", "b")], None),
        ([], None),
    ],
)
def test_trigger_from_diff(diff: list[tuple[object, ...]], trigger: Trigger | None) -> None:
    assert trigger_from_diff(diff) is trigger


def test_trigger_ids_are_stable_and_distinct() -> None:
    assert trigger_id(Trigger.CREATED, generation=1, run_now=None) == "created"
    assert trigger_id(Trigger.SPEC_CHANGED, generation=7, run_now=None) == "generation-7"
    first = trigger_id(Trigger.RUN_NOW, generation=1, run_now="2025-01-17")
    assert first == trigger_id(Trigger.RUN_NOW, generation=9, run_now="2025-01-17")
    assert first != trigger_id(Trigger.RUN_NOW, generation=1, run_now="2025-01-18")
    assert len(first) <= 63


# Kubernetes' label value syntax (at most 63 characters, checked separately).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
SLOT = datetime.datetime(2025, 11, 17, 2, 0, tzinfo=datetime.UTC)


def test_a_scheduled_run_is_named_by_its_slot_in_utc() -> None:
    assert trigger_id(Trigger.SCHEDULED, generation=1, run_now=None, scheduled_at=SLOT) == (
        "schedule-20251117t020000z"
    )
    berlin = SLOT.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))  # 03:00 local
    assert trigger_id(Trigger.SCHEDULED, generation=4, run_now=None, scheduled_at=berlin) == (
        "schedule-20251117t020000z"
    )


def test_new_version_retry_and_confirm_ids_are_stable_and_distinct() -> None:
    def ids(*, version: str, retry_of: str, confirms: str, attempt: int) -> list[str]:
        return [
            trigger_id(Trigger.NEW_VERSION, generation=1, run_now=None, version=version),
            trigger_id(
                Trigger.RETRY, generation=1, run_now=None, retry_of=retry_of, attempt=attempt
            ),
            trigger_id(
                Trigger.CONFIRM, generation=1, run_now=None, confirms=confirms, attempt=attempt
            ),
        ]

    first = ids(version="4.19.0-0.nightly-2025-01-16", retry_of="t-7", confirms="t-7", attempt=1)
    assert first == ids(
        version="4.19.0-0.nightly-2025-01-16", retry_of="t-7", confirms="t-7", attempt=1
    )
    assert [value.split("-")[0] for value in first] == ["version", "retry", "confirm"]
    other_version = ids(
        version="4.19.0-0.nightly-2025-01-17", retry_of="t-7", confirms="t-7", attempt=1
    )
    assert other_version[0] != first[0]
    other_attempt = ids(version="v", retry_of="t-7", confirms="t-7", attempt=2)
    assert other_attempt[1:] != first[1:]
    assert [value.endswith("-2") for value in other_attempt[1:]] == [True, True]
    other_run = ids(version="v", retry_of="t-8", confirms="t-8", attempt=1)
    assert other_run[1] != first[1] and other_run[2] != first[2]


@pytest.mark.parametrize(
    ("trigger", "kwargs"),
    [
        (Trigger.CREATED, {}),
        (Trigger.SPEC_CHANGED, {"generation": 2**63 - 1}),
        (Trigger.RUN_NOW, {"run_now": "x" * 1000}),
        (Trigger.MANUAL, {}),
        (Trigger.SCHEDULED, {"scheduled_at": SLOT}),
        (Trigger.NEW_VERSION, {"version": "4.19.0-0.nightly-2025-01-17-000000 / rc." * 20}),
        (Trigger.RETRY, {"retry_of": "a" * 253, "attempt": 10}),
        (Trigger.CONFIRM, {"confirms": "a" * 253, "attempt": 5}),
    ],
)
def test_every_trigger_id_is_a_valid_label_value(
    trigger: Trigger, kwargs: dict[str, object]
) -> None:
    arguments: dict[str, object] = {"generation": 1, "run_now": None, **kwargs}
    value = trigger_id(trigger, **arguments)  # type: ignore[arg-type]
    assert len(value) <= 63
    assert LABEL_VALUE.match(value), value


@pytest.mark.parametrize(
    ("trigger", "missing"),
    [
        (Trigger.SCHEDULED, "scheduled_at"),
        (Trigger.NEW_VERSION, "version"),
        (Trigger.RETRY, "retry_of"),
        (Trigger.CONFIRM, "confirms"),
    ],
)
def test_a_trigger_without_what_it_is_named_by_is_an_error(trigger: Trigger, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        trigger_id(trigger, generation=1, run_now=None)


def test_a_naive_scheduled_time_is_an_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trigger_id(
            Trigger.SCHEDULED,
            generation=1,
            run_now=None,
            scheduled_at=datetime.datetime(2025, 11, 17, 2),
        )


def test_next_run_number_follows_the_highest_existing_one() -> None:
    runs = [{"metadata": {"labels": {"perftest.dev/run-number": n}}} for n in ("3", "12", "x")]
    assert next_run_number(runs) == 13
    assert next_run_number([]) == 1


def test_long_test_names_still_give_valid_distinct_run_names() -> None:
    long_a, long_b = "a" * 250, "a" * 249 + "b"
    assert perfrun_name("api-latency", 4) == "api-latency-4"
    assert len(perfrun_name(long_a, 1234)) <= 253
    assert perfrun_name(long_a, 1) != perfrun_name(long_b, 1)


def test_perfrun_is_owned_by_and_labelled_for_its_test() -> None:
    run = build_perfrun(TEST, 4, Trigger.RUN_NOW, "run-now-abc")
    assert run["metadata"]["name"] == "api-latency-4"
    assert run["metadata"]["namespace"] == "perf"
    assert run["metadata"]["labels"]["perftest.dev/test"] == "api-latency"
    assert run["metadata"]["labels"]["perftest.dev/run-number"] == "4"
    assert run["metadata"]["labels"]["perftest.dev/trigger"] == "run-now-abc"
    [owner] = run["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "PerfTest",
        "api-latency",
        "u-1",
        True,
    )
    assert run["spec"] == {"testName": "api-latency", "trigger": "RunNow", "testGeneration": 3}


def test_a_retry_and_a_confirming_run_name_the_run_they_are_for() -> None:
    retry = build_perfrun(TEST, 5, Trigger.RETRY, "retry-x-1", retry_of="api-latency-4")
    assert retry["spec"] == {
        "testName": "api-latency",
        "trigger": "Retry",
        "testGeneration": 3,
        "retryOf": "api-latency-4",
    }
    confirm = build_perfrun(TEST, 6, Trigger.CONFIRM, "confirm-x-1", confirms="api-latency-4")
    assert confirm["spec"]["confirms"] == "api-latency-4"
    assert "retryOf" not in confirm["spec"]


def test_a_perfrun_is_created_with_the_finalizer_it_is_given_only() -> None:
    run = build_perfrun(TEST, 4, Trigger.RUN_NOW, "run-now-abc", finalizer="perftest.dev/finalizer")
    assert run["metadata"]["finalizers"] == ["perftest.dev/finalizer"]
    plain = build_perfrun(TEST, 4, Trigger.RUN_NOW, "run-now-abc")
    assert "finalizers" not in plain["metadata"]
    assert {**plain["metadata"], "finalizers": ["perftest.dev/finalizer"]} == run["metadata"]


def test_the_typed_view_of_a_perfrun_reads_what_the_controller_needs() -> None:
    obj = {
        "metadata": {
            "name": "nightly-3",
            "namespace": "perf",
            "uid": "u-3",
            "generation": 2,
            "resourceVersion": "41",
            "labels": {RUN_NUMBER_LABEL: "3"},
        },
        "spec": {"testName": "nightly", "retryOf": "nightly-2", "confirms": "nightly-1"},
        "status": {
            "reason": "JobRunning",
            "startTime": "2025-01-01T03:00:00Z",
            "values": {"latency": 0.98},
            "collectAttempts": 2,
            "job": {
                "name": "nightly-3",
                "namespace": "bench",
                "kubeconfigSecretRef": {"name": "prod", "key": "kubeconfig"},
            },
            "configMap": "nightly-3",
            "confirmation": {"state": "NotConfirmed", "runs": ["nightly-4"], "metrics": ["x"]},
        },
    }
    run = parse_perfrun(obj)
    assert (run.namespace, run.name, run.uid, run.generation) == ("perf", "nightly-3", "u-3", 2)
    assert (run.test_name, run.number, run.resource_version) == ("nightly", 3, "41")
    assert (run.retry_of, run.confirms, run.reason) == ("nightly-2", "nightly-1", "JobRunning")
    assert (run.start_time, run.completion_time) == ("2025-01-01T03:00:00Z", None)
    assert run.values == {"latency": 0.98} and run.collect_attempts == 2
    assert run.job == JobRef("nightly-3", "bench", SecretKeyRef(name="prod", key="kubeconfig"))
    assert run.config_map == "nightly-3"
    assert run.confirmation == Confirmation("NotConfirmed", ("nightly-4",), ("x",))
    assert run.obj is obj


def test_a_new_perfrun_reads_as_absent_fields_not_errors() -> None:
    run = parse_perfrun({"metadata": {"name": "n-1", "labels": {RUN_NUMBER_LABEL: "x"}}})
    assert (run.generation, run.number, run.job, run.confirmation) == (1, None, None, None)
    assert (run.conditions, run.values, run.collect_attempts, run.verdict) == ((), {}, 0, None)
    odd = parse_perfrun({"metadata": {"name": "n-1"}, "status": {"job": "gone", "values": [1]}})
    assert (odd.job, odd.values) == (None, {})


def test_a_run_with_a_new_status_is_read_again() -> None:
    run = parse_perfrun({"metadata": {"name": "n-1"}, "status": {"reason": "JobRunning"}})
    moved = run.with_status({"reason": "Collected", "job": {"name": "n-1", "namespace": "b"}})
    assert (moved.reason, moved.job) == ("Collected", JobRef("n-1", "b"))
    assert run.reason == "JobRunning"  # the view is frozen
