"""A Job of a run changed on the hub: advance its PerfRun now instead of at the next poll."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest_operator.api.fields import dig, mapping
from perftest_operator.controller.context import Context
from perftest_operator.controller.perfruns import advance_run
from perftest_operator.runner.manifests import RUN_NAME_ANNOTATION, RUN_NAMESPACE_ANNOTATION
from perftest_operator.runner.outcome import read_job_outcome


def run_of_finished_job(job: Mapping[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of the PerfRun whose Job has finished; None while it runs, or for a
    Job without the annotations (made by an older operator: the run's timer still follows it)."""
    annotations = mapping(dig(job, "metadata", "annotations"))
    namespace = annotations.get(RUN_NAMESPACE_ANNOTATION)
    name = annotations.get(RUN_NAME_ANNOTATION)
    if not namespace or not name:
        return None
    try:
        finished = read_job_outcome(job, []).finished
    except ValueError:
        return None  # a status we cannot read: the timer's next look reports it
    return (str(namespace), str(name)) if finished else None


def job_changed(ctx: Context, job: Mapping[str, Any]) -> None:
    """Collect and analyse a run as soon as its Job has finished."""
    run = run_of_finished_job(job)
    if run is not None:
        advance_run(ctx, *run)
