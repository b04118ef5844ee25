"""Marks finished PerfRuns so that the operator's watch leaves them out (I/O at the edge)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator import FINALIZER
from perftest_operator.api.errors import Conflict
from perftest_operator.api.perfrun import finished_run_metadata
from perftest_operator.controller.context import Context

logger = logging.getLogger(__name__)


def mark_run_finished(ctx: Context, run: Mapping[str, Any]) -> None:
    """Label a run in a terminal phase as finished (and drop kopf's finalizer with it).

    A Conflict is left alone: the run changed, and its next event brings it here again.
    """
    metadata = finished_run_metadata(run, FINALIZER)
    if metadata is None:
        return
    meta = run["metadata"]
    try:
        ctx.api.patch_perfrun_metadata(meta["namespace"], meta["name"], metadata)
    except Conflict:
        logger.debug(
            "PerfRun %s/%s changed before it was marked finished", meta["namespace"], meta["name"]
        )
