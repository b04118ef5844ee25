"""PerfRun objects: what triggers a run, its idempotent identity, and the object itself (pure)."""

from __future__ import annotations

import datetime
import enum
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perftest_operator import API_VERSION, GROUP
from perftest_operator.api.fields import dig, generation, labels, mapping, sequence, text
from perftest_operator.api.spec import SecretKeyRef

TEST_LABEL = f"{GROUP}/test"
RUN_NUMBER_LABEL = f"{GROUP}/run-number"
TRIGGER_LABEL = f"{GROUP}/trigger"
# Set once a run has finished: the operator's watch leaves such runs out, so a long history
# costs nothing at start-up or in memory (label selector `FINISHED_LABEL!=true`).
FINISHED_LABEL = f"{GROUP}/finished"
UNFINISHED_RUNS_SELECTOR = f"{FINISHED_LABEL}!=true"
RUN_NOW_ANNOTATION = f"{GROUP}/run-now"


class Trigger(str, enum.Enum):
    CREATED = "Created"
    SPEC_CHANGED = "SpecChanged"
    RUN_NOW = "RunNow"
    MANUAL = "Manual"
    SCHEDULED = "Scheduled"  # spec.schedule
    NEW_VERSION = "NewVersion"  # spec.trigger.onNewVersion: the target's product version changed
    RETRY = "Retry"  # spec.retries: the Job of spec.retryOf failed
    CONFIRM = "Confirm"  # spec.analysis.confirmRuns: confirms a change point at spec.confirms


class ConfirmationState(str, enum.Enum):
    """status.confirmation.state of a PerfRun whose change point is being confirmed."""

    PENDING = "Pending"  # the confirming runs are not all finished
    CONFIRMED = "Confirmed"  # the shift held in the confirming runs: a regression
    NOT_CONFIRMED = "NotConfirmed"  # it did not: the run is recorded as an outlier


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _required(value: Any, name: str, trigger: Trigger) -> Any:
    if value is None:
        raise ValueError(f"a {trigger.value} trigger needs {name}")
    return value


def trigger_id(
    trigger: Trigger,
    *,
    generation: int,
    run_now: str | None,
    scheduled_at: datetime.datetime | None = None,
    version: str | None = None,
    retry_of: str | None = None,
    confirms: str | None = None,
    attempt: int = 0,
) -> str:
    """A label value naming one trigger, so that handling it twice creates one PerfRun.

    Each value is a valid label value of at most 63 characters: "created", "generation-<n>",
    "run-now-<hash>", "schedule-20251117t020000z" (the scheduled time in UTC),
    "version-<hash of the version>", "retry-<hash of the run retried>-<attempt>",
    "confirm-<hash of the run confirmed>-<attempt>" (hashes: 16 hex digits of sha256).
    Raises ValueError when the argument a trigger is named by is missing.
    """
    if trigger is Trigger.CREATED:
        return "created"
    if trigger is Trigger.SPEC_CHANGED:
        return f"generation-{generation}"
    if trigger is Trigger.SCHEDULED:
        moment: datetime.datetime = _required(scheduled_at, "scheduled_at", trigger)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"scheduled_at must be timezone-aware, got {moment!r}")
        return "schedule-" + moment.astimezone(datetime.UTC).strftime("%Y%m%dt%H%M%Sz")
    if trigger is Trigger.NEW_VERSION:
        return f"version-{_digest(_required(version, 'version', trigger))}"
    if trigger is Trigger.RETRY:
        return f"retry-{_digest(_required(retry_of, 'retry_of', trigger))}-{attempt}"
    if trigger is Trigger.CONFIRM:
        return f"confirm-{_digest(_required(confirms, 'confirms', trigger))}-{attempt}"
    return f"run-now-{_digest(run_now or '')}"


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
        for value in [labels(run).get(RUN_NUMBER_LABEL, "")]
        if str(value).isdigit()
    ]
    return max(numbers, default=0) + 1


def perfrun_name(test_name: str, number: int) -> str:
    """`<test>-<n>`; a PerfTest name is at most 253 characters, so shorten when needed.

    The shortened head loses trailing dots and dashes, so that the name stays a DNS subdomain
    (a cut after ``a.`` would give ``a.-<hash>``, which the API server refuses).
    """
    suffix = f"-{number}"
    if len(test_name) + len(suffix) <= 253:
        return test_name + suffix
    digest = hashlib.sha256(test_name.encode()).hexdigest()[:8]
    head = test_name[: 253 - len(suffix) - 9].rstrip(".-")
    return f"{head}-{digest}{suffix}"


def perfrun_test_label(test_name: str) -> str:
    """The `perftest.dev/test` label of a test's PerfRuns: a valid label value (pure).

    At most 63 characters, ending in a letter or digit (a name cut after a dot or a dash would
    not be a label value); long names are told apart by spec.testName.
    """
    return test_name[:63].rstrip(".-")


def build_perfrun(
    test: Mapping[str, Any],
    number: int,
    trigger: Trigger,
    trigger_label: str,
    *,
    retry_of: str | None = None,
    confirms: str | None = None,
    finalizer: str | None = None,
) -> dict[str, Any]:
    """The PerfRun that the operator creates for a PerfTest, owned by it.

    `retry_of` names the failed run this one retries, `confirms` the run whose change point it
    helps confirm (spec.retryOf, spec.confirms). `finalizer`: the operator's, which kopf puts on
    every active run for its timer; created with it, the run needs no write (and the operator
    no watch event) to add it. A purely computational function.
    """
    meta = test["metadata"]
    spec: dict[str, Any] = {
        "testName": meta["name"],
        "trigger": trigger.value,
        "testGeneration": generation(test),
    }
    if retry_of is not None:
        spec["retryOf"] = retry_of
    if confirms is not None:
        spec["confirms"] = confirms
    finalizers = {"finalizers": [finalizer]} if finalizer is not None else {}
    return {
        "apiVersion": API_VERSION,
        "kind": "PerfRun",
        "metadata": {
            **finalizers,
            "name": perfrun_name(meta["name"], number),
            "namespace": meta["namespace"],
            "labels": {
                # Label values are at most 63 characters; long test names are found by spec.testName.
                TEST_LABEL: perfrun_test_label(meta["name"]),
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
        "spec": spec,
    }


def finished_run_metadata(run: Mapping[str, Any], finalizer: str) -> dict[str, Any] | None:
    """The metadata patch that marks a finished run as such, or None when it is marked already.

    kopf's finalizer goes in the same write: once the label takes the run out of the watch,
    kopf would never see it again to remove its finalizer, and a later deletion would hang.
    """
    meta = mapping(run.get("metadata"))
    if labels(run).get(FINISHED_LABEL) == "true":
        return None
    patch: dict[str, Any] = {
        "labels": {FINISHED_LABEL: "true"},
        "resourceVersion": meta.get("resourceVersion"),
    }
    finalizers = list(sequence(meta.get("finalizers")))
    if finalizer in finalizers:
        patch["finalizers"] = [f for f in finalizers if f != finalizer]
    return patch


@dataclass(frozen=True)
class JobRef:
    """status.job: where the run's Job is (`kubeconfig_secret_ref` None: on the hub)."""

    name: str
    namespace: str
    kubeconfig_secret_ref: SecretKeyRef | None = None


@dataclass(frozen=True)
class Confirmation:
    """status.confirmation of a run whose change point is being confirmed (ConfirmationState)."""

    state: str
    runs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class PerfRun:
    """A PerfRun as the controller and the history read it: parsed once by `parse_perfrun`,
    as `PerfTestSpec` is for a PerfTest's spec. A field the object lacks (or holds with the wrong
    type) reads as absent. `obj` is the object itself (for Events and the API), `status` its
    status as the API server holds it (a step adds its changes to it: `with_status`).
    """

    namespace: str
    name: str
    uid: str | None
    generation: int
    resource_version: str | None
    test_name: str
    number: int | None  # the run-number label
    retry_of: str | None  # spec.retryOf
    confirms: str | None  # spec.confirms
    conditions: tuple[Mapping[str, Any], ...]
    reason: str | None
    start_time: str | None  # the run's window (kube-burner's measured phase, else the Job's)
    completion_time: str | None
    values: Mapping[str, Any]  # KPI name -> value, as collected
    skipped_metrics: tuple[Any, ...]
    collect_attempts: int
    next_collect_time: str | None
    kube_burner: Any  # status.kubeBurner: the summary document of the Job
    job: JobRef | None
    config_map: str | None
    target: Mapping[str, Any]  # what the target was when the Job started
    confirmation: Confirmation | None
    verdict: Mapping[str, Any] | None
    status: Mapping[str, Any]
    obj: Mapping[str, Any]

    def with_status(self, status: Mapping[str, Any]) -> PerfRun:
        """This run with `status` in place of its own."""
        return parse_perfrun({**self.obj, "status": status})


def _job_ref(raw: Any) -> JobRef | None:
    name, namespace = text(dig(raw, "name")), text(dig(raw, "namespace"))
    if name is None or namespace is None:
        return None
    secret = mapping(dig(raw, "kubeconfigSecretRef"))
    secret_ref = SecretKeyRef(name=str(secret["name"]), key=str(secret["key"])) if secret else None
    return JobRef(name=name, namespace=namespace, kubeconfig_secret_ref=secret_ref)


def _confirmation(raw: Any) -> Confirmation | None:
    confirmation = mapping(raw)
    state = text(confirmation.get("state"))
    if state is None:
        return None
    return Confirmation(
        state=state,
        runs=tuple(str(run) for run in sequence(confirmation.get("runs"))),
        metrics=tuple(str(metric) for metric in sequence(confirmation.get("metrics"))),
    )


def parse_perfrun(obj: Mapping[str, Any]) -> PerfRun:
    """The typed view of a PerfRun object (pure; never raises on a field it lacks)."""
    meta = mapping(obj.get("metadata"))
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    number = str(mapping(meta.get("labels")).get(RUN_NUMBER_LABEL, ""))
    verdict = status.get("verdict")
    return PerfRun(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        uid=text(meta.get("uid")),
        generation=generation(obj),
        resource_version=text(meta.get("resourceVersion")),
        test_name=str(spec.get("testName") or ""),
        number=int(number) if number.isdigit() else None,
        retry_of=text(spec.get("retryOf")),
        confirms=text(spec.get("confirms")),
        conditions=tuple(mapping(c) for c in sequence(status.get("conditions"))),
        reason=text(status.get("reason")),
        start_time=text(status.get("startTime")),
        completion_time=text(status.get("completionTime")),
        values=mapping(status.get("values")),
        skipped_metrics=tuple(sequence(status.get("skippedMetrics"))),
        collect_attempts=int(status.get("collectAttempts") or 0),
        next_collect_time=text(status.get("nextCollectTime")),
        kube_burner=status.get("kubeBurner"),
        job=_job_ref(status.get("job")),
        config_map=text(status.get("configMap")),
        target=mapping(status.get("target")),
        confirmation=_confirmation(status.get("confirmation")),
        verdict=verdict if isinstance(verdict, Mapping) else None,
        status=status,
        obj=obj,
    )
