"""PerfTest side: validate the spec, start PerfRuns on triggers, keep the PerfTest status (I/O orchestration)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import FALSE, TRUE, find_condition
from perftest_operator.api.errors import (
    SpecError,
    TargetConfigInvalid,
    TargetSecretMissing,
    TargetUnreachable,
)
from perftest_operator.api.perfrun import (
    RUN_NOW_ANNOTATION,
    TRIGGER_LABEL,
    Trigger,
    build_perfrun,
    next_run_number,
    trigger_id,
)
from perftest_operator.api.spec import PerfTestSpec, parse_perftest_spec
from perftest_operator.api.status import (
    TERMINAL_RUN_PHASES,
    PerfTestCondition,
    Reason,
    build_test_status,
    derive_run_phase,
    spec_error_reason,
)
from perftest_operator.controller.context import Context
from perftest_operator.controller.prometheus import RunTarget, resolve_endpoint
from perftest_operator.controller.targets import read_target, target_api
from perftest_operator.events import NORMAL, WARNING, post_event
from perftest_operator.kube.api import Conflict
from perftest_operator.target.profiles import profile_for

logger = logging.getLogger(__name__)

STATUS_WRITE_ATTEMPTS = 5


def load_test_spec(ctx: Context, test: Mapping[str, Any]) -> tuple[PerfTestSpec, str | None]:
    """The typed spec and, for a custom workload, its kube-burner config; SpecError if unusable."""
    spec = parse_perftest_spec(test.get("spec") or {})
    ref = spec.workload.config_map_ref
    if ref is None:
        return spec, None
    config = ctx.api.read_config_map_key(test["metadata"]["namespace"], ref.name, ref.key)
    if config is None:
        raise SpecError(
            "spec.workload.configMapRef",
            f"ConfigMap {ref.name} with key {ref.key} not found in namespace {test['metadata']['namespace']}",
        )
    return spec, config


def sync_test_status(
    ctx: Context, namespace: str, name: str, *, ready: tuple[str, str, str] | None = None
) -> None:
    """Recompute the PerfTest's whole status from its PerfRuns and write it (retried on conflicts)."""
    for _ in range(STATUS_WRITE_ATTEMPTS):
        test = ctx.api.get_perftest(namespace, name)
        if test is None:
            return
        runs = ctx.api.list_perfruns(namespace, name)
        status = build_test_status(test, runs, ready=ready, now=datetime.datetime.now(datetime.UTC))
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
    """What the target is, for the Ready message; raises SpecError or TargetUnreachable."""
    ref = spec.target.kubeconfig_secret_ref
    api = target_api(ctx, namespace, ref)
    facts = read_target(api, spec)
    # A target without a Prometheus to read is a spec error now, not after the first benchmark.
    target = RunTarget(
        api=api,
        remote=ref is not None,
        profile=profile_for(facts.platform),
        namespace=spec.target.namespace or namespace,
    )
    resolve_endpoint(ctx, spec, target)
    where = "the operator's cluster" if ref is None else f"the target of Secret {ref.name}"
    return f"{where} answers ({facts.platform.platform.value})"


def _ready_reason(test: Mapping[str, Any]) -> str | None:
    condition = find_condition(
        (test.get("status") or {}).get("conditions"), PerfTestCondition.READY.value
    )
    return None if condition is None else str(condition.get("reason"))


def reconcile_test(ctx: Context, test: Mapping[str, Any], trigger: Trigger | None) -> float | None:
    """Check the spec and the target; on a trigger, start a PerfRun unless one is active.

    Returns None when done, or the seconds after which to try again: a missing Secret or a
    target that does not answer may be fixed without the PerfTest changing.
    """
    meta = test["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    retry: float | None = None
    try:
        spec, _ = load_test_spec(ctx, test)
        where = _check_target(ctx, namespace, spec)
    except (SpecError, TargetUnreachable) as exc:
        if isinstance(exc, SpecError):
            reason = spec_error_reason(exc)
            # The Secret can be created or fixed without the PerfTest changing.
            if isinstance(exc, TargetSecretMissing | TargetConfigInvalid):
                retry = ctx.settings.target_retry_seconds
        else:
            reason, retry = Reason.TARGET_UNREACHABLE, ctx.settings.target_retry_seconds
        message = str(exc)
        # A retry finds the same problem: one Warning, not one per attempt.
        if _ready_reason(test) != reason.value:
            post_event(ctx.api, test, WARNING, reason.value, message)
        sync_test_status(ctx, namespace, name, ready=(FALSE, reason.value, message))
        return retry
    ready = (TRUE, Reason.SPEC_VALID.value, f"the spec is valid; {where}")
    if trigger is not None:
        if spec.suspend:
            post_event(
                ctx.api,
                test,
                NORMAL,
                Reason.RUN_SKIPPED.value,
                f"{trigger.value}: the PerfTest is suspended",
            )
        else:
            start_run(ctx, test, trigger)
    sync_test_status(ctx, namespace, name, ready=ready)
    return None


def start_run(ctx: Context, test: Mapping[str, Any], trigger: Trigger) -> str | None:
    """Create the PerfRun for this trigger (once); None when skipped because a run is active."""
    meta = test["metadata"]
    run_now = (meta.get("annotations") or {}).get(RUN_NOW_ANNOTATION)
    label = trigger_id(trigger, generation=int(meta.get("generation") or 1), run_now=run_now)
    runs = ctx.api.list_perfruns(meta["namespace"], meta["name"])
    for run in runs:
        if (run["metadata"].get("labels") or {}).get(TRIGGER_LABEL) == label:
            return str(run["metadata"]["name"])  # this trigger was handled before a restart
    active = [
        r["metadata"]["name"]
        for r in runs
        if derive_run_phase(r.get("status") or {}).value not in TERMINAL_RUN_PHASES
    ]
    if active:
        # Two benchmarks at once would pollute each other's metrics.
        post_event(
            ctx.api,
            test,
            NORMAL,
            Reason.RUN_SKIPPED.value,
            f"{trigger.value}: not started because PerfRun {active[0]} is still active",
        )
        return None
    body = build_perfrun(test, next_run_number(runs), trigger, label)
    run, _ = ctx.api.create_perfrun(body)
    logger.info(
        "PerfTest %s/%s: PerfRun %s created (%s)",
        meta["namespace"],
        meta["name"],
        run["metadata"]["name"],
        trigger.value,
    )
    return str(run["metadata"]["name"])
