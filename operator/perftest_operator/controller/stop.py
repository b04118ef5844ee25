"""Stopping a run that another one replaces: its Job deleted on the target, the run failed (I/O)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import FALSE, set_condition
from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.spec import SecretKeyRef
from perftest_operator.api.status import Reason, RunCondition, RunPhase
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.target_access import reaching_target, target_api
from perftest_operator.events import post_event

logger = logging.getLogger(__name__)


def job_secret_ref(job_ref: Mapping[str, Any]) -> SecretKeyRef | None:
    """The kubeconfig Secret recorded in status.job (None: the Job is on the hub)."""
    raw = job_ref.get("kubeconfigSecretRef")
    if not raw:
        return None
    return SecretKeyRef(name=str(raw["name"]), key=str(raw["key"]))


def delete_run_objects(ctx: Context, run: Mapping[str, Any]) -> None:
    """Delete the run's Job and ConfigMap where they are; raises TargetUnreachable or SpecError."""
    status = run.get("status") or {}
    job_ref = status.get("job") or {}
    if not job_ref.get("name"):
        return
    api = target_api(ctx, run["metadata"]["namespace"], job_secret_ref(job_ref))
    with reaching_target():
        api.delete_job(job_ref["namespace"], job_ref["name"])
        if status.get("configMap"):
            api.delete_config_map(job_ref["namespace"], status["configMap"])


def stop_run(ctx: Context, run: Mapping[str, Any], message: str) -> None:
    """Fail an active run with reason Replaced, then delete its Job (kept when unreachable).

    The status goes first: a tick of the run that sees the Job gone must find the run already
    failed as Replaced, not fail it as JobMissing.
    """
    meta = run["metadata"]
    status = run.get("status") or {}
    conditions = set_condition(
        status.get("conditions"),
        RunCondition.JOB_COMPLETED.value,
        FALSE,
        Reason.REPLACED.value,
        message,
        generation=int(meta.get("generation") or 1),
        now=datetime.datetime.now(datetime.UTC),
    )
    ctx.api.patch_perfrun_status(
        meta["namespace"],
        meta["name"],
        {
            "conditions": conditions,
            "reason": Reason.REPLACED.value,
            "message": message,
            "phase": RunPhase.FAILED.value,
        },
    )
    post_event(ctx.api, run, announce.replaced(meta["name"], message))
    try:
        delete_run_objects(ctx, run)
    except (SpecError, TargetUnreachable) as exc:
        logger.warning("PerfRun %s: Job not deleted: %s", meta["name"], exc)


def forget_run(ctx: Context, run: Mapping[str, Any]) -> None:
    """A PerfRun was deleted (by hand, or with its PerfTest): its Job and ConfigMap go too.

    On the hub the garbage collector already follows the owner references; on a remote
    target nothing would, and a running benchmark would go on loading the cluster.
    """
    try:
        delete_run_objects(ctx, run)
    except (SpecError, TargetUnreachable) as exc:
        logger.warning(
            "PerfRun %s deleted; its Job is left to its deadline and TTL: %s",
            run["metadata"]["name"],
            exc,
        )
