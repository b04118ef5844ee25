"""What the steps of a PerfRun share: the run's PerfTest read once, its conditions, its Events
on the run and its PerfTest, and the ways a step stops short (I/O orchestration)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from perftest_operator.api.conditions import FALSE, set_condition
from perftest_operator.api.errors import PerfTestNotFound, SpecError, TargetUnreachable
from perftest_operator.api.perfrun import PerfRun
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.api.status import Reason, RunCondition, spec_error_reason
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.perftests import check_start_policy, parse_test_spec
from perftest_operator.events import EventText, post_event


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class TestOfRun:
    """The run's PerfTest and its typed spec, read and parsed at most once per step, and only
    when the step needs them (a Running run's tick does not, unless its Job failed)."""

    def __init__(self, ctx: Context, run: PerfRun) -> None:
        self._ctx = ctx
        self._namespace = run.namespace
        self._name = run.test_name
        self._read = False
        self._test: dict[str, Any] | None = None
        self._loaded: tuple[dict[str, Any], PerfTestSpec] | SpecError | None = None

    def object(self) -> dict[str, Any] | None:
        """The PerfTest as the hub holds it (None: it is gone), whether its spec is usable or not."""
        if not self._read:
            self._test, self._read = self._ctx.api.get_perftest(self._namespace, self._name), True
        return self._test

    def load(self, *, starting: bool = False) -> tuple[dict[str, Any], PerfTestSpec]:
        """The PerfTest and its spec; SpecError (PerfTestNotFound) when unusable.

        ``starting``: a Job is to come, so the admin's policy applies too (NotAllowed).
        """
        if self._loaded is None:
            try:
                test = self.object()
                if test is None:
                    raise PerfTestNotFound(self._name)
                self._loaded = (test, parse_test_spec(test))
            except SpecError as exc:
                self._loaded = exc
        if isinstance(self._loaded, SpecError):
            raise self._loaded
        test, spec = self._loaded
        if starting:
            check_start_policy(self._ctx, self._namespace, spec)
        return test, spec


# A step: the change to the run's status (None: nothing to write yet, e.g. the Job still runs).
Step = Callable[[Context, PerfRun, TestOfRun], dict[str, Any] | None]


def condition(
    run: PerfRun, type_: RunCondition, value: str, reason: str, message: str
) -> list[dict[str, Any]]:
    """The run's conditions with `type_` set, for this generation of the run, now."""
    return set_condition(
        run.conditions, type_.value, value, reason, message, generation=run.generation, now=now()
    )


def spec_reason(exc: SpecError) -> Reason:
    return spec_error_reason(exc)


def fail_before_job(run: PerfRun, reason: str, message: str) -> dict[str, Any]:
    """The change that fails the run with JobCompleted=False (no Job, or none to follow)."""
    return {
        "reason": reason,
        "message": message,
        "conditions": condition(run, RunCondition.JOB_COMPLETED, FALSE, reason, message),
    }


def permanent_collection_failure(
    ctx: Context, run: PerfRun, test: TestOfRun, reason: str, message: str
) -> dict[str, Any]:
    """The change that fails the run with MetricsCollected=False (announced as RunFailed)."""
    tell_run_and_test(ctx, run, test, announce.run_failed(run.name, message, reason))
    return {
        "reason": reason,
        "message": message,
        "nextCollectTime": None,
        "conditions": condition(run, RunCondition.METRICS_COLLECTED, FALSE, reason, message),
    }


def waiting_for_target(ctx: Context, run: PerfRun, exc: TargetUnreachable) -> dict[str, Any]:
    """Keep the phase and say why: a target that does not answer may be back on the next tick."""
    event = announce.target_unreachable(exc)
    if run.reason != Reason.TARGET_UNREACHABLE:
        post_event(ctx.api, run.obj, event)
    return {"reason": Reason.TARGET_UNREACHABLE, "message": event.message}


def tell_run_and_test(ctx: Context, run: PerfRun, test: TestOfRun, event: EventText) -> None:
    """Post the Event on the run, and on its PerfTest with the run's name first."""
    post_event(ctx.api, run.obj, event)
    test_object = test.object()
    if test_object is not None:
        post_event(ctx.api, test_object, announce.on_test(run.name, event))
