"""ConfigMap and Job manifests of one kube-burner run as plain dicts; builders call nothing (pure).

The Job runs in ``spec.target.namespace`` (default: the PerfRun's namespace) of the cluster
it is created in, and kube-burner works on that same cluster with the pod's service account
(see ``runner.command``). The
ConfigMap is the frozen, human-readable record of what the run executed (``run.json``: the
argv, image, sizes and timeout; nothing secret) and, for a custom workload, also carries the
user's kube-burner configuration, which the Job mounts read-only at ``/etc/kube-burner``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.durations import format_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.owner import OwnerRef
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.runner.command import (
    CONFIG_MOUNT_PATH,
    ENTRYPOINT,
    RunCommand,
    kube_burner_environment,
    kubernetes_config,
    run_command,
)
from perftest_operator.runner.names import label_value, run_resource_name
from perftest_operator.runner.refs import RunRef

__all__ = [
    "KUBE_BURNER_CONTAINER",
    "OwnerRef",
    "RunRef",
    "build_config_map",
    "build_job",
    "job_namespace",
    "run_labels",
    "run_resource_name",
]

KUBE_BURNER_CONTAINER = "kube-burner"
RUN_RECORD_KEY = "run.json"
OUTPUT_DIR = "/kube-burner"  # working directory: kube-burner's log file and collected metrics

NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
TEST_LABEL = "perftest.dev/test"
RUN_LABEL = "perftest.dev/run"
RUN_UID_ANNOTATION = "perftest.dev/run-uid"
RUN_NAMESPACE_ANNOTATION = "perftest.dev/run-namespace"
RUN_NAME_ANNOTATION = "perftest.dev/run-name"  # the whole name; RUN_LABEL may be shortened
MANAGER = "perftest-operator"

JOB_TTL_SECONDS = 7 * 24 * 3600
# Where the entry point leaves the run's summary; the kubelet makes it the termination message.
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
# The user the Job runs as where the platform assigns none: the runner image's own (USER in
# Containerfile.runner). OpenShift's restricted-v2 SCC assigns a UID from the namespace's range
# and refuses others; elsewhere nothing does, and an image without a numeric non-root USER
# (upstream kube-burner's has none: it runs as root) never starts under runAsNonRoot.
RUNNER_UID = 65532

# kube-burner is the load generator: it gets a whole CPU so that client-side throttling does
# not change the rate it achieves from run to run; memory holds per-object latency
# measurements of large runs.
RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "1", "memory": "1Gi"},
    "limits": {"cpu": "2", "memory": "4Gi"},
}
OUTPUT_SIZE_LIMIT = "1Gi"
TMP_SIZE_LIMIT = "256Mi"


def run_labels(run: RunRef) -> dict[str, str]:
    """Labels of every object of a run (Job, its pods, ConfigMap)."""
    return {
        NAME_LABEL: "kube-burner",
        MANAGED_BY_LABEL: MANAGER,
        TEST_LABEL: label_value(run.test),
        RUN_LABEL: label_value(run.run),
    }


def job_namespace(spec: PerfTestSpec, run: RunRef) -> str:
    """Where the run's Job and ConfigMap live: the target namespace, else the PerfRun's."""
    return spec.target.namespace or run.namespace


def _metadata(spec: PerfTestSpec, run: RunRef, owner: OwnerRef | None) -> dict[str, Any]:
    namespace = job_namespace(spec, run)
    metadata: dict[str, Any] = {
        "name": run_resource_name(run.run),
        "namespace": namespace,
        "labels": run_labels(run),
        "annotations": {
            RUN_UID_ANNOTATION: run.uid,
            RUN_NAMESPACE_ANNOTATION: run.namespace,
            RUN_NAME_ANNOTATION: run.run,
        },
    }
    if owner is not None:
        if namespace != run.namespace:
            raise ValueError(
                f"an owner in namespace {run.namespace!r} cannot own objects in "
                f"{namespace!r}; pass owner=None"
            )
        metadata["ownerReferences"] = [owner.reference()]
    return metadata


def _run_record(spec: PerfTestSpec, run: RunRef, image: str) -> dict[str, Any]:
    workload = spec.workload
    ref = workload.config_map_ref
    command = run_command(workload, uuid=run.uid)
    return {
        "test": run.test,
        "run": run.run,
        "runUID": run.uid,
        "runNamespace": run.namespace,
        "targetNamespace": job_namespace(spec, run),
        "image": image,
        "workload": workload.name,
        "kubeBurnerOcpVersion": command.version,
        "customConfig": None if ref is None else {"configMap": ref.name, "key": ref.key},
        "iterations": workload.iterations,
        "qps": workload.qps,
        "burst": workload.burst,
        "timeout": format_duration(command.timeout_seconds),
        "activeDeadlineSeconds": command.deadline_seconds,
        "extraArgs": list(workload.extra_args),
        "command": list(command.argv),
    }


def build_config_map(
    spec: PerfTestSpec,
    run: RunRef,
    *,
    image: str,
    custom_files: Mapping[str, str] | None,
    owner: OwnerRef | None,
) -> dict[str, Any]:
    """The run's ConfigMap: ``run.json`` (the record of the run) and, for a custom workload, the
    files of the user's ConfigMap (the kube-burner config under the key the spec names, and the
    object templates beside it, which the config names by their path under /etc/kube-burner);
    for one of the project's configurations (k8s-node-density, ...), its files.

    A purely computational function with no side effects. ``custom_files`` is the data of
    ``spec.workload.configMapRef``'s ConfigMap; it must be given for a custom workload and only
    then. The ConfigMap is immutable: a run's configuration never changes after it started.
    """
    ref = spec.workload.config_map_ref
    if (ref is None) != (custom_files is None):
        raise ValueError("custom_files must be given exactly when the workload is custom")
    record = _run_record(spec, run, image)
    data = {RUN_RECORD_KEY: json.dumps(record, indent=2, sort_keys=True) + "\n"}
    shipped = kubernetes_config(spec.workload)
    if shipped is not None:
        data.update(shipped.files)
    if ref is not None and custom_files is not None:
        if RUN_RECORD_KEY in custom_files:
            raise SpecError(
                "spec.workload.configMapRef",
                f"the key {RUN_RECORD_KEY!r} of ConfigMap {ref.name} is reserved; rename it",
            )
        if ref.key not in custom_files:
            raise SpecError(
                "spec.workload.configMapRef.key", f"ConfigMap {ref.name} has no {ref.key!r}"
            )
        data.update(custom_files)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(spec, run, owner),
        "immutable": True,
        "data": data,
    }


def _restricted_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def build_job(
    spec: PerfTestSpec,
    run: RunRef,
    *,
    image: str,
    owner: OwnerRef | None,
    service_account: str | None = None,
    run_as_user: int | None = None,
    placement: Mapping[str, Any] | None = None,
    schedulable_nodes: int | None = None,
) -> dict[str, Any]:
    """The batch/v1 Job that runs kube-burner once for ``run``.

    A purely computational function with no side effects. ``service_account`` is the account
    kube-burner works as (it needs rights to create and delete the workload's objects);
    None uses the namespace's default. ``run_as_user`` stays None on OpenShift, whose
    restricted SCC assigns a UID from the namespace's range (a fixed UID outside it is
    rejected); elsewhere set it when the image's default user is root, or the kubelet refuses
    to start the container under ``runAsNonRoot``. ``placement`` holds the pod spec's
    ``nodeSelector``, ``affinity`` and ``tolerations`` (the target platform's scheduling rules).
    ``schedulable_nodes`` sizes a per-node configuration (k8s-node-density).
    """
    workload = spec.workload
    command: RunCommand = run_command(workload, uuid=run.uid)
    env = [{"name": "HOME", "value": OUTPUT_DIR}]
    environment = kube_burner_environment(
        workload, uuid=run.uid, schedulable_nodes=schedulable_nodes
    )
    env += [{"name": name, "value": value} for name, value in environment.items()]
    mounts: list[dict[str, Any]] = [
        {"name": "output", "mountPath": OUTPUT_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "output", "emptyDir": {"sizeLimit": OUTPUT_SIZE_LIMIT}},
        {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}},
    ]
    if workload.config_map_ref is not None or kubernetes_config(workload) is not None:
        # Every file of the run's ConfigMap: the config and the templates it names.
        mounts.append({"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True})
        volumes.append({"name": "config", "configMap": {"name": run_resource_name(run.run)}})
    pod_security: dict[str, Any] = {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if run_as_user is not None:
        if run_as_user <= 0:
            raise ValueError("run_as_user must be a non-root UID")
        pod_security["runAsUser"] = run_as_user
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": True,  # kube-burner's in-cluster credentials
        "securityContext": pod_security,
        "containers": [
            {
                "name": KUBE_BURNER_CONTAINER,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": list(ENTRYPOINT),
                "args": list(command.argv),
                "workingDir": OUTPUT_DIR,
                "env": env,
                "resources": {kind: dict(values) for kind, values in RESOURCES.items()},
                "securityContext": _restricted_security_context(),
                "terminationMessagePath": TERMINATION_MESSAGE_PATH,
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    if service_account is not None:
        pod_spec["serviceAccountName"] = service_account
    if placement:
        pod_spec.update(placement)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(spec, run, owner),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": command.deadline_seconds,
            # Removed by the cluster a week after it finished, should the operator never prune it
            # (PerfTest deleted, operator gone); long enough for any operator outage.
            "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
            "template": {"metadata": {"labels": run_labels(run)}, "spec": pod_spec},
        },
    }
