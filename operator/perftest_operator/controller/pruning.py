"""Keeping `spec.history.keep` finished runs: older PerfRuns and their Jobs and ConfigMaps go (I/O)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.perfrun import parse_perfrun
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.stop import delete_run_objects
from perftest_operator.events import post_event
from perftest_operator.history.retention import runs_to_prune

logger = logging.getLogger(__name__)


def prune_history(ctx: Context, test: Mapping[str, Any], spec: PerfTestSpec) -> list[str]:
    """Delete the finished runs beyond `spec.history.keep`, oldest first; their names.

    A run's Job and ConfigMap on its target go first; when the target does not answer, the
    PerfRun stays (and is tried again after the next run) so nothing is left behind unseen.
    When its kubeconfig Secret is gone the PerfRun goes anyway: the Job's TTL cleans up there.
    """
    meta = test["metadata"]
    runs = ctx.api.list_perfruns(meta["namespace"], meta["name"])
    pruned: list[str] = []
    for old in runs_to_prune(runs, spec.history.keep):
        run = parse_perfrun(old)
        name = run.name
        try:
            delete_run_objects(ctx, run)
        except TargetUnreachable as exc:
            logger.warning("PerfRun %s kept for now: its Job was not deleted: %s", name, exc)
            continue
        except SpecError as exc:
            logger.warning("PerfRun %s: its Job is left to its TTL: %s", name, exc)
        ctx.api.delete_perfrun(meta["namespace"], name)
        pruned.append(name)
    if pruned:
        post_event(ctx.api, test, announce.pruned(pruned, spec.history.keep))
    return pruned
