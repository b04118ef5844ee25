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
