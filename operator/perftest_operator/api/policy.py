"""What the operator's admin lets a PerfTest do: images, own configurations, local runs, and
workloads that read every Secret of their target (pure).

A PerfTest author controls a Job: its image and, with ``configMapRef``, the kube-burner
configuration that decides what the Job creates. Neither may be more than the admin allows
(docs/security.md): the images are the admin's list (PERFTEST_ALLOWED_IMAGES, by default only
the runner image the operator is set up with), own configurations only in the namespaces the
admin names (PERFTEST_CUSTOM_CONFIG_NAMESPACES, by default none), and runs on the operator's own
cluster only when the admin turns them on (PERFTEST_LOCAL_RUNS, off by default): a Job there
runs next to the operator, with the hub's API at hand. Three kube-burner-ocp workloads
(cluster-density-v2, cluster-density-ms, rds-core) verify the Secrets they create with a list
across every namespace, which no flag of kube-burner-ocp v1.7.3 turns off: their Job's token
can read every Secret of the target, so they run only where the admin says so
(PERFTEST_SECRET_READING_WORKLOADS, off by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from perftest_operator.api.errors import NotAllowed
from perftest_operator.api.spec import PerfTestSpec

ALLOWED_IMAGES = "PERFTEST_ALLOWED_IMAGES"
CUSTOM_CONFIG_NAMESPACES = "PERFTEST_CUSTOM_CONFIG_NAMESPACES"
LOCAL_RUNS = "PERFTEST_LOCAL_RUNS"
SECRET_READING_WORKLOADS = "PERFTEST_SECRET_READING_WORKLOADS"
# The same settings as the chart's values name them.
HELM_VALUES = {
    ALLOWED_IMAGES: "policy.allowedImages",
    CUSTOM_CONFIG_NAMESPACES: "policy.customConfigNamespaces",
    LOCAL_RUNS: "policy.localRuns",
    SECRET_READING_WORKLOADS: "policy.secretReadingWorkloads",
}
ANY = "*"


@dataclass(frozen=True)
class RunPolicy:
    """The admin's limits; an image pattern ending in ``*`` is a prefix, ``*`` alone any image."""

    allowed_images: tuple[str, ...] = ()  # empty: only the runner image
    custom_config_namespaces: tuple[str, ...] = ()  # "*": every namespace
    local_runs: bool = False
    secret_reading_workloads: bool = False


def _setting(name: str) -> str:
    return f"operator setting {name}, Helm value {HELM_VALUES[name]}"


def image_allowed(image: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``image`` is one of ``patterns`` (exact, or a prefix where one ends in ``*``)."""
    return any(
        image.startswith(pattern[:-1]) if pattern.endswith(ANY) else image == pattern
        for pattern in patterns
    )


def check_policy(
    spec: PerfTestSpec,
    namespace: str,
    policy: RunPolicy,
    *,
    runner_image: str,
    reads_secrets: bool = False,
) -> None:
    """Raise NotAllowed, naming the setting, for what ``policy`` does not let the PerfTest do.

    ``reads_secrets``: the workload's Job account may read every Secret of the target
    (``runner.rbac.workload_reads_secrets``). A purely computational function.
    """
    image = spec.workload.image
    allowed = policy.allowed_images or (runner_image,)
    if image is not None and image != runner_image and not image_allowed(image, allowed):
        raise NotAllowed(
            "spec.workload.image",
            f"{image} is not an image PerfTests may use ({_setting(ALLOWED_IMAGES)}: "
            f"{', '.join(allowed)})",
        )
    if spec.workload.config_map_ref is not None and not (
        ANY in policy.custom_config_namespaces or namespace in policy.custom_config_namespaces
    ):
        raise NotAllowed(
            "spec.workload.configMapRef",
            f"PerfTests in namespace {namespace} may not bring their own kube-burner "
            f"configuration ({_setting(CUSTOM_CONFIG_NAMESPACES)}); use a named workload",
        )
    if spec.target.kubeconfig_secret_ref is None and not policy.local_runs:
        raise NotAllowed(
            "spec.target.kubeconfigSecretRef",
            f"runs on the operator's own cluster are off ({_setting(LOCAL_RUNS)}); name the "
            "kubeconfig Secret of the cluster to benchmark",
        )
    if reads_secrets and not policy.secret_reading_workloads:
        raise NotAllowed(
            "spec.workload.name",
            f"{spec.workload.name} reads every Secret of its target: kube-burner verifies the "
            "Secrets it creates with a list across all namespaces, and kube-burner-ocp has no "
            f"flag to turn that off ({_setting(SECRET_READING_WORKLOADS)}); choose another "
            "workload or ask the operator's admin",
        )
