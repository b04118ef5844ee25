"""kopf's last-handled state: the same essence for PerfTests, none built for other kinds."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest
from registered import registered_handlers

from perftest_operator.handlers.registration import KOPF_PREFIX
from perftest_operator.workarounds import ChangedKindsDiffBaseStorage

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


# --- what the storage relies on in the installed kopf (workarounds 1) --------------------------


class RecordingStorage(ChangedKindsDiffBaseStorage):
    def __init__(self) -> None:
        super().__init__(changed_kinds={"PerfTest"}, prefix=KOPF_PREFIX, key=KEY)
        self.built: list[tuple[str, Any]] = []

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        essence = super().build(body=body, extra_fields=extra_fields)
        self.built.append((body["kind"], essence))
        return essence


@pytest.mark.parametrize(("kind", "plural"), [("PerfRun", "perfruns"), ("PerfTest", "perftests")])
async def test_kopf_builds_an_essence_on_every_event_and_compares_it_only_for_perftests(
    kind: str, plural: str
) -> None:
    """kopf 1.45.2 kopf/_core/reactor/processing.py:_detect_causes: build on every event,
    a changing cause (the only user of the essence) only for kinds with change handlers."""
    from kopf._cogs.structs import bodies, patches, references
    from kopf._core.actions import loggers
    from kopf._core.engines import indexing
    from kopf._core.reactor import inventory, processing

    settings = kopf.OperatorSettings()
    storage = RecordingStorage()
    settings.persistence.diffbase_storage = storage
    raw = copy.deepcopy(_perftest({"phase": "Running"}))
    raw["kind"] = kind
    body = bodies.Body(raw)
    resource = references.Resource(
        group="perftest.dev", version="v1alpha1", plural=plural, kind=kind, namespaced=True
    )

    found = processing._detect_causes(
        indexers=indexing.OperatorIndexers(),
        registry=registered_handlers(),
        settings=settings,
        resource=resource,
        raw_event={"type": "MODIFIED", "object": raw},
        body=body,
        patch=patches.Patch(),
        memory=inventory.ResourceMemory(),
        local_logger=loggers.LocalObjectLogger(body=body, settings=settings),
        event_logger=loggers.ObjectLogger(body=body, settings=settings),
    )

    assert [built_kind for built_kind, _ in storage.built] == [kind]
    if kind == "PerfTest":
        assert found.changing_cause is not None
        assert found.changing_cause.new == storage.built[0][1]
        assert found.changing_cause.new["spec"] == raw["spec"]
    else:
        assert found.changing_cause is None  # the empty essence is never compared nor stored


def test_no_timer_or_daemon_of_another_kind_resets_on_essence_changes() -> None:
    """kopf resets a timer's or daemon's `idle` on a change of the essence: an empty one
    never changes, so only the kinds whose essence is built may have `idle`."""
    handlers = registered_handlers()._spawning.get_all_handlers()
    assert handlers  # the PerfRun and PerfTest timers
    idle = {handler.selector.any_name for handler in handlers if handler.idle is not None}
    assert idle <= {"perftests"}
