"""Which API requests one run of a workload makes, in order, by the contract (pure).

A run is kube-burner-ocp's startup (health check, cluster metadata), the workload's own calls
before kube-burner starts, then kube-burner's phases for each job of the workload's
configuration (kube-burner ``pkg/burner/job.go`` ``Run`` at v1.17.2, lines 90-299): image
preload, measurements, the initial clean-up of a previous run, namespaces, objects, waiting,
verification, churn, and at the end the garbage collection. Which calls happen depends on the
command line's flag values (``resolve_flags``) and on what the target answered earlier
(``target-metadata``, ``target-openshift``).

Both the RBAC rules of kube-burner's ServiceAccount (``runner.rbac``) and the tests' stand-in
for kube-burner-ocp follow this one list, so a request the stand-in makes is one the rules grant.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace

from perftest_operator.contract.model import (
    ApiCall,
    BurnerJob,
    Contract,
    Flag,
    FlagType,
    JobType,
    ObjectKind,
    OnError,
    Workload,
)

# Kinds whose images kube-burner pulls in advance (KB pkg/burner/pre_load.go:95-138 at v1.17.2).
IMAGE_KINDS = frozenset(
    {
        "Pod",
        "Deployment",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "StatefulSet",
        "VirtualMachine",
        "VirtualMachineInstance",
    }
)
# What the target answered before: Infrastructure "cluster" readable, and present (OpenShift).
TARGET_METADATA = "target-metadata"
TARGET_OPENSHIFT = "target-openshift"


class FlagError(ValueError):
    """A command line the contract refuses; the message is the binary's own words."""


def flag_of(contract: Contract, workload: str | None, arg: str) -> tuple[Flag, str | None]:
    """The flag ``arg`` (``--name[=value]``, ``-c[value]``) sets and its inline value.

    Raises FlagError, worded as pflag words it, for a flag the version does not have.
    """
    flags = contract.flags_of(workload)
    if arg.startswith("--"):
        name, equals, value = arg[2:].partition("=")
        flag = next((f for f in flags if f.name == name), None)
        if flag is None:
            raise FlagError(contract.messages.unknown_flag.format(flag=name))
        return flag, (value if equals else None)
    char, rest = arg[1:2], arg[2:]
    flag = next((f for f in flags if f.shorthand == char), None)
    if flag is None:
        raise FlagError(contract.messages.unknown_shorthand.format(char=char, arg=arg))
    return flag, (rest.removeprefix("=") or None)


def resolve_flags(
    contract: Contract, workload: str | None, args: Sequence[str], *, openshift: bool = True
) -> dict[str, str]:
    """The value of every flag after ``args``, as text; a flag given twice keeps its last value.

    Defaults come from the contract. ``--name=value``, ``--name value`` and, for a bool, a bare
    ``--name`` (a bool never takes the next word: pflag's NoOptDefVal); positional words are
    skipped, as kube-burner-ocp's subcommands ignore them. Raises FlagError for a flag the
    version does not have. A purely computational function with no side effects.
    """
    values = {flag.name: flag.default for flag in contract.flags_of(workload)}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            continue
        flag, value = flag_of(contract, workload, arg)
        if value is None and flag.type is FlagType.BOOL:
            value = "true"
        elif value is None:
            if index >= len(args):
                raise FlagError(f"flag needs an argument: --{flag.name}")
            value, index = args[index], index + 1
        values[flag.name] = value
    values[TARGET_METADATA] = "true"
    values[TARGET_OPENSHIFT] = "true" if openshift else "false"
    return values


def _objects(job: BurnerJob, flags: Mapping[str, str], each: str) -> tuple[ObjectKind, ...]:
    objects = job.active_objects(flags)
    if each == "objects":
        return objects
    if each == "clusterObjects":
        return tuple(o for o in objects if not o.namespaced)
    if each == "fixedObjects":
        return tuple(o for o in objects if o.namespaced and o.namespace is not None)
    if each == "namespacedObjects":
        return tuple(o for o in objects if o.namespaced and o.namespace is None)
    if each == "waitedObjects":
        return tuple(o for o in objects if o.wait)
    raise ValueError(f"unknown object selection {each!r}")


def _expand(call: ApiCall, job: BurnerJob, flags: Mapping[str, str]) -> Iterator[ApiCall]:
    """The call for the job: once, or once per object kind of its selection."""
    if not call.when.holds(flags):
        return
    selector = (call.label_selector or "").replace("$job", job.name) or None
    if call.each is None:
        yield replace(call, label_selector=selector)
        return
    for kind in _objects(job, flags, call.each):
        in_workload = kind.namespaced and kind.namespace is None and not call.all_namespaces
        yield replace(
            call,
            group=kind.group,
            resource=kind.resource,
            namespace=kind.namespace if kind.namespaced else None,
            in_workload_namespaces=in_workload,
            label_selector=selector,
            each=None,
        )


def _phase(
    contract: Contract, phase: str, job: BurnerJob, flags: Mapping[str, str]
) -> Iterator[ApiCall]:
    for call in contract.runtime.get(phase, ()):
        yield from _expand(call, job, flags)


def _creates(contract: Contract, job: BurnerJob, flags: Mapping[str, str]) -> Iterator[ApiCall]:
    """Namespaces, objects and the wait for them (also each churn cycle's re-creation)."""
    if job.creates_namespaces(flags):
        yield from _phase(contract, "namespaces", job, flags)
    yield from _phase(contract, "create", job, flags)
    if job.wait_when_finished or job.pod_wait:
        yield from _phase(contract, "wait", job, flags)


def _job_calls(contract: Contract, job: BurnerJob, flags: Mapping[str, str]) -> Iterator[ApiCall]:
    if job.type is not JobType.CREATE:
        verb = {JobType.DELETE: "delete", JobType.PATCH: "patch", JobType.READ: "get"}.get(job.type)
        for kind in job.active_objects(flags):
            base = ApiCall("list", kind.group, kind.resource, job.source, phase=job.type.value)
            yield replace(base, label_selector=job.label_selector, on_error=OnError.RETRIED)
            if verb is not None:
                yield replace(base, verb=verb, on_error=OnError.IGNORED)
        return
    if job.cleanup:
        yield from _phase(contract, "cleanup", job, flags)
    yield from _creates(contract, job, flags)
    if job.verify_objects:
        yield from _phase(contract, "verify", job, flags)
    if job.churn.holds(flags) and job.creates_namespaces(flags):
        yield from _phase(contract, "churn", job, flags)
        yield from _creates(contract, job, flags)


def _unique(calls: Iterable[ApiCall]) -> tuple[ApiCall, ...]:
    seen: set[ApiCall] = set()
    kept = []
    for call in calls:
        if call not in seen:
            seen.add(call)
            kept.append(call)
    return tuple(kept)


def active_jobs(workload: Workload, flags: Mapping[str, str]) -> tuple[BurnerJob, ...]:
    return tuple(job for job in workload.jobs if job.when.holds(flags))


def granted_calls(
    contract: Contract, workload: str, flags: Mapping[str, str]
) -> tuple[ApiCall, ...]:
    """The requests that the roles one run creates allow (a purely computational function).

    The API server lets an account create a Role or ClusterRole, or bind one, only when it may
    make every request the role allows itself (RBAC privilege escalation prevention: kubernetes
    pkg/registry/rbac/escalation_check.go and validation.ConfirmNoEscalation), so the account
    kube-burner runs as needs these besides ``run_calls``.
    """
    found = contract.workload(workload)
    if found is None:
        raise ValueError(f"{workload!r} is not a workload of {contract.tool} {contract.version}")
    calls: list[ApiCall] = []
    for job in active_jobs(found, flags):
        for kind in job.active_objects(flags):
            in_job_namespaces = kind.namespaced and kind.namespace is None
            for rule in kind.grants:
                for group, resource, verb, name in itertools.product(
                    rule.api_groups, rule.resources, rule.verbs, rule.resource_names or (None,)
                ):
                    calls.append(
                        ApiCall(
                            verb,
                            group,
                            resource,
                            rule.source,
                            namespace=kind.namespace if kind.namespaced else None,
                            name=name,
                            in_workload_namespaces=in_job_namespaces,
                            phase="grant",
                        )
                    )
    return _unique(calls)


def run_calls(contract: Contract, workload: str, flags: Mapping[str, str]) -> tuple[ApiCall, ...]:
    """Every kind of request one run makes, in the order it first makes it.

    ``flags`` come from ``resolve_flags``. Each distinct request appears once (kube-burner makes
    most of them many times: once per iteration, object, namespace or poll). A purely
    computational function with no side effects.
    """
    found = contract.workload(workload)
    if found is None:
        raise ValueError(f"{workload!r} is not a workload of {contract.tool} {contract.version}")
    if found.config is not None:
        # kube-burner init: its configuration, not its command line, says gc and clusterHealth.
        flags = {**flags, **found.config.settings()}
        startup = contract.health_check_calls()
    else:
        startup = contract.startup
    calls: list[ApiCall] = [c for c in startup if c.when.holds(flags)]
    calls += [c for c in found.calls if c.when.holds(flags)]
    jobs = active_jobs(found, flags)
    for job in jobs:
        images = any(o.kind in IMAGE_KINDS for o in job.active_objects(flags))
        if job.type is JobType.CREATE and job.pre_load_images and images:
            calls += _phase(contract, "preload", job, flags)
    for measurement in found.measurements:
        if measurement.when.holds(flags):
            calls += [c for c in measurement.calls if c.when.holds(flags)]
    for job in jobs:
        calls += _job_calls(contract, job, flags)
    if flags.get("gc") == "true":
        for job in jobs:
            calls += _phase(contract, "gc", job, flags)
    return _unique(calls)
