"""Runs that start by themselves: on a cron schedule and when the target's version changes (I/O orchestration).

A kopf timer calls `tick_test` for every PerfTest with a schedule or `trigger.onNewVersion`.
Nothing starts while the PerfTest is Ready=False. Each decision is idempotent: a scheduled run's trigger label names its slot and a version
run's names the version, so a tick repeated after a restart finds the run it created.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import format_time, parse_time
from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.fields import generation, mapping
from perftest_operator.api.perfrun import Trigger, trigger_id
from perftest_operator.api.schedule import due_run_time, next_run_time
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.controller.clock import schedule_now
from perftest_operator.controller.context import Context
from perftest_operator.controller.perftests import (
    load_test_spec,
    not_ready,
    start_run,
    sync_test_status,
)
from perftest_operator.controller.target_access import read_product_version, target_api

logger = logging.getLogger(__name__)


def _scheduled(
    ctx: Context, test: Mapping[str, Any], spec: PerfTestSpec, status: Mapping[str, Any]
) -> dict[str, Any]:
    """Start the run of a due slot (once); the scheduler's status fields to write."""
    assert spec.schedule is not None
    now = schedule_now(ctx.settings)
    updates: dict[str, Any] = {}
    if spec.suspend:
        return {"nextRunTime": None}
    last_text = status.get("lastScheduleTime")
    due = due_run_time(
        spec.schedule,
        last=parse_time(last_text) if last_text else None,
        created=parse_time(test["metadata"]["creationTimestamp"]),
        now=now,
    )
    if due is not None:
        label = trigger_id(
            Trigger.SCHEDULED, generation=generation(test), run_now=None, scheduled_at=due
        )
        start_run(ctx, test, Trigger.SCHEDULED, label, spec=spec, skip_unchanged=True)
        updates["lastScheduleTime"] = format_time(due)
    updates["nextRunTime"] = format_time(next_run_time(spec.schedule, now))
    return updates


def _new_version(
    ctx: Context, test: Mapping[str, Any], spec: PerfTestSpec, status: Mapping[str, Any]
) -> dict[str, Any]:
    """Start a run when the target's product version differs from the one seen last (once)."""
    namespace = test["metadata"]["namespace"]
    try:
        version = read_product_version(
            target_api(ctx, namespace, spec.target.kubeconfig_secret_ref)
        )
    except (SpecError, TargetUnreachable) as exc:
        # reconcile_test reports an unusable target; the next tick looks again.
        logger.info(
            "PerfTest %s/%s: version not read: %s", namespace, test["metadata"]["name"], exc
        )
        return {}
    seen = status.get("lastSeenVersion")
    if not version or version == seen:
        return {}
    if seen is not None and not spec.suspend:
        label = trigger_id(
            Trigger.NEW_VERSION, generation=generation(test), run_now=None, version=version
        )
        start_run(ctx, test, Trigger.NEW_VERSION, label, spec=spec)
    # The first version seen is the baseline: the run at creation already measured it.
    return {"lastSeenVersion": version}


def tick_test(ctx: Context, test: Mapping[str, Any]) -> None:
    """One look at a PerfTest's schedule and target version; writes status only on a change."""
    try:
        spec, _ = load_test_spec(ctx, test)
    except SpecError:
        return  # reconcile_test has said why
    if not_ready(test) is not None:
        # reconcile_test has said why and checks again; a due slot or a new version stays due
        # (nothing is recorded as handled) and starts on the first tick after it passes.
        return
    status = mapping(test.get("status"))
    updates: dict[str, Any] = {}
    if spec.schedule is not None:
        updates.update(_scheduled(ctx, test, spec, status))
    elif status.get("nextRunTime"):
        updates["nextRunTime"] = None
    if spec.trigger.on_new_version:
        updates.update(_new_version(ctx, test, spec, status))
    if any(status.get(key) != value for key, value in updates.items()):
        meta = test["metadata"]
        sync_test_status(ctx, meta["namespace"], meta["name"], scheduler=updates)
