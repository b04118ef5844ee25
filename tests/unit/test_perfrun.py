"""PerfRun identity: triggers from kopf diffs, idempotent trigger labels, names, the object."""

from __future__ import annotations

import pytest

from perftest_operator.api.perfrun import (
    Trigger,
    build_perfrun,
    next_run_number,
    perfrun_name,
    trigger_from_diff,
    trigger_id,
)

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
