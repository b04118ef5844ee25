"""PerfTest side: validate the spec, start PerfRuns on triggers, keep the PerfTest status (I/O orchestration)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator import FINALIZER
from perftest_operator.api.conditions import FALSE, TRUE, find_condition
from perftest_operator.api.errors import Conflict, SpecError, TargetUnreachable
from perftest_operator.api.fields import dig, generation, labels, mapping
from perftest_operator.api.fingerprint import spec_fingerprint
from perftest_operator.api.perfrun import (
    RUN_NOW_ANNOTATION,
    TRIGGER_LABEL,
    Trigger,
    build_perfrun,
    next_run_number,
    parse_perfrun,
    trigger_id,
)
from perftest_operator.api.policy import check_policy
from perftest_operator.api.spec import ConcurrencyPolicy, PerfTestSpec, parse_perftest_spec
from perftest_operator.api.status import (
    READINESS_FAILURES,
    PerfTestCondition,
    Reason,
    RunPhase,
    build_test_status,
    derive_run_phase,
    newest_first,
    not_ready_reason,
)
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.prerequisite_checks import check_prerequisites
from perftest_operator.controller.prometheus import RunTarget, check_prometheus, resolve_endpoint
from perftest_operator.controller.stop import stop_run
from perftest_operator.controller.target_access import (
    check_job_account,
    job_service_account,
    prepare_target,
    reaching_target,
    read_target,
    target_api,
)
from perftest_operator.events import post_event
from perftest_operator.runner.command import check_workload, contract_of
from perftest_operator.runner.rbac import workload_reads_secrets
from perftest_operator.target.metadata import what_changed
from perftest_operator.target.profiles import profile_for

logger = logging.getLogger(__name__)

STATUS_WRITE_ATTEMPTS = 5


def load_test_spec(
    ctx: Context, test: Mapping[str, Any], *, starting: bool = False
) -> tuple[PerfTestSpec, dict[str, str] | None]:
    """The typed spec and, for a custom workload, its ConfigMap's files; SpecError if unusable.

    The PerfTest's side (its check, its triggers): a missing ConfigMap keeps a run from
    starting. A run reads the files once, when its Job is built (`read_custom_config`).
    ``starting``: see `check_start_policy`.
    """
    spec = parse_test_spec(test)
    namespace = str(test["metadata"]["namespace"])
    if starting:
        check_start_policy(ctx, namespace, spec)
    return spec, read_custom_config(ctx, namespace, spec)


def parse_test_spec(test: Mapping[str, Any]) -> PerfTestSpec:
    """The typed spec, checked against the workload's contract; SpecError if unusable."""
    spec = parse_perftest_spec(mapping(test.get("spec")))
    check_workload(spec.workload)  # what the contract of its kube-burner-ocp version refuses
    return spec


def check_start_policy(ctx: Context, namespace: str, spec: PerfTestSpec) -> None:
    """The admin's policy (NotAllowed, api.policy), for a Job to come: the PerfTest's readiness
    and a run's first step check it; reading a finished run's metrics or history does not."""
    settings = ctx.settings
    check_policy(
        spec,
        namespace,
        settings.policy,
        runner_image=settings.runner_image,
        reads_secrets=workload_reads_secrets(contract_of(spec.workload), spec.workload.name),
    )


def read_custom_config(ctx: Context, namespace: str, spec: PerfTestSpec) -> dict[str, str] | None:
    """A custom workload's ConfigMap files (the kube-burner config under the key the spec names,
    and the templates beside it); None for a named workload; SpecError when it is not there."""
    ref = spec.workload.config_map_ref
    if ref is None:
        return None
    files = ctx.api.read_config_map_data(namespace, ref.name)
    if files is None or ref.key not in files:
        raise SpecError(
            "spec.workload.configMapRef",
            f"ConfigMap {ref.name} with key {ref.key} not found in namespace {namespace}",
        )
    return files


def sync_test_status(
    ctx: Context,
    namespace: str,
    name: str,
    *,
    ready: tuple[str, str, str] | None = None,
    scheduler: Mapping[str, Any] | None = None,
) -> None:
    """Recompute the PerfTest's whole status from its PerfRuns and write it (retried on conflicts).

    `scheduler`: the scheduler's own fields to set (None removes one).
    """
    for _ in range(STATUS_WRITE_ATTEMPTS):
        test = ctx.api.get_perftest(namespace, name)
        if test is None:
            return
        runs = ctx.api.list_perfruns(namespace, name)
        status = build_test_status(test, runs, ready=ready, now=datetime.datetime.now(datetime.UTC))
        for key, value in (scheduler or {}).items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        try:
            ctx.api.replace_perftest_status(test, status)
            return
        except Conflict:
            continue
    logger.warning(
        "PerfTest %s/%s: status not written after %d conflicts",
        namespace,
        name,
        STATUS_WRITE_ATTEMPTS,
    )


def _check_target(ctx: Context, namespace: str, spec: PerfTestSpec) -> str:
    """Everything a run will need, checked before any run: what the target is, the Job's
    ServiceAccount, and Prometheus with its token and CA (one probe query).

    Returns what answered, for the Ready message. Raises one of READINESS_FAILURES: found now,
    not when the first benchmark's Job has finished hours later.
    """
    ref = spec.target.kubeconfig_secret_ref
    api = target_api(ctx, namespace, ref)
    facts = read_target(api, spec)
    profile = profile_for(facts.platform)
    target = RunTarget(
        api=api,
        remote=ref is not None,
        profile=profile,
        namespace=spec.target.namespace or namespace,
    )
    resolve_endpoint(ctx, spec, target)  # no Prometheus at all: a spec error, found first
    # What kube-burner-ocp would stop on before it creates anything (registry, APIs, workers).
    check_prerequisites(api, spec.workload, platform=facts.platform, nodes=facts.nodes)
    if target.remote:
        # The operator sets up kube-burner's account there itself; a token minted for it must
        # be possible before the first run.
        with reaching_target():
            prepare_target(
                api,
                target.namespace,
                spec,
                remote=True,
                openshift=profile.openshift,
                run_namespace=namespace,
            )
    else:
        check_job_account(ctx, target.namespace, spec, openshift=profile.openshift)
    answered = check_prometheus(ctx, namespace, spec, target)
    where = "the operator's cluster" if ref is None else f"the target of Secret {ref.name}"
    account = job_service_account(ctx, remote=target.remote)
    return (
        f"{where} answers ({facts.platform.platform.value}), the Job runs as "
        f"{target.namespace}/{account}; {answered}"
    )


def _ready_condition(test: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return find_condition(dig(test, "status", "conditions"), PerfTestCondition.READY.value)


def _ready_for_this_generation(test: Mapping[str, Any]) -> bool:
    condition = _ready_condition(test)
    return (
        condition is not None
        and condition.get("status") == TRUE
        and condition.get("observedGeneration") == dig(test, "metadata", "generation")
    )


def not_ready(test: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Ready condition when it is False (whatever generation it was found for), else None.

    While it is, no run starts: a schedule's slot or a new version waits for the check to
    pass again, and a PerfRun that exists already waits before it creates its Job.
    """
    condition = _ready_condition(test)
    return condition if condition is not None and condition.get("status") == FALSE else None


def _ready_reason(test: Mapping[str, Any]) -> str | None:
    condition = _ready_condition(test)
    return None if condition is None else str(condition.get("reason"))


def reconcile_test(ctx: Context, test: Mapping[str, Any], trigger: Trigger | None) -> float | None:
    """Check the spec and the target; on a trigger, start a PerfRun unless one is active.

    Returns None when done, or the seconds after which to try again: a missing Secret or
    ServiceAccount, a target or a Prometheus that does not answer may be fixed without the
    PerfTest changing. No run starts unless the check passed (or passed for this spec already,
    for a run-now).
    """
    meta = test["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    retry: float | None = None
    try:
        spec, _ = load_test_spec(ctx, test, starting=True)
        if trigger is Trigger.RUN_NOW and _ready_for_this_generation(test):
            # The target was checked for this spec; the run reads it again anyway (and says
            # so on the PerfRun when it does not answer): not twice per run-now. The status
            # is written by the run's first step, a moment later, not twice either.
            start_run(ctx, test, trigger, spec=spec)
            return None
        where = _check_target(ctx, namespace, spec)
    except READINESS_FAILURES as exc:
        reason, again = not_ready_reason(exc)
        if again:
            # A Secret, a ServiceAccount or a network path can be fixed without the PerfTest
            # changing: checked again until it is.
            retry = ctx.settings.target_retry_seconds
        message = str(exc)
        # A retry finds the same problem: one Warning, not one per attempt.
        if _ready_reason(test) != reason.value:
            post_event(ctx.api, test, announce.not_ready(reason.value, message))
        sync_test_status(ctx, namespace, name, ready=(FALSE, reason.value, message))
        return retry
    ready = (TRUE, Reason.SPEC_VALID, f"the spec is valid; {where}")
    if trigger is not None:
        if not_ready(test) is not None:
            # Ready first: the new run's first step reads it, and would wait a tick on the
            # False that the fix has just made stale.
            sync_test_status(ctx, namespace, name, ready=ready)
        start_run(ctx, test, trigger, spec=spec)
    sync_test_status(ctx, namespace, name, ready=ready)
    return None


def _unchanged_since_last_success(
    ctx: Context, test: Mapping[str, Any], spec: PerfTestSpec, runs: list[dict[str, Any]]
) -> str | None:
    """Why a due run would measure nothing new (skipUnchanged), or None when something changed.

    Compared with the newest succeeded run: the target's product version and node metadata,
    and the spec's fingerprint.
    """
    succeeded = [
        run
        for run in map(parse_perfrun, newest_first(runs))
        if derive_run_phase(run.status) is RunPhase.SUCCEEDED
    ]
    if not succeeded:
        return None
    last = succeeded[0]
    if last.status.get("specFingerprint") != spec_fingerprint(mapping(test.get("spec"))):
        return None
    try:
        api = target_api(ctx, test["metadata"]["namespace"], spec.target.kubeconfig_secret_ref)
        now = read_target(api, spec).describe()
    except (SpecError, TargetUnreachable):
        return None  # cannot tell: run, and let the run report the target
    if what_changed(last.target, now):
        return None
    return (
        f"version {now.get('version')}, node metadata and spec unchanged since PerfRun {last.name}"
    )


def start_run(
    ctx: Context,
    test: Mapping[str, Any],
    trigger: Trigger,
    label: str | None = None,
    *,
    spec: PerfTestSpec | None = None,
    skip_unchanged: bool = False,
    retry_of: str | None = None,
    confirms: str | None = None,
    finishing: str | None = None,
) -> str | None:
    """Create the PerfRun for this trigger (once); None when it is skipped.

    `label` names the trigger (default: from the generation or the run-now value). Nothing
    starts while `spec.suspend` is set (a RunSkipped Event says so). While a
    run is active, `spec.concurrencyPolicy` decides: Forbid skips with a RunSkipped Event,
    Replace stops the active run first, Allow starts anyway. With `skip_unchanged` (a due
    scheduled run) and `spec.trigger.skipUnchanged`, a run that would measure the same version,
    nodes and spec as the last succeeded one is skipped. Retry and confirmation runs are
    started by the run that is `finishing` (its last step is still being written), so that run
    does not count as active.
    """
    meta = test["metadata"]
    if spec is None:
        spec, _ = load_test_spec(ctx, test)
    if label is None:
        run_now = dig(test, "metadata", "annotations", RUN_NOW_ANNOTATION)
        label = trigger_id(trigger, generation=generation(test), run_now=run_now)
    # Names and labels of the whole history, whole objects of the unfinished runs only: the
    # history of a long-lived test is large, and starting a run needs none of its results.
    known = ctx.api.list_perfrun_metadata(meta["namespace"], meta["name"])
    for run in known:
        if labels(run).get(TRIGGER_LABEL) == label:
            return str(run["metadata"]["name"])  # this trigger was handled before a restart
    if spec.suspend:
        post_event(ctx.api, test, announce.run_skipped_suspended(trigger.value))
        return None
    unfinished = map(
        parse_perfrun, ctx.api.list_unfinished_perfruns(meta["namespace"], meta["name"])
    )
    active = [
        r for r in unfinished if not derive_run_phase(r.status).is_terminal and r.name != finishing
    ]
    if active and spec.concurrency_policy is ConcurrencyPolicy.FORBID:
        # Two benchmarks at once would pollute each other's metrics.
        post_event(ctx.api, test, announce.run_skipped_active(trigger.value, active[0].name))
        return None
    if skip_unchanged and spec.trigger.skip_unchanged:
        runs = ctx.api.list_perfruns(meta["namespace"], meta["name"])
        unchanged = _unchanged_since_last_success(ctx, test, spec, runs)
        if unchanged is not None:
            post_event(ctx.api, test, announce.run_skipped_unchanged(trigger.value, unchanged))
            return None
    body = build_perfrun(
        test,
        next_run_number(known),
        trigger,
        label,
        retry_of=retry_of,
        confirms=confirms,
        finalizer=FINALIZER,
    )
    if active and spec.concurrency_policy is ConcurrencyPolicy.REPLACE:
        for old in active:
            stop_run(ctx, old, f"replaced by PerfRun {body['metadata']['name']} ({trigger.value})")
    run, _ = ctx.api.create_perfrun(body)
    logger.info(
        "PerfTest %s/%s: PerfRun %s created (%s)",
        meta["namespace"],
        meta["name"],
        run["metadata"]["name"],
        trigger.value,
    )
    return str(run["metadata"]["name"])
