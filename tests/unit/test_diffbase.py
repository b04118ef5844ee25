"""kopf's last-handled state: the same essence for PerfTests, none built for other kinds."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest
from registered import registered_handlers

from perftest_operator.handlers.diffbase import ChangedKindsDiffBaseStorage
from perftest_operator.handlers.registration import KOPF_PREFIX

KEY = "last-handled-configuration"


class NotToBeCopied:
    """A value whose deep copy fails: proves a build never copied it."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        raise AssertionError("deep-copied")


def _perftest(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "perftest.dev/v1alpha1",
        "kind": "PerfTest",
        "metadata": {
            "name": "api-latency",
            "namespace": "perf",
            "uid": "0b7c",
            "resourceVersion": "42",
            "labels": {"team": "api"},
            "annotations": {
                "perftest.dev/run-now": "2026-11-28T20:00:00Z",
                f"{KOPF_PREFIX}/{KEY}": '{"spec":{"old":true}}',
                f"{KOPF_PREFIX}/perftest_updated": '{"started":"x"}',
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
            },
            "finalizers": ["perftest.dev/finalizer"],
        },
        "spec": {"workload": {"name": "cluster-density-v2", "iterations": 3}, "metrics": []},
        "status": status,
    }


def _stores() -> tuple[ChangedKindsDiffBaseStorage, kopf.AnnotationsDiffBaseStorage]:
    ours = ChangedKindsDiffBaseStorage(changed_kinds={"PerfTest"}, prefix=KOPF_PREFIX, key=KEY)
    stock = kopf.AnnotationsDiffBaseStorage(prefix=KOPF_PREFIX, key=KEY)
    return ours, stock


@pytest.mark.parametrize("extra_fields", [None, [], ["spec.workload"], [("metadata", "uid")]])
def test_a_perftest_essence_is_kopfs_own(extra_fields: list[Any] | None) -> None:
    status = {"phase": "Succeeded", "verdict": {"result": "Pass", "changePoints": [{"i": 1}]}}
    body = kopf.Body(_perftest(status))
    ours, stock = _stores()
    expected = stock.build(body=body, extra_fields=extra_fields)

    essence = ours.build(body=body, extra_fields=extra_fields)

    assert essence == expected
    assert essence["spec"]["workload"]["iterations"] == 3
    assert "status" not in essence
    annotations = essence["metadata"]["annotations"]
    assert "perftest.dev/run-now" in annotations
    assert f"{KOPF_PREFIX}/{KEY}" not in annotations
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations


def test_a_perftest_status_is_not_copied_unless_a_handler_watches_it() -> None:
    raw = _perftest({"phase": "Running", "verdict": NotToBeCopied()})
    ours, stock = _stores()
    with pytest.raises(AssertionError, match="deep-copied"):
        stock.build(body=kopf.Body(raw))

    essence = ours.build(body=kopf.Body(raw))

    assert essence["spec"] == raw["spec"]
    assert raw["status"]["phase"] == "Running"  # the body itself is untouched


def test_status_fields_a_handler_watches_are_kept() -> None:
    body = kopf.Body(_perftest({"phase": "Running", "counters": {"runs": 3}}))
    ours, stock = _stores()
    for fields in (["status.phase"], [("status", "phase")], [["status", "counters"]]):
        essence = ours.build(body=body, extra_fields=fields)
        assert essence == stock.build(body=body, extra_fields=fields)
        assert "status" in essence


@pytest.mark.parametrize("kind", ["PerfRun", "Job"])
def test_kinds_without_change_handlers_get_an_empty_essence(kind: str) -> None:
    raw = copy.deepcopy(_perftest({"phase": "Collecting"}))
    raw["kind"] = kind
    ours, stock = _stores()
    assert stock.build(body=kopf.Body(raw))  # kopf would copy and cut it down every event

    assert ours.build(body=kopf.Body(raw)) == {}


def test_the_perftest_is_the_only_kind_with_change_handlers() -> None:
    """The storage is told which kinds compare essences; the registry must agree."""
    registry = registered_handlers()

    # kopf keeps create/update/delete/resume handlers in its "changing" registry (no public
    # accessor lists them).
    plurals = {handler.selector.any_name for handler in registry._changing.get_all_handlers()}

    assert plurals == {"perftests"}
