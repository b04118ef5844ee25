"""Drives one PerfRun through its phases: Job, window, metrics, verdict (I/O orchestration).

The phase is never stored on its own: `api.status.derive_run_phase` derives it from the run's
conditions (read it for the exact rules), and `STEPS` maps it to the step that moves it on::

    phase       step (module)                          it writes                   next phase
    Pending     start_job (job_start)                  status.job                  Running
    Running     follow_job (job_follow)                JobCompleted=True           Collecting
    Collecting  collect_metrics (metrics_collection)   MetricsCollected=True       Analyzing
    Analyzing   analyse (verdict_analysis)             Analyzed=True               Succeeded
    any step    JobCompleted=False, or MetricsCollected=False with a reason
                of PERMANENT_COLLECTION_FAILURES                                   Failed

A step returns the status fields it learnt (None: nothing yet, e.g. the Job still runs) and
they are written before the next step starts; every step is safe to repeat: names are derived
from the run, creation tolerates 409, so an operator restart at any point neither loses a run
nor launches a second Job. Waiting keeps the phase (a target that does not answer, a back-off
of the collection). The steps' Event texts are in controller.announce.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.errors import Conflict, SpecError
from perftest_operator.api.perfrun import parse_perfrun
from perftest_operator.api.status import RunPhase, derive_run_phase
from perftest_operator.controller.context import Context
from perftest_operator.controller.job_follow import follow_job
from perftest_operator.controller.job_start import start_job
from perftest_operator.controller.metrics_collection import collect_metrics
from perftest_operator.controller.perftests import sync_test_status
from perftest_operator.controller.pruning import prune_history
from perftest_operator.controller.run_step import Step, TestOfRun
from perftest_operator.controller.verdict_analysis import analyse

logger = logging.getLogger(__name__)

STEPS: dict[RunPhase, Step] = {
    RunPhase.PENDING: start_job,
    RunPhase.RUNNING: follow_job,
    RunPhase.COLLECTING: collect_metrics,
    RunPhase.ANALYZING: analyse,
}


# Attempts at a step's write (and re-runs of a step) when the run changed meanwhile; then the
# next tick looks again.
CONFLICT_ATTEMPTS = 3


def advance_run(ctx: Context, namespace: str, name: str) -> RunPhase | None:
    """Take a PerfRun as far as it can go now; returns its phase (None if it is gone).

    When another thread of this process is advancing the run already, returns None at once
    (that thread then advances it once more).
    """
    return ctx.run_locks.run_exclusively(
        namespace, name, lambda: _advance_run(ctx.for_step(), namespace, name)
    )


def _advance_run(ctx: Context, namespace: str, name: str) -> RunPhase | None:
    found = ctx.api.get_perfrun(namespace, name)
    if found is None:
        return None
    run = parse_perfrun(found)
    stored = dict(run.status)  # as the API server holds it
    status = dict(stored)  # with the steps' changes
    phase = derive_run_phase(status)
    moved = False
    reruns = 0
    version = run.resource_version
    tests = TestOfRun(ctx, run)  # read and parsed once for all the steps of this call
    while phase in STEPS:
        change = STEPS[phase](ctx, run.with_status(status), tests)
        if change is None:
            break
        status.update(change)
        status["phase"] = derive_run_phase(status).value
        patch = {**change, "phase": status["phase"]}
        written, fresh = write_step(ctx, namespace, name, patch, version, stored)
        if written is None:
            reruns += 1
            if fresh is None or reruns >= CONFLICT_ATTEMPTS:
                break
            # Another writer (a Replace, a second replica) moved the run: start from its status.
            logger.info("PerfRun %s/%s changed during a step; looking again", namespace, name)
            run = parse_perfrun(fresh)
            stored = dict(run.status)
            status, phase = dict(stored), derive_run_phase(stored)
            version = run.resource_version
            continue
        written_run = parse_perfrun(written)
        stored, version = dict(written_run.status), written_run.resource_version
        moved = True
        new_phase = derive_run_phase(status)
        if new_phase == phase:
            break  # waiting (a retry is scheduled)
        phase = new_phase
    if moved and phase.is_terminal:
        ctx.telemetry.run_finished(namespace, run.test_name, phase, status)
        _prune(ctx, tests)
    if moved:
        sync_test_status(ctx, namespace, run.test_name)
    return phase


def write_step(
    ctx: Context,
    namespace: str,
    name: str,
    patch: Mapping[str, Any],
    version: str | None,
    stored: Mapping[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Write a step's result over the status it was computed from: (the run written, None),
    or (None, the run as another writer left it), or (None, None) when it is gone.

    Only over that status: a Replace or a second replica that wrote in between wins. A write
    refused only because the metadata changed (kopf's annotations or finalizer on a new run)
    is sent again: the step's result stands, and is not computed twice (no second query).
    """
    for _ in range(CONFLICT_ATTEMPTS):
        try:
            written = ctx.api.patch_perfrun_status(namespace, name, patch, resource_version=version)
            return written, None
        except Conflict:
            fresh = ctx.api.get_perfrun(namespace, name)
            if fresh is None:
                return None, None
            fresh_run = parse_perfrun(fresh)
            if fresh_run.status != stored:
                return None, fresh
            version = fresh_run.resource_version
    return None, None


def _prune(ctx: Context, tests: TestOfRun) -> None:
    try:
        test, spec = tests.load()
    except SpecError:
        return
    prune_history(ctx, test, spec)
