"""Events the operator posts: shape, involved object, bounded message."""

from __future__ import annotations

import datetime

from perftest_operator.events import MAX_MESSAGE, build_event

NOW = datetime.datetime(2025, 1, 20, 8, 0, tzinfo=datetime.UTC)
TEST = {
    "apiVersion": "perftest.dev/v1alpha1",
    "kind": "PerfTest",
    "metadata": {"name": "api-latency", "namespace": "perf", "uid": "u-1"},
}


def test_event_names_the_object_and_is_unique() -> None:
    first = build_event(
        TEST, "Warning", "RegressionDetected", "readOnlyAPICallsLatency +304.5%", now=NOW
    )
    second = build_event(
        TEST, "Warning", "RegressionDetected", "readOnlyAPICallsLatency +304.5%", now=NOW
    )
    assert first["involvedObject"] == {
        "apiVersion": "perftest.dev/v1alpha1",
        "kind": "PerfTest",
        "name": "api-latency",
        "namespace": "perf",
        "uid": "u-1",
    }
    assert (first["type"], first["reason"]) == ("Warning", "RegressionDetected")
    assert first["metadata"]["namespace"] == "perf"
    assert first["metadata"]["name"].startswith("api-latency.")
    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert first["firstTimestamp"] == first["lastTimestamp"] == "2025-01-20T08:00:00Z"


def test_long_messages_are_cut() -> None:
    event = build_event(TEST, "Normal", "RunSucceeded", "x" * 5000, now=NOW)
    assert len(event["message"]) == MAX_MESSAGE


def test_an_event_about_one_happening_has_one_name() -> None:
    def name(reason: str, once: str, involved: dict = TEST) -> str:
        return str(
            build_event(involved, "Normal", reason, "m", now=NOW, once=once)["metadata"]["name"]
        )

    # The same happening posted again (a step repeated after a restart) has the same name, so
    # the API refuses the copy; another run, reason or object gives another name.
    assert name("RunSucceeded", "api-latency-3") == name("RunSucceeded", "api-latency-3")
    assert name("RunSucceeded", "api-latency-3") != name("RunSucceeded", "api-latency-4")
    assert name("RunSucceeded", "api-latency-3") != name("RunStarted", "api-latency-3")
    run = {**TEST, "kind": "PerfRun"}
    assert name("RunSucceeded", "api-latency-3") != name("RunSucceeded", "api-latency-3", run)
    long_object = {**TEST, "metadata": {**TEST["metadata"], "name": "x" * 253}}
    assert len(name("RunSucceeded", "r", long_object)) <= 253
