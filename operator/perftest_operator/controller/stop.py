"""Stopping a run that another one replaces: its Job deleted on the target, the run failed (I/O)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import FALSE, set_condition
from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.perfrun import PerfRun, parse_perfrun
from perftest_operator.api.status import Reason, RunCondition, RunPhase
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.target_access import reaching_target, target_api
from perftest_operator.events import post_event

logger = logging.getLogger(__name__)


def delete_run_objects(ctx: Context, run: PerfRun) -> None:
    """Delete the run's Job and ConfigMap where they are; raises TargetUnreachable or SpecError."""
    job = run.job
    if job is None:
        return
    api = target_api(ctx, run.namespace, job.kubeconfig_secret_ref)
    with reaching_target():
        api.delete_job(job.namespace, job.name)
        if run.config_map:
            api.delete_config_map(job.namespace, run.config_map)


def stop_run(ctx: Context, run: PerfRun, message: str) -> None:
    """Fail an active run with reason Replaced, then delete its Job (kept when unreachable).

    The status goes first: a tick of the run that sees the Job gone must find the run already
    failed as Replaced, not fail it as JobMissing.
    """
    conditions = set_condition(
        run.conditions,
        RunCondition.JOB_COMPLETED.value,
        FALSE,
        Reason.REPLACED,
        message,
        generation=run.generation,
        now=datetime.datetime.now(datetime.UTC),
    )
    ctx.api.patch_perfrun_status(
        run.namespace,
        run.name,
        {
            "conditions": conditions,
            "reason": Reason.REPLACED,
            "message": message,
            "phase": RunPhase.FAILED.value,
        },
    )
    post_event(ctx.api, run.obj, announce.replaced(run.name, message))
    try:
        delete_run_objects(ctx, run)
    except (SpecError, TargetUnreachable) as exc:
        logger.warning("PerfRun %s: Job not deleted: %s", run.name, exc)


def forget_run(ctx: Context, run: Mapping[str, Any]) -> None:
    """A PerfRun was deleted (by hand, or with its PerfTest): its Job and ConfigMap go too.

    On the hub the garbage collector already follows the owner references; on a remote
    target nothing would, and a running benchmark would go on loading the cluster.
    """
    deleted = parse_perfrun(run)
    try:
        delete_run_objects(ctx, deleted)
    except (SpecError, TargetUnreachable) as exc:
        logger.warning(
            "PerfRun %s deleted; its Job is left to its deadline and TTL: %s", deleted.name, exc
        )
