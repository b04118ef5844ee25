"""Finished PerfRuns leave the operator's watch; a finished hub Job moves its run on at once."""

from __future__ import annotations

import threading
from typing import Any

import kopf
import pytest
from registered import registered_handlers

from localstack.emulator.object_selectors import parse_label_selector
from perftest_operator import FINALIZER
from perftest_operator.api.perfrun import (
    FINISHED_LABEL,
    UNFINISHED_RUNS_SELECTOR,
    Trigger,
    build_perfrun,
    finished_run_metadata,
)
from perftest_operator.api.spec import parse_perftest_spec
from perftest_operator.api.status import RunCondition
from perftest_operator.controller.context import RunLocks
from perftest_operator.controller.job_events import run_of_finished_job
from perftest_operator.runner.manifests import (
    RUN_NAME_ANNOTATION,
    RUN_NAMESPACE_ANNOTATION,
    build_job,
)
from perftest_operator.runner.refs import RunRef


def run(labels: dict[str, str], finalizers: list[str]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "nightly-7",
            "namespace": "team-a",
            "resourceVersion": "42",
            "labels": labels,
            "finalizers": finalizers,
        },
        "status": {"phase": "Succeeded"},
    }


def test_a_finished_run_is_labelled_and_loses_only_kopfs_finalizer() -> None:
    patch = finished_run_metadata(
        run({"perftest.dev/test": "nightly"}, ["example.com/keep", FINALIZER]), FINALIZER
    )
    assert patch == {
        "labels": {FINISHED_LABEL: "true"},
        "resourceVersion": "42",
        "finalizers": ["example.com/keep"],
    }


def test_a_run_without_kopfs_finalizer_keeps_its_finalizers_untouched() -> None:
    patch = finished_run_metadata(run({}, ["example.com/keep"]), FINALIZER)
    assert patch is not None and "finalizers" not in patch


def test_a_marked_run_needs_no_patch() -> None:
    assert finished_run_metadata(run({FINISHED_LABEL: "true"}, [FINALIZER]), FINALIZER) is None


def test_the_watch_selector_keeps_every_run_until_it_is_marked_finished() -> None:
    """The selector, applied as the API server applies it (the emulator's parser): a run made by
    hand or by the operator is watched from the start; the patch that marks it ends that."""
    selector = parse_label_selector(UNFINISHED_RUNS_SELECTOR)
    by_hand = run({}, [])
    assert selector.matches(by_hand["metadata"]["labels"])
    spec = {"workload": {"name": "node-density"}, "prometheus": {"url": "http://127.0.0.1:9090"}}
    test = {"metadata": {"name": "nightly", "namespace": "team-a", "uid": "u-1", "generation": 1}}
    built = build_perfrun({**test, "spec": spec}, 7, Trigger.SCHEDULED, "label")
    assert selector.matches(built["metadata"]["labels"])
    patch = finished_run_metadata(run(built["metadata"]["labels"], [FINALIZER]), FINALIZER)
    assert patch is not None
    assert not selector.matches({**built["metadata"]["labels"], **patch["labels"]})


def job(conditions: list[dict[str, str]], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "nightly-7", "namespace": "bench", "annotations": annotations},
        "status": {"startTime": "2026-11-28T10:00:00Z", "conditions": conditions},
    }


OURS = {RUN_NAMESPACE_ANNOTATION: "team-a", RUN_NAME_ANNOTATION: "nightly-7"}
COMPLETE = [{"type": "Complete", "status": "True"}]
FAILED = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]


def test_a_finished_job_names_its_run() -> None:
    assert run_of_finished_job(job(COMPLETE, OURS)) == ("team-a", "nightly-7")
    assert run_of_finished_job(job(FAILED, OURS)) == ("team-a", "nightly-7")


def test_a_running_job_or_one_without_annotations_names_none() -> None:
    assert run_of_finished_job(job([], OURS)) is None
    assert run_of_finished_job(job(COMPLETE, {RUN_NAMESPACE_ANNOTATION: "team-a"})) is None


def test_a_job_the_builder_made_leads_back_to_its_run() -> None:
    spec = parse_perftest_spec(
        {
            "target": {"namespace": "bench"},  # the Job in another namespace than the run
            "workload": {"name": "cluster-density-v2", "iterations": 9},
            "prometheus": {"url": "http://127.0.0.1:9090"},
        }
    )
    long_name = "nightly-" + "x" * 70  # longer than a label value holds
    ref = RunRef(test="nightly", run=long_name, uid="0b5d2e3c", namespace="team-a")
    built = build_job(spec, ref, image="runner:1", owner=None)
    assert run_of_finished_job(built) is None  # not finished yet
    built["status"] = {"startTime": "2026-11-28T10:00:00Z", "conditions": COMPLETE}
    assert run_of_finished_job(built) == ("team-a", long_name)


def test_a_run_is_held_by_one_caller_at_a_time_and_a_turned_away_caller_is_served() -> None:
    locks = RunLocks()
    inside = threading.Event()
    release = threading.Event()
    steps: list[str] = []

    def slow_step() -> str:
        steps.append("first")
        inside.set()
        release.wait(5)
        return "first"

    results: list[str | None] = []
    thread = threading.Thread(
        target=lambda: results.append(locks.run_exclusively("team-a", "nightly-7", slow_step))
    )
    thread.start()
    assert inside.wait(5)
    # Held: turned away at once, but the holder owes this caller one more step.
    assert locks.run_exclusively("team-a", "nightly-7", lambda: steps.append("x") or "x") is None
    assert locks.run_exclusively("team-a", "nightly-7", lambda: steps.append("y") or "y") is None
    # Another run is not held.
    assert locks.run_exclusively("team-a", "nightly-8", lambda: "other") == "other"
    release.set()
    thread.join(5)
    assert steps == ["first", "first"], "one more step for the callers turned away, not two"
    assert results == ["first"]
    assert locks.run_exclusively("team-a", "nightly-7", lambda: "free") == "free"


def test_a_failed_step_lets_the_run_go() -> None:
    locks = RunLocks()

    def failing() -> None:
        raise RuntimeError("API down")

    with pytest.raises(RuntimeError):
        locks.run_exclusively("team-a", "nightly-7", failing)
    assert locks.run_exclusively("team-a", "nightly-7", lambda: "again") == "again"


def _finished_run_filter() -> Any:
    """The `when` filter kopf applies before calling the handler that marks finished runs."""
    registry = registered_handlers()
    # kopf keeps on.event handlers in its "watching" registry (no public accessor lists them).
    [handler] = [
        handler
        for handler in registry._watching.get_all_handlers()
        if handler.id.endswith("perfrun_finished")
    ]
    return handler.when


RUN_SUCCEEDED = {"conditions": [{"type": RunCondition.ANALYZED.value, "status": "True"}]}
RUN_FAILED = {"conditions": [{"type": RunCondition.JOB_COMPLETED.value, "status": "False"}]}
RUN_RUNNING = {"job": {"name": "nightly-7"}}


@pytest.mark.parametrize(
    ("event_type", "labels", "status", "marks"),
    [
        ("MODIFIED", {}, RUN_SUCCEEDED, True),
        (None, {}, RUN_FAILED, True),  # seen when kopf lists the runs at start-up
        ("MODIFIED", {}, RUN_RUNNING, False),
        ("MODIFIED", {FINISHED_LABEL: "true"}, RUN_SUCCEEDED, False),
        # The label took it out of the watch: the API server sends what matched before.
        ("DELETED", {}, RUN_SUCCEEDED, False),
    ],
)
def test_a_run_is_marked_finished_once_and_not_again_as_it_leaves_the_watch(
    event_type: str | None, labels: dict[str, str], status: dict[str, Any], marks: bool
) -> None:
    when = _finished_run_filter()
    body = {"metadata": {"name": "nightly-7", "labels": labels}, "status": status}
    kwargs = {
        "type": event_type,
        "event": {"type": event_type, "object": body},
        "body": kopf.Body(body),
        "labels": body["metadata"]["labels"],
        "status": body["status"],
    }
    assert when(**kwargs) is marks
