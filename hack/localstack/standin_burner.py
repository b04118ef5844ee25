"""kube-burner's run of a configuration's jobs, as the stand-in plays it against an API (I/O).

``Burner.run`` follows ``burner.Run`` of kube-burner v1.17.2 (KB pkg/burner/job.go:74-300, the
library in kube-burner-ocp v1.7.3): image preloading for every create job, then per job its
measurements, the initial clean-up, namespaces, objects, waiting, verification and churn, then
the measurements' thresholds, the job summaries and the garbage collection. The requests of each
phase are the contract's (``Contract.runtime``: preload, cleanup, namespaces, create, wait,
verify, churn, gc; each call's ``each`` selects the job's object kinds), made for real: a
``list`` finds what the ``delete`` after it deletes, a namespace ``get`` follows only a create
answered 409, namespace deletions are polled until the namespaces are gone.

What a refusal does is the contract's ``onError``, with kube-burner's words (each in its
source): ``exit1`` logs ``level=fatal`` and ends the process with 1; ``ignored`` logs and goes on;
``retried`` is retried by kube-burner until maxWaitTimeout (``--timeout``) and then given up: an
object create the API refuses is logged (``Error creating object ...``, ``Retrying object
creation``) and dropped, so the job's verification fails and the run ends with 1 (create.go:
247-294, job.go:139-148); a waiter that cannot list polls until the global ``--timeout`` fires
first: exit 2 (waiters.go:132-159, job.go:266-274). The stand-in does not wait out those timers:
the emulator's RBAC answers the same on every retry, so one refused attempt stands for all of
them, and the ending is what it would be once they ran out.

The emulator runs no controllers: the stand-in treats every object it created as ready (the
waiters' lists are made, their contents not judged) and takes pod latencies, the measured
window and the ending from the scenario (``standin_outputs.Scenario``). Readiness is not what
the stand-in proves.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from localstack.standin_client import ApiClient, Response, RestMapper, ServedResource, Target
from localstack.standin_custom import render
from localstack.standin_flags import parse_go_duration
from localstack.standin_objects import (
    PAUSE_IMAGE,
    PRELOAD_LABEL,
    PRELOAD_NAMESPACE,
    ROLE_KINDS,
    namespace_body,
    namespace_labels,
    object_body,
    object_labels,
    object_name,
    pod_body,
    preload_daemonset,
)
from localstack.standin_outputs import (
    DEFAULT_P99_MS,
    Ending,
    JobRecord,
    Scenario,
    job_summary,
    pod_latencies,
    pod_latency_quantiles,
    threshold_message,
)
from perftest_operator.contract.model import (
    ApiCall,
    BurnerJob,
    Condition,
    Contract,
    JobType,
    Measurement,
    ObjectKind,
    OnError,
)

# Kinds whose images kube-burner preloads (KB pkg/burner/pre_load.go:95-138).
IMAGE_KINDS = frozenset(
    {"Pod", "Deployment", "DaemonSet", "ReplicaSet", "Job", "StatefulSet", "VirtualMachine"}
)
# Kinds whose objects make pods, whose latencies podLatency measures.
POD_KINDS = frozenset({"Pod", "Deployment", "DaemonSet", "ReplicaSet", "Job", "StatefulSet"})
# Images of the measurements' helper pods (KB pkg/measurements/service_latency.go:172-180,
# netpol_latency.go:475-477).
HELPER_IMAGES = {
    "svc-checker": "quay.io/cloud-bulldozer/fedora-nc:latest",
    "network-policy-proxy": "quay.io/cloud-bulldozer/netpolproxy:latest",
}
# How long the stand-in polls for namespaces to go (kube-burner: every second, up to gcTimeout,
# or without end for the initial clean-up; KB pkg/util/namespaces.go:81-99).
DELETION_POLL_SECONDS = 30.0
GC_TIMEOUT_ERROR = "timeout cleaning up namespaces: context deadline exceeded"
WAIT_DEADLINE = "context deadline exceeded"  # wait.PollUntilContextTimeout's error


class Fatal(Exception):
    """``log.Fatal``: the process ends with 1 after this line."""

    def __init__(self, message: str, where: str, *, level: str = "fatal") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.level = level


class _Timeout(Exception):
    """The global ``--timeout`` fired (kube-burner's select in job.go:266-274)."""


class Log:
    """kube-burner's logger: logrus lines to stdout and the log file once it is set up."""

    def __init__(self, write: Callable[[str, str, str], None]) -> None:
        self._write = write

    def info(self, message: str, where: str) -> None:
        self._write("info", message, where)

    def warning(self, message: str, where: str) -> None:
        self._write("warning", message, where)

    def error(self, message: str, where: str) -> None:
        self._write("error", message, where)


@dataclasses.dataclass
class Facts:
    """Flag values as text, and what the target answered, for the contract's conditions."""

    values: dict[str, str]

    def holds(self, condition: Condition) -> bool:
        return condition.holds(self.values)


@dataclasses.dataclass
class MappedObject:
    """An object kind of a job, mapped to the resource the server serves it as."""

    index: int
    kind: ObjectKind
    served: ServedResource
    replicas: int
    template: str | None = None  # a custom configuration's object template (Go template text)

    @property
    def namespaced(self) -> bool:
        return self.served.namespaced


@dataclasses.dataclass
class JobPlan:
    """A job as this run renders it: its iterations, objects and namespaces."""

    job: BurnerJob
    iterations: int
    objects: list[MappedObject]
    iterations_per_namespace: int
    namespace: str
    position: int = 0  # the job's place in the run (objects of two jobs may share a namespace)
    created: dict[int, int] = dataclasses.field(default_factory=dict)  # index -> objects made
    pods: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # The role the job created last in each namespace: what its bindings refer to.
    roles: dict[str | None, tuple[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def creates_namespaces(self) -> bool:
        return self.job.type is JobType.CREATE and any(
            o.namespaced and o.kind.namespace is None for o in self.objects
        )

    def namespace_of(self, iteration: int) -> str:
        if self.job.namespaced_iterations:
            return f"{self.namespace}-{iteration // self.iterations_per_namespace}"
        return self.namespace

    def namespaces(self, iterations: range | None = None) -> list[str]:
        if not self.creates_namespaces:
            return []
        return list(
            dict.fromkeys(self.namespace_of(i) for i in iterations or range(self.iterations))
        )

    def select(self, each: str) -> list[MappedObject]:
        """The objects a runtime call's ``each`` names (see contract.model.ApiCall.each)."""
        if each == "objects":
            return list(self.objects)
        if each == "clusterObjects":
            return [o for o in self.objects if not o.namespaced]
        if each == "fixedObjects":
            return [o for o in self.objects if o.namespaced and o.kind.namespace is not None]
        if each == "namespacedObjects":
            return [o for o in self.objects if o.namespaced and o.kind.namespace is None]
        if each == "waitedObjects":
            return [o for o in self.objects if o.kind.wait]
        raise ValueError(f"unknown object selection {each!r}")


@dataclasses.dataclass
class Outcome:
    rc: int
    errors: list[str]


def aggregate(errors: Sequence[str]) -> str:
    """k8s.io/apimachinery utilerrors.NewAggregate(errs).Error()."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


class Burner:
    """One ``burner.Run`` against the API, with the contract's requests per phase."""

    def __init__(
        self,
        *,
        contract: Contract,
        facts: Facts,
        jobs: Sequence[JobPlan],
        measurements: Sequence[Measurement],
        thresholds: Sequence[str],
        uuid: str,
        runid: str,
        timeout: str,
        gc: bool,
        client: ApiClient,
        mapper: RestMapper,
        log: Log,
        scenario: Scenario,
        version: str,
        metadata: Mapping[str, Any],
        metrics_directory: pathlib.Path | None,
        churn: Mapping[str, str],
    ) -> None:
        self.contract = contract
        self.facts = facts
        self.jobs = list(jobs)
        self.measurements = list(measurements)
        self.thresholds = list(thresholds)
        self.uuid = uuid
        self.runid = runid
        self.timeout = timeout
        self.gc = gc
        self.client = client
        self.mapper = mapper
        self.log = log
        self.scenario = scenario
        self.version = version
        self.metadata = metadata
        self.metrics_directory = metrics_directory
        self.churn = churn
        self.p99 = scenario.pod_ready_p99_ms or DEFAULT_P99_MS

    # Requests.

    def _selector(self, text: str | None, plan: JobPlan) -> str | None:
        if not text:
            return None
        return (
            text.replace("$job", plan.name)
            .replace("$uuid", self.uuid)
            .replace("$runid", self.runid)
        )

    def _namespaces(self) -> ServedResource:
        served = self.mapper.preferred("", "namespaces")
        assert served is not None, "every API server serves namespaces"
        return served

    def _refused(self, call: ApiCall, response: Response, what: str, where: str) -> None:
        """What a refused request does, by the contract's onError."""
        if call.on_error is OnError.NOT_FOUND_OK and response.status == 404:
            return
        if call.on_error in (OnError.EXIT, OnError.NOT_FOUND_OK):
            raise Fatal(f"{what}: {response.message}", where)
        self.log.error(f"{what}: {response.message}", where)

    def _list(
        self, call: ApiCall, target: Target, selector: str | None, what: str, where: str
    ) -> list[dict[str, Any]]:
        query = {"labelSelector": selector} if selector else {}
        response = self.client.call("list", target, query=query)
        if not response.ok:
            self._refused(call, response, what, where)
            return []
        return list((response.body or {}).get("items") or [])

    def _poll_gone(self, target: Target, selector: str | None, *, gc: bool = False) -> bool:
        """List until nothing matches (kube-burner polls every second); False on the deadline."""
        deadline = time.monotonic() + DELETION_POLL_SECONDS
        pause = 0.005
        query = {"labelSelector": selector} if selector else {}
        while True:
            response = self.client.call("list", target, query=query)
            if not response.ok or not (response.body or {}).get("items"):
                return response.ok or not gc
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    # Phases, each the contract's list of calls.

    def _phase(self, phase: str, plan: JobPlan, *, namespaces: Sequence[str] = ()) -> bool:
        """The clean-up shaped phases (cleanup, gc, churn's deletion): list, then delete what
        was found, then poll until it is gone. False when a namespace poll ran out of time."""
        self.client.phase = phase
        found: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
        selectors: dict[tuple[str, str, str | None], str | None] = {}
        complete = True
        for call in self.contract.runtime.get(phase, ()):
            if not self.facts.holds(call.when):
                continue
            for resource, served, namespace in self._call_targets(call, plan, namespaces):
                key = (served.group, served.resource, namespace)
                where = call.source.split(";")[0].split(" ", 1)[-1]
                if call.verb == "list":
                    selector = self._selector(call.label_selector, plan)
                    what = f"Unable to list {resource}"
                    items = self._list(call, served.target(namespace), selector, what, where)
                    found[key] = items
                    selectors[key] = selector
                    if items and served.resource == "namespaces":
                        self.log.info(
                            f"Deleting {len(items)} namespaces with label: {selector}",
                            "namespaces.go:67",
                        )
                elif call.verb == "delete":
                    items = found.get(key, [])
                    for item in items:
                        meta = item.get("metadata") or {}
                        target = served.target(meta.get("namespace") or namespace, meta.get("name"))
                        response = self.client.call("delete", target)
                        if not response.ok and response.status != 404:
                            self._refused(
                                call,
                                response,
                                f"Error deleting {resource}/{meta.get('name')}",
                                where,
                            )
                    if items and (served.resource == "namespaces" or phase == "churn"):
                        gone = self._poll_gone(
                            served.target(namespace), selectors.get(key), gc=phase == "gc"
                        )
                        complete = complete and gone
                elif call.verb == "patch":
                    for name in namespaces:
                        patch = [
                            {"op": "add", "path": "/metadata/labels/churndelete", "value": "delete"}
                        ]
                        response = self.client.call(
                            "patch",
                            served.target(name=name),
                            body=patch,
                            patch_type="application/json-patch+json",
                        )
                        if not response.ok:
                            self._refused(
                                call,
                                response,
                                f"Error patching namespace {name}. Error",
                                "create.go:342",
                            )
        return complete

    def _call_targets(
        self, call: ApiCall, plan: JobPlan, namespaces: Sequence[str]
    ) -> Iterator[tuple[str, ServedResource, str | None]]:
        """(what to call it in messages, resource, namespace) for each request of ``call``."""
        if call.each is not None:
            seen = set()
            for mapped in plan.select(call.each):
                fixed = mapped.kind.namespace
                if mapped.namespaced and fixed is None:
                    spaces: Sequence[str | None] = namespaces
                else:
                    spaces = [fixed if mapped.namespaced else None]
                for namespace in spaces:
                    key = (mapped.served.resource, namespace)
                    if key not in seen:
                        seen.add(key)
                        yield mapped.kind.kind, mapped.served, namespace
            return
        served = self.mapper.preferred(call.group, call.resource)
        if served is None:
            return
        yield call.resource, served, call.namespace

    def preload(self, plan: JobPlan) -> None:
        """Pull the job's images on every node: a DaemonSet in preload-kube-burner, then its
        namespace deleted again (KB pkg/burner/pre_load.go:72-93,140-200)."""
        # The stand-in's pods all run the pause image, which is what there is to pull.
        images = [PAUSE_IMAGE] if any(o.kind.kind in IMAGE_KINDS for o in plan.objects) else []
        self.log.info(f"Pre-load: images from job {plan.name}", "pre_load.go:73")
        self.client.phase = "preload"
        calls = self.contract.runtime.get("preload", ())
        for call in calls:
            where = call.source.split(";")[0].split(" ", 1)[-1]
            if call.verb == "create" and call.resource == "namespaces":
                self._create_namespace(call, PRELOAD_NAMESPACE, {PRELOAD_LABEL: "true"}, where)
            elif call.verb == "create":
                served = self.mapper.preferred(call.group, call.resource)
                assert served is not None
                self.log.info(
                    f"Pre-load: Creating DaemonSet using images [{' '.join(images)}] in namespace "
                    f"{PRELOAD_NAMESPACE}",
                    "pre_load.go:195",
                )
                response = self.client.call(
                    "create", served.target(PRELOAD_NAMESPACE), body=preload_daemonset(images)
                )
                if not response.ok:
                    raise Fatal(f"pre-load: {response.message}", "job.go:308")
            elif call.verb == "list":
                self.log.info("Pre-load: Sleeping for 15s", "pre_load.go:86")
        self._delete_namespaces(
            f"{PRELOAD_LABEL}=true", [c for c in calls if c.verb in ("list", "delete")]
        )

    def _delete_namespaces(self, selector: str, calls: Sequence[ApiCall]) -> None:
        namespaces = self._namespaces()
        listing = next((c for c in calls if c.verb == "list"), None)
        if listing is None:
            return
        response = self.client.call("list", namespaces.target(), query={"labelSelector": selector})
        if not response.ok:
            self.log.error(f"error listing namespaces: {response.message}", "namespaces.go:64")
            return
        items = (response.body or {}).get("items") or []
        for item in items:
            self.client.call("delete", namespaces.target(name=item["metadata"]["name"]))
        if items:
            self._poll_gone(namespaces.target(), selector)

    def _create_namespace(
        self, call: ApiCall, name: str, labels: Mapping[str, str], where: str
    ) -> bool:
        """util.CreateNamespace: 403 is fatal, 409 is followed by a get (KB util/namespaces.go:33-57)."""
        namespaces = self._namespaces()
        for _ in range(3):  # a terminating namespace is retried (5 s x3 backoff, compressed)
            response = self.client.call(
                "create", namespaces.target(), body=namespace_body(name, labels)
            )
            if response.ok:
                return True
            if response.status == 403:
                raise Fatal(
                    f"authorization error creating namespace {name}: {response.message}",
                    "namespaces.go:40",
                )
            if response.status != 409:
                self.log.error(
                    f"unexpected error creating namespace {name}: {response.message}",
                    "namespaces.go:52",
                )
                continue
            self.log.info(f"Namespace {name} already exists", "namespaces.go:44")
            current = self.client.call("get", namespaces.target(name=name))
            if ((current.body or {}).get("status") or {}).get("phase") != "Terminating":
                return True
            self.log.warning(
                f"Namespace {name} is in Terminating state, retrying", "namespaces.go:47"
            )
            time.sleep(0.05)
        if call.on_error is OnError.EXIT:
            raise Fatal(f"cannot create namespace {name}", where)
        return False

    def create_job(self, plan: JobPlan, iterations: range, *, churning: bool = False) -> None:
        """RunCreateJob: namespaces, every object of every iteration, then the waits (KB
        pkg/burner/create.go:80-193)."""
        labels = namespace_labels(plan.name, self.uuid, self.runid)
        made: set[str] = set()
        namespace_call = next(
            (c for c in self.contract.runtime.get("namespaces", ()) if c.verb == "create"), None
        )
        self.client.phase = "namespaces"
        if plan.creates_namespaces and not plan.job.namespaced_iterations and namespace_call:
            self._create_namespace(namespace_call, plan.namespace, labels, "create.go:103")
        for iteration in iterations:
            namespace = plan.namespace if plan.creates_namespaces else None
            if plan.creates_namespaces and plan.job.namespaced_iterations and namespace_call:
                namespace = plan.namespace_of(iteration)
                if namespace not in made:
                    self.client.phase = "namespaces"
                    if not self._create_namespace(
                        namespace_call, namespace, labels, "create.go:124"
                    ):
                        continue
                    made.add(namespace)
            self.client.phase = "create"
            for mapped in plan.objects:
                for replica in range(1, mapped.replicas + 1):
                    self._create_object(plan, mapped, iteration, replica, namespace)
        if plan.job.wait_when_finished or plan.job.pod_wait:
            self.log.info(
                f"Waiting up to {self.timeout} for actions to be completed", "create.go:169"
            )
            self._wait(plan, plan.namespaces(iterations) or [plan.namespace])

    def _create_object(
        self,
        plan: JobPlan,
        mapped: MappedObject,
        iteration: int,
        replica: int,
        namespace: str | None,
    ) -> None:
        kind = mapped.kind.kind
        name = object_name(kind, plan.position, mapped.index, iteration, replica)
        labels = object_labels(
            job=plan.name,
            uuid=self.uuid,
            runid=self.runid,
            index=mapped.index,
            iteration=iteration,
            replica=replica,
        )
        space = mapped.kind.namespace or (namespace if mapped.namespaced else None)
        if mapped.template is not None:
            data = {
                "Iteration": iteration, "Replica": replica, "JobName": plan.name,
                "UUID": self.uuid, "RunID": self.runid,
            }  # fmt: skip
            body = yaml.safe_load(render(mapped.template, data)) or {}
            metadata = body.setdefault("metadata", {})
            # The template's own labels win (KB pkg/burner/create.go:214-216).
            metadata["labels"] = {**labels, **(metadata.get("labels") or {})}
            name = metadata.get("name") or name
        else:
            body = object_body(
                mapped.kind.api_version,
                kind,
                name,
                labels,
                space,
                grants=mapped.kind.grants,
                role_ref=plan.roles.get(space),
            )
        response = self.client.call("create", mapped.served.target(space), body=body)
        if response.ok:
            plan.created[mapped.index] = plan.created.get(mapped.index, 0) + 1
            if kind in ROLE_KINDS:
                plan.roles[space] = (kind, name)
            if kind in POD_KINDS and space:
                plan.pods.append(
                    (space, (response.body or {}).get("metadata", {}).get("name", name))
                )
            return
        where = "create.go:279"
        if response.status == 401:
            raise Fatal(
                f"Authorization error creating {kind}/{name}: {response.message}", "create.go:265"
            )
        if response.status == 409:
            suffix = f" in namespace {space}" if space else ""
            self.log.error(f"{kind}/{name}{suffix} already exists", "create.go:269")
            return
        if response.status == 404:
            self.log.error(
                f"Error creating object {kind}/{name}: {response.message}", "create.go:275"
            )
            return
        suffix = f" in namespace {space}" if space else ""
        self.log.error(f"Error creating object {kind}/{name}{suffix}: {response.message}", where)
        self.log.error("Retrying object creation", "create.go:283")

    def _wait(self, plan: JobPlan, namespaces: Sequence[str]) -> None:
        """waitForObjects per namespace: a list of each waited kind (KB pkg/burner/waiters.go)."""
        calls = [c for c in self.contract.runtime.get("wait", ()) if self.facts.holds(c.when)]
        self.client.phase = "wait"
        for namespace in namespaces:
            for call in calls:
                for mapped in plan.select(call.each or "waitedObjects"):
                    space = mapped.kind.namespace or (namespace if mapped.namespaced else None)
                    if self.scenario.ending is Ending.WAIT_TIMEOUT:
                        raise Fatal(
                            f"Timeout occurred while waiting for objects in namespace {space or ''}: {WAIT_DEADLINE}",
                            "waiters.go:122",
                        )
                    selector = self._selector(call.label_selector, plan)
                    response = self.client.call(
                        "list", mapped.served.target(space), query={"labelSelector": selector or ""}
                    )
                    if not response.ok:
                        self.log.error(
                            f"Error listing {mapped.kind.kind} in {space}: {response.message}",
                            "waiters.go:139",
                        )
                        raise _Timeout  # polled until maxWaitTimeout: the global timer fires first
            self.log.info(f"Actions in namespace {namespace} completed", "waiters.go:74")

    def verify(self, plan: JobPlan) -> bool:
        """Count each object kind's objects across all namespaces (KB pkg/burner/utils.go:115-161)."""
        self.log.info("Verifying created objects", "utils.go:119")
        self.client.phase = "verify"
        success = True
        for call in self.contract.runtime.get("verify", ()):
            for mapped in plan.select(call.each or "objects"):
                selector = self._selector(call.label_selector, plan)
                selector = f"{selector},kube-burner-index={mapped.index}"
                response = self.client.call(
                    "list",
                    mapped.served.target(None),
                    query={"labelSelector": selector, "limit": "500"},
                )
                if not response.ok:
                    self.log.error(f"Error verifying object: {response.message}", "utils.go:130")
                    success = False
                    continue
                found = len((response.body or {}).get("items") or [])
                expected = mapped.replicas * plan.iterations
                if found != expected:
                    self.log.error(
                        f"{mapped.served.resource} found: {found} Expected: {expected}",
                        "utils.go:154",
                    )
                    success = False
        return success

    def churn_job(self, plan: JobPlan) -> None:
        """One churn cycle (kube-burner repeats it until churnDuration or churnCycles): label the
        churned namespaces, delete them (gvr: their objects first), create them again
        (KB pkg/burner/create.go:296-371)."""
        percent = int(self.churn.get("percent") or "10")
        count = max(percent * plan.iterations // 100, 1)
        # kube-burner starts at a random iteration (create.go:329-333); the stand-in at the first.
        iterations = range(0, min(count, plan.iterations))
        namespaces = plan.namespaces(iterations)
        self._phase("churn", plan, namespaces=namespaces)
        self.log.info("Re-creating deleted objects", "create.go:364")
        self.create_job(plan, iterations, churning=True)
        self.log.info(f"Sleeping for {self.churn.get('delay', '2m0s')}", "create.go:367")
        self.log.info("Churn job complete", "create.go:318")

    # Measurements.

    def start_measurements(self, plan: JobPlan) -> None:
        for measurement in self.measurements:
            for call in measurement.calls:
                if self.facts.holds(call.when) and not _at_stop(call):
                    self._measurement_call(measurement, call, plan)

    def stop_measurements(self, plan: JobPlan) -> str | None:
        """Stop each measurement: its clean-up calls, then podLatency's thresholds."""
        for measurement in self.measurements:
            for call in measurement.calls:
                if self.facts.holds(call.when) and _at_stop(call):
                    self._measurement_call(measurement, call, plan)
        if not plan.pods or not any(m.name == "podLatency" for m in self.measurements):
            return None
        error = None
        if self.thresholds:
            self.log.info("Evaluating latency thresholds", "metrics.go:48")
            for threshold in self.thresholds:
                limit = parse_go_duration(threshold, self.contract.messages) // 1_000_000
                if self.p99 > limit:
                    error = threshold_message(self.p99, threshold)
        self.log.info(
            f"{plan.name}: Ready 99th: {self.p99} max: {round(self.p99 * 1.1)} avg: {round(self.p99 * 0.55)}",
            "base_measurement.go:111",
        )
        return error

    def _measurement_call(self, measurement: Measurement, call: ApiCall, plan: JobPlan) -> None:
        served = self.mapper.preferred(call.group, call.resource.split("/")[0])
        if served is None:
            return
        subresource = call.resource.split("/")[1] if "/" in call.resource else None
        where = call.source.split(";")[0].split(" ", 1)[-1]
        what = f"{measurement.name} measurement"
        self.client.phase = call.phase
        selector = self._selector(call.label_selector, plan)
        query = {"labelSelector": selector} if selector else {}
        namespaces: Sequence[str | None] = (
            plan.namespaces() if call.in_workload_namespaces else [call.namespace]
        )
        for namespace in namespaces:
            if call.verb == "create" and served.resource == "namespaces":
                assert call.name is not None
                self._create_namespace(call, call.name, {}, where)
                continue
            if call.verb == "get" and served.resource == "namespaces":
                continue  # only after a create answered 409 (_create_namespace makes it)
            if call.verb == "create" and subresource is None:
                assert call.name is not None and namespace is not None
                image = HELPER_IMAGES.get(call.name, "registry.k8s.io/pause:3.1")
                response = self.client.call(
                    "create", served.target(namespace), body=pod_body(call.name, namespace, image)
                )
                if response.status == 409:
                    continue
            elif call.verb == "create":
                # exec and port-forward upgrade to a stream; the request is what RBAC sees.
                response = self.client.call(
                    "create", served.target(namespace, call.name, subresource)
                )
                if response.status not in (401, 403):
                    continue
            elif call.verb == "delete":
                name = call.name or next(
                    (
                        c.name
                        for c in measurement.calls
                        if c.verb == "create" and c.resource == "namespaces"
                    ),
                    None,
                )
                response = self.client.call("delete", served.target(namespace, name))
                if response.status == 404:
                    continue
            elif call.verb == "watch":
                response = self.client.call(
                    "watch", served.target(namespace), query={**query, "timeoutSeconds": "1"}
                )
            elif call.verb == "list":
                response = self.client.call("list", served.target(namespace), query=query)
            else:
                response = self.client.call(call.verb, served.target(namespace, call.name))
            if not response.ok:
                self._refused(call, response, f"{what}: {call.verb} {call.resource}", where)

    # The run.

    def _job_config(self, plan: JobPlan) -> dict[str, Any]:
        """config.Job as jobSummary marshals it (KB pkg/config/types.go:132-211; durations in
        nanoseconds, empty values omitted except gc)."""
        config: dict[str, Any] = {
            "jobIterations": plan.iterations,
            "name": plan.name,
            "jobType": plan.job.type.value,
            "namespace": plan.namespace,
            "maxWaitTimeout": parse_go_duration(self.timeout, self.contract.messages),
            "waitWhenFinished": plan.job.wait_when_finished,
            "podWait": plan.job.pod_wait,
            "cleanup": plan.job.cleanup,
            "namespacedIterations": plan.job.namespaced_iterations,
            "iterationsPerNamespace": plan.iterations_per_namespace,
            "verifyObjects": plan.job.verify_objects,
            "errorOnVerify": True,
            "preLoadImages": plan.job.pre_load_images,
            "churn": self.facts.holds(plan.job.churn),
            "gc": False,
        }
        # The document goes through a map[string]any: its keys come out sorted.
        return {k: v for k, v in sorted(config.items()) if v not in ("", 0, False) or k == "gc"}

    def _write(self, name: str, documents: list[dict[str, Any]]) -> None:
        """The local indexer: one JSON array per metric (GCM indexers/local.go:40-60)."""
        if self.metrics_directory is None or not documents:
            return
        self.metrics_directory.mkdir(parents=True, exist_ok=True)
        (self.metrics_directory / f"{name}.json").write_text(json.dumps(documents) + "\n")
        self.log.info(f"Indexing metric {name}", "base_measurement.go:134")

    def _windows(self, now: datetime.datetime) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """Each job's measured window: the scenario's split evenly, else the run's own times."""
        start = self.scenario.start
        end = self.scenario.end
        if start is None or end is None:
            return []
        step = (end - start) / max(len(self.jobs), 1)
        return [(start + step * i, start + step * (i + 1)) for i in range(len(self.jobs))]

    def run(self) -> Outcome:
        """burner.Run: the rc and the aggregated errors (KB pkg/burner/job.go:74-300)."""
        for plan in self.jobs:
            images = any(o.kind.kind in IMAGE_KINDS for o in plan.objects)
            if plan.job.type is JobType.CREATE and plan.job.pre_load_images and images:
                self.preload(plan)
        errors: list[str] = []
        rc = 0
        records: list[JobRecord] = []
        stamps: list[tuple[datetime.datetime, datetime.datetime]] = []
        churned: dict[int, tuple[datetime.datetime, datetime.datetime]] = {}
        finished: list[JobPlan] = []
        timed_out = False
        for index, plan in enumerate(self.jobs):
            self.client.job = plan.name
            start = datetime.datetime.now(datetime.UTC)
            self.start_measurements(plan)
            self.log.info(f"Triggering job: {plan.name}", "job.go:121")
            try:
                if plan.job.cleanup:
                    self._phase("cleanup", plan, namespaces=[])
                self.create_job(plan, range(plan.iterations))
                if self.scenario.ending is Ending.BENCHMARK_TIMEOUT and index == len(self.jobs) - 1:
                    raise _Timeout
            except _Timeout:
                timed_out = True
                stamps.append((start, datetime.datetime.now(datetime.UTC)))
                break
            if plan.job.verify_objects and not self.verify(plan):
                rc = 1
                errors.append("object verification failed")
                self.log.error("object verification failed", "job.go:147")
            if self.facts.holds(plan.job.churn) and plan.creates_namespaces:
                self.log.info("Churning enabled", "job.go:128")
                churn_start = datetime.datetime.now(datetime.UTC)
                self.churn_job(plan)
                churned[index] = (churn_start, datetime.datetime.now(datetime.UTC))
            end = datetime.datetime.now(datetime.UTC)
            stamps.append((start, end))
            error = self.stop_measurements(plan)
            if error is not None:
                errors.append(error)
                self.log.error(error, "job.go:196")
                rc = 4
            finished.append(plan)
        self.client.job = ""
        windows = self._windows(datetime.datetime.now(datetime.UTC)) or stamps
        for index, (start, end) in enumerate(stamps):
            window = windows[index] if index < len(windows) else (start, end)
            churn = churned.get(index)
            records.append(
                JobRecord(
                    config=self._job_config(self.jobs[index]),
                    start=window[0],
                    end=window[1],
                    churn_start=churn[0] if churn else None,
                    churn_end=churn[1] if churn else None,
                    object_operations=sum(self.jobs[index].created.values()),
                )
            )
        if timed_out:
            message = f"{self.timeout} timeout reached"
            self.log.error(message, "job.go:271")
            errors.append(message)
            rc = 2
        for plan, record in zip(finished, records, strict=False):
            if any(m.name == "podLatency" for m in self.measurements) and plan.pods:
                moment = record.end
                self._write(
                    f"podLatencyMeasurement-{plan.name}",
                    pod_latencies(
                        plan.pods, self.p99, job=plan.name, uuid=self.uuid, moment=moment
                    ),
                )
                self._write(
                    f"podLatencyQuantilesMeasurement-{plan.name}",
                    pod_latency_quantiles(self.p99, job=plan.name, uuid=self.uuid, moment=moment),
                )
        summaries = [
            job_summary(
                record,
                uuid=self.uuid,
                version=self.version,
                passed=rc == 0 if not timed_out else False,
                execution_errors=aggregate(errors) if timed_out else "",
                metadata=self.metadata,
                timed_out=timed_out,
            )
            for record in records
        ]
        self._write("jobSummary", summaries)
        if not timed_out:
            self.log.info(f"Finished execution with UUID: {self.uuid}", "job.go:263")
        if self.gc:
            self.log.info("Garbage collecting jobs", "job.go:290")
            collected = self.jobs if not timed_out else self.jobs[: len(records) - 1]
            complete = True
            for plan in collected:
                self.client.job = plan.name
                complete = self._phase("gc", plan, namespaces=[]) and complete
            self.client.job = ""
            if self.scenario.ending is Ending.GC_TIMEOUT or not complete:
                self.log.error(GC_TIMEOUT_ERROR, "job.go:425")
                if rc == 0:
                    errors.append("garbage collection timeout reached")
                    rc = 2
        return Outcome(rc, errors)


def _at_stop(call: ApiCall) -> bool:
    """A measurement's clean-up (its own namespace listed and deleted) happens at Stop."""
    return call.resource == "namespaces" and call.verb in ("list", "delete")
