"""Registers the operator's kopf handlers on a registry, with settings parsed once at start-up."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from perftest_operator import FINALIZER, GROUP, VERSION
from perftest_operator.api.perfrun import (
    FINISHED_LABEL,
    UNFINISHED_RUNS_SELECTOR,
    Trigger,
    trigger_from_diff,
)
from perftest_operator.api.status import derive_run_phase
from perftest_operator.controller.context import Context
from perftest_operator.controller.finished import mark_run_finished
from perftest_operator.controller.job_events import job_changed, run_of_finished_job
from perftest_operator.controller.perfruns import advance_run
from perftest_operator.controller.perftests import reconcile_test
from perftest_operator.controller.stop import forget_run
from perftest_operator.controller.triggers import tick_test
from perftest_operator.runner.manifests import MANAGED_BY_LABEL, MANAGER
from perftest_operator.workarounds import ChangedKindsDiffBaseStorage

KOPF_PREFIX = f"kopf.{GROUP}"


def _run_is_active(status: kopf.Status, **_: Any) -> bool:
    return not derive_run_phase(status).is_terminal


def _run_is_finished_unmarked(
    status: kopf.Status, labels: kopf.Labels, type: str | None, **_: Any
) -> bool:
    # A run the label takes out of the watch arrives once more, as DELETED with its content
    # from before the label (the API server's watch cache sends what matched): already marked.
    if type == "DELETED":
        return False
    return not _run_is_active(status) and labels.get(FINISHED_LABEL) != "true"


def _run_is_being_deleted(meta: kopf.Meta, **_: Any) -> bool:
    return meta.get("deletionTimestamp") is not None


def _job_has_finished(body: kopf.Body, **_: Any) -> bool:
    # Not a thread for each of a running Job's events (its pod, its status): only the last.
    return run_of_finished_job(body) is not None


def _runs_by_itself(spec: kopf.Spec, **_: Any) -> bool:
    return bool(spec.get("schedule") or (spec.get("trigger") or {}).get("onNewVersion"))


def register_handlers(registry: kopf.OperatorRegistry, ctx: Context) -> None:
    """Attach every handler to `registry`; each is a guard and one call into the controller."""

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # kopf's bookkeeping goes to annotations under a prefix of its own: the status schema
        # stays ours, and kopf ignores every annotation under its prefix when it compares
        # objects, so it must not be perftest.dev/ (that would hide perftest.dev/run-now).
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
        settings.persistence.diffbase_storage = ChangedKindsDiffBaseStorage(
            changed_kinds={"PerfTest"},  # the only kind with create/update/delete handlers
            prefix=KOPF_PREFIX,
            key="last-handled-configuration",
        )
        settings.persistence.finalizer = FINALIZER
        # Server-side filters: finished PerfRuns (the history, thousands of them) never reach
        # the operator's watch, and of all Jobs only ours do.
        settings.watching.label_selectors[GROUP, "perfruns"] = UNFINISHED_RUNS_SELECTOR
        settings.watching.label_selectors["batch", "jobs"] = f"{MANAGED_BY_LABEL}={MANAGER}"
        # Our own Events say what happened; kopf's per-handler Events would only add noise.
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.peering.lifetime = max(1, round(ctx.settings.peering_lifetime_seconds))
        settings.execution.max_workers = ctx.settings.workers
        # kopf's finalizer for the PerfRun timer is released only once the timer has exited;
        # it looks every `cancellation_polling` seconds (default 60): a deleted PerfRun would
        # linger a minute.
        settings.background.cancellation_polling = min(1.0, ctx.settings.poll_interval_seconds)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # A registry of our own has none of kopf's default login handlers.
        info: kopf.ConnectionInfo | None = kopf.login_via_client(**kwargs)
        return info

    def reconcile(body: kopf.Body, trigger: Trigger | None) -> None:
        retry = reconcile_test(ctx.for_step(), body, trigger)
        if retry is not None:
            # The status says what is wrong; kopf calls the handler again after the delay.
            raise kopf.TemporaryError("not ready yet; checked again later", delay=retry)

    @kopf.on.create(GROUP, VERSION, "perftests", registry=registry)
    def perftest_created(body: kopf.Body, **_: Any) -> None:
        reconcile(body, Trigger.CREATED)

    @kopf.on.update(GROUP, VERSION, "perftests", registry=registry)
    def perftest_updated(body: kopf.Body, diff: kopf.Diff, **_: Any) -> None:
        reconcile(body, trigger_from_diff(diff))

    @kopf.on.resume(GROUP, VERSION, "perftests", registry=registry)
    def perftest_resumed(body: kopf.Body, **_: Any) -> None:
        reconcile(body, None)

    @kopf.timer(
        GROUP,
        VERSION,
        "perftests",
        interval=ctx.settings.poll_interval_seconds,
        when=_runs_by_itself,
        registry=registry,
    )
    def perftest_tick(body: kopf.Body, **_: Any) -> None:
        tick_test(ctx.for_step(), body)

    # An event handler, not on.delete: a resource with no create/update/delete handler gets
    # no kopf annotation written on every change, so each run costs two writes (and the two
    # watch events they cause) fewer. Without a finalizer of its own a PerfRun can always be
    # deleted, even with the operator gone (then a remote Job runs to its deadline and goes
    # with its TTL); while active it carries kopf's (for its timer), so this handler sees the
    # deletion mark. It may see it twice (then the final event): deleting again is harmless.
    @kopf.on.event(GROUP, VERSION, "perfruns", when=_run_is_being_deleted, registry=registry)
    def perfrun_deleted(body: kopf.Body, **_: Any) -> None:
        forget_run(ctx, body)

    # optional: no finalizer, so a PerfTest can always be deleted, even with the operator gone.
    @kopf.on.delete(GROUP, VERSION, "perftests", optional=True, registry=registry)
    def perftest_deleted(name: str, namespace: str | None, **_: Any) -> None:
        if namespace:
            ctx.telemetry.forget_test(namespace, name)  # no stale series for a deleted test

    @kopf.timer(
        GROUP,
        VERSION,
        "perfruns",
        interval=ctx.settings.poll_interval_seconds,
        when=_run_is_active,
        registry=registry,
    )
    def perfrun_tick(name: str, namespace: str | None, **_: Any) -> None:
        if namespace:  # PerfRuns are namespaced; the guard only satisfies kopf's signature
            advance_run(ctx, namespace, name)

    @kopf.on.event(GROUP, VERSION, "perfruns", when=_run_is_finished_unmarked, registry=registry)
    def perfrun_finished(body: kopf.Body, **_: Any) -> None:
        mark_run_finished(ctx, body)

    # The Jobs on the hub: a finished one moves its run on at once (remote targets' Jobs are
    # followed by the run's timer).
    @kopf.on.event(
        "batch",
        "v1",
        "jobs",
        labels={MANAGED_BY_LABEL: MANAGER},
        when=_job_has_finished,
        registry=registry,
    )
    def job_event(body: kopf.Body, **_: Any) -> None:
        job_changed(ctx, body)
