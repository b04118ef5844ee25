"""PerfRun objects: what triggers a run, its idempotent identity, and the object itself (pure)."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from perftest_operator import API_VERSION, GROUP
from perftest_operator.api.fields import dig

TEST_LABEL = f"{GROUP}/test"
RUN_NUMBER_LABEL = f"{GROUP}/run-number"
TRIGGER_LABEL = f"{GROUP}/trigger"
RUN_NOW_ANNOTATION = f"{GROUP}/run-now"


class Trigger(str, enum.Enum):
    CREATED = "Created"
    SPEC_CHANGED = "SpecChanged"
    RUN_NOW = "RunNow"
    MANUAL = "Manual"


def trigger_id(trigger: Trigger, *, generation: int, run_now: str | None) -> str:
    """A label value naming one trigger, so that handling it twice creates one PerfRun."""
    if trigger is Trigger.CREATED:
        return "created"
    if trigger is Trigger.SPEC_CHANGED:
        return f"generation-{generation}"
    digest = hashlib.sha256((run_now or "").encode()).hexdigest()[:16]
    return f"run-now-{digest}"


def trigger_from_diff(diff: Iterable[Sequence[Any]]) -> Trigger | None:
    """What an update to a PerfTest asks for: a run for a spec change, a run-now, or nothing.

    `diff` is kopf's: items of (operation, field path, old, new), where the path may stop at any
    level above the field that changed (e.g. ('metadata',) when the first annotation is added).
    """
    run_now_path = ("metadata", "annotations", RUN_NOW_ANNOTATION)
    trigger: Trigger | None = None
    for item in diff:
        path, old, new = tuple(item[1]), item[2], item[3]
        if path[:1] == ("spec",) or path == ():
            return Trigger.SPEC_CHANGED
        if path == run_now_path[: len(path)]:
            rest = run_now_path[len(path) :]
            new_value, old_value = dig(new, *rest), dig(old, *rest)
            if new_value and new_value != old_value:
                trigger = Trigger.RUN_NOW
    return trigger


def next_run_number(runs: Sequence[Mapping[str, Any]]) -> int:
    numbers = [
        int(value)
        for run in runs
        for value in [((run.get("metadata") or {}).get("labels") or {}).get(RUN_NUMBER_LABEL, "")]
        if str(value).isdigit()
    ]
    return max(numbers, default=0) + 1


def perfrun_name(test_name: str, number: int) -> str:
    """`<test>-<n>`; a PerfTest name is at most 253 characters, so shorten when needed."""
    suffix = f"-{number}"
    if len(test_name) + len(suffix) <= 253:
        return test_name + suffix
    digest = hashlib.sha256(test_name.encode()).hexdigest()[:8]
    return f"{test_name[: 253 - len(suffix) - 9]}-{digest}{suffix}"


def build_perfrun(
    test: Mapping[str, Any], number: int, trigger: Trigger, trigger_label: str
) -> dict[str, Any]:
    """The PerfRun that the operator creates for a PerfTest, owned by it."""
    meta = test["metadata"]
    return {
        "apiVersion": API_VERSION,
        "kind": "PerfRun",
        "metadata": {
            "name": perfrun_name(meta["name"], number),
            "namespace": meta["namespace"],
            "labels": {
                # Label values are at most 63 characters; long test names are found by spec.testName.
                TEST_LABEL: meta["name"][:63],
                RUN_NUMBER_LABEL: str(number),
                TRIGGER_LABEL: trigger_label,
                "app.kubernetes.io/managed-by": "perftest-operator",
            },
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "PerfTest",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "testName": meta["name"],
            "trigger": trigger.value,
            "testGeneration": int(meta.get("generation") or 1),
        },
    }
