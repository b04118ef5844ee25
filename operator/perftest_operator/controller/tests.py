"""PerfTest side: validate the spec, start PerfRuns on triggers, keep the PerfTest status (I/O orchestration)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import FALSE, TRUE
from perftest_operator.api.errors import SpecError
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
    Reason,
    build_test_status,
    derive_run_phase,
)
from perftest_operator.controller.context import Context
from perftest_operator.events import NORMAL, WARNING, post_event
from perftest_operator.kube.api import Conflict

logger = logging.getLogger(__name__)

STATUS_WRITE_ATTEMPTS = 5


def load_test_spec(ctx: Context, test: Mapping[str, Any]) -> tuple[PerfTestSpec, str | None]:
    """The typed spec and, for a custom workload, its kube-burner config; SpecError if unusable."""
    spec = parse_perftest_spec(
        test.get("spec") or {}, default_prometheus_url=ctx.settings.default_prometheus_url
    )
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


def reconcile_test(ctx: Context, test: Mapping[str, Any], trigger: Trigger | None) -> None:
    """Check the spec; on a trigger, start a PerfRun unless one is active; then refresh the status."""
    meta = test["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    try:
        spec, _ = load_test_spec(ctx, test)
    except SpecError as exc:
        message = str(exc)
        post_event(ctx.api, test, WARNING, Reason.INVALID_SPEC.value, message)
        sync_test_status(ctx, namespace, name, ready=(FALSE, Reason.INVALID_SPEC.value, message))
        return
    ready = (TRUE, Reason.SPEC_VALID.value, "the spec is valid")
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
