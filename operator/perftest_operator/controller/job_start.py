"""A Pending PerfRun's step: read the target, render the kube-burner config, create the Job
there once (I/O orchestration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest_operator import API_VERSION
from perftest_operator.api.conditions import UNKNOWN
from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.fields import dig, generation, mapping
from perftest_operator.api.fingerprint import spec_fingerprint
from perftest_operator.api.perfrun import PerfRun
from perftest_operator.api.status import Reason, RunCondition
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.perftests import not_ready, read_custom_config
from perftest_operator.controller.run_step import (
    TestOfRun,
    condition,
    fail_before_job,
    spec_reason,
    tell_run_and_test,
    waiting_for_target,
)
from perftest_operator.controller.target_access import (
    job_service_account,
    prepare_target,
    reaching_target,
    read_target,
    target_api,
)
from perftest_operator.events import post_event
from perftest_operator.kube.protocol import KubeApi
from perftest_operator.runner.manifests import (
    RUNNER_UID,
    OwnerRef,
    RunRef,
    build_config_map,
    build_job,
)
from perftest_operator.target.prerequisites import schedulable_nodes
from perftest_operator.target.profiles import profile_for


def _owned_by_job(api: KubeApi, config_map: Mapping[str, Any], job: Mapping[str, Any]) -> None:
    """On a remote target the ConfigMap goes with its Job (and the Job's TTL): no PerfRun there."""
    meta = job["metadata"]
    stored = api.get_job(meta["namespace"], meta["name"])
    uid = dig(stored, "metadata", "uid")
    if uid:
        owner = OwnerRef(api_version="batch/v1", kind="Job", name=meta["name"], uid=uid)
        api.set_owner(config_map["metadata"]["namespace"], config_map["metadata"]["name"], owner)


def _waiting_for_ready(test: Mapping[str, Any]) -> dict[str, Any] | None:
    """Why a Pending run waits: its PerfTest is Ready=False (its Warning says why), so a retry,
    a confirmation or a PerfRun made by hand starts no Job that could not be measured. None:
    it is not, the Job may start."""
    ready = not_ready(test)
    if ready is None:
        return None
    message = (
        f"waiting for PerfTest {test['metadata']['name']} to be Ready: "
        f"{ready.get('reason')}: {ready.get('message')}"
    )
    return {"reason": Reason.TEST_NOT_READY, "message": message}


def start_job(ctx: Context, run: PerfRun, tests: TestOfRun) -> dict[str, Any] | None:
    """Pending: read the target, render the kube-burner config and create the Job there (once)."""
    try:
        test, spec = tests.load(starting=True)
        # The only read of a custom workload's files: the run's ConfigMap keeps its own copy.
        custom_files = read_custom_config(ctx, run.namespace, spec)
        secret_ref = spec.target.kubeconfig_secret_ref
        api = target_api(ctx, run.namespace, secret_ref)
        facts = read_target(api, spec)
    except SpecError as exc:
        failed = announce.run_failed(run.name, str(exc), spec_reason(exc))
        tell_run_and_test(ctx, run, tests, failed)
        return fail_before_job(run, spec_reason(exc), str(exc))
    except TargetUnreachable as exc:
        return waiting_for_target(ctx, run, exc)
    waiting = _waiting_for_ready(test)
    if waiting is not None:
        unchanged = all(run.status.get(key) == value for key, value in waiting.items())
        return None if unchanged else waiting

    remote = secret_ref is not None
    profile = profile_for(facts.platform)
    namespace = spec.target.namespace or run.namespace
    ref = RunRef(test=run.test_name, run=run.name, uid=run.uid or "", namespace=run.namespace)
    # A namespaced owner must live in the dependent's namespace (and cluster), or the garbage
    # collector deletes the dependent.
    owner = (
        OwnerRef(api_version=API_VERSION, kind="PerfRun", name=run.name, uid=run.uid)
        if not remote and namespace == run.namespace and run.uid
        else None
    )
    image = spec.workload.image or ctx.settings.runner_image
    try:
        config_map = build_config_map(
            spec, ref, image=image, custom_files=custom_files, owner=owner
        )
        job = build_job(
            spec,
            ref,
            image=image,
            owner=owner,
            service_account=job_service_account(ctx, remote=remote),
            placement=profile.scheduling.pod_spec_fields(),
            run_as_user=None if profile.openshift else RUNNER_UID,
            schedulable_nodes=schedulable_nodes(facts.nodes),
        )
    except SpecError as exc:
        reason = Reason.INVALID_SPEC
        tell_run_and_test(ctx, run, tests, announce.run_failed(run.name, str(exc), reason))
        return fail_before_job(run, reason, str(exc))
    try:
        with reaching_target():
            prepare_target(
                api,
                namespace,
                spec,
                remote=remote,
                openshift=profile.openshift,
                run_namespace=run.namespace,
            )
            api.create_config_map(config_map)
            created = api.create_job(job)
            if remote:
                _owned_by_job(api, config_map, job)
    except TargetUnreachable as exc:
        return waiting_for_target(ctx, run, exc)
    job_name = job["metadata"]["name"]
    target_secret = None if secret_ref is None else secret_ref.name
    started = announce.run_started(run.name, namespace, job_name, target_secret, spec.workload.name)
    if created:
        ctx.telemetry.run_started(run.namespace, run.test_name)
    # Also when the Job was there already: the step may be repeated after a restart that came
    # between creating the Job and posting; `once` keeps it to one Event.
    post_event(ctx.api, run.obj, started)
    post_event(ctx.api, test, announce.on_test(run.name, started))
    job_status: dict[str, Any] = {"name": job_name, "namespace": namespace}
    if secret_ref is not None:
        job_status["kubeconfigSecretRef"] = {"name": secret_ref.name, "key": secret_ref.key}
    return {
        "testGeneration": generation(test),
        "job": job_status,
        "configMap": config_map["metadata"]["name"],
        "target": facts.describe(),
        "specFingerprint": spec_fingerprint(mapping(test.get("spec"))),
        "reason": Reason.JOB_RUNNING,
        "message": started.message,
        "conditions": condition(
            run, RunCondition.JOB_COMPLETED, UNKNOWN, Reason.JOB_RUNNING, started.message
        ),
    }
