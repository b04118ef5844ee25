"""Operator settings from PERFTEST_* environment variables, parsed once at start-up (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from perftest_operator.api.durations import parse_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.policy import (
    ALLOWED_IMAGES,
    CUSTOM_CONFIG_NAMESPACES,
    LOCAL_RUNS,
    SECRET_READING_WORKLOADS,
    RunPolicy,
)
from perftest_operator.api.spec import parse_prometheus_url

PREFIX = "PERFTEST_"
# Built by `make runner-image`; the manifests and the chart set the published one.
DEFAULT_RUNNER_IMAGE = "perftest-runner:dev"
# The ServiceAccount hub Jobs run as by default: the one the manifests and the chart ship in
# each run namespace, and the one the operator creates on remote targets (runner.rbac).
DEFAULT_JOB_SERVICE_ACCOUNT = "perftest-kube-burner"


@dataclass(frozen=True)
class Settings:
    # Prometheus URL for PerfTests that name none (platform defaults come with remote targets).
    default_prometheus_url: str | None = None
    # How often an active PerfRun's Job is looked at.
    poll_interval_seconds: float = 10.0
    # How soon a PerfTest whose target cannot be used (Secret missing, server down) is retried.
    target_retry_seconds: float = 60.0
    # Back-off between attempts to read a run's metrics from Prometheus: first, then doubling up to max.
    collect_backoff_seconds: float = 5.0
    collect_backoff_max_seconds: float = 300.0
    # After this many attempts that found some (not all) metrics missing, the run keeps what it has.
    missing_metric_attempts: int = 5
    # Namespaces to watch; empty = the whole cluster.
    namespaces: tuple[str, ...] = ()
    # The image kube-burner's Jobs run (Containerfile.runner); a PerfTest may name another.
    runner_image: str = DEFAULT_RUNNER_IMAGE
    # ServiceAccount that kube-burner's Job runs as on the operator's own cluster; it must exist
    # in the run namespace (checked before any run). Remote targets always use
    # DEFAULT_JOB_SERVICE_ACCOUNT, which the operator creates there.
    job_service_account: str = DEFAULT_JOB_SERVICE_ACCOUNT
    # Whether the operator runs in a pod of its cluster, with that pod's service account: decided
    # once at start-up from the credentials it loaded (a kubeconfig, as with `make run`: outside).
    # Inside, the hub's thanos-querier is its Service, read with the operator's own token and
    # the service CA; outside, neither exists, and it is read through its Route with a token
    # minted for the Job's ServiceAccount, as on a remote target.
    in_cluster: bool = False
    # With --peering: how long a replica's claim lasts without a heartbeat; the standby takes
    # over this long after the active replica died.
    peering_lifetime_seconds: float = 60.0
    # For tests and demos: a file holding an RFC 3339 time that schedules take as now.
    clock_file: str | None = None
    # Handlers run at once (threads): each mostly waits on the API server, so more than cores.
    workers: int = 20
    # What PerfTests may do: images, own kube-burner configurations, runs on this cluster.
    policy: RunPolicy = field(default_factory=RunPolicy)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw) if raw.replace(".", "", 1).isdigit() else parse_duration(raw)
    except ValueError as exc:
        raise SpecError(PREFIX + name, str(exc)) from None
    if value <= 0:
        raise SpecError(PREFIX + name, "must be longer than zero")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SpecError(PREFIX + name, "must be a positive integer")
    return int(raw)


def _image(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(PREFIX + name) or "").strip() or default
    if any(c.isspace() or ord(c) < 32 for c in raw):
        raise SpecError(PREFIX + name, "must be an image reference without blanks")
    return raw


# A ServiceAccount name is a DNS subdomain (RFC 1123): lower case, digits, '-' and '.'.
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _service_account(env: Mapping[str, str]) -> str:
    raw = (env.get(PREFIX + "JOB_SERVICE_ACCOUNT") or "").strip()
    if not raw:
        return DEFAULT_JOB_SERVICE_ACCOUNT
    if len(raw) > 253 or not _SUBDOMAIN.fullmatch(raw):
        raise SpecError(PREFIX + "JOB_SERVICE_ACCOUNT", f"{raw!r} is not a ServiceAccount name")
    return raw


def _list(env: Mapping[str, str], variable: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (env.get(variable) or "").split(",") if item.strip())


def _boolean(env: Mapping[str, str], variable: str) -> bool:
    raw = (env.get(variable) or "false").strip().lower()
    if raw not in ("true", "false"):
        raise SpecError(variable, f"must be true or false, not {raw!r}")
    return raw == "true"


def _policy(env: Mapping[str, str]) -> RunPolicy:
    images = _list(env, ALLOWED_IMAGES)
    for image in images:
        if any(c.isspace() or ord(c) < 32 for c in image):
            raise SpecError(ALLOWED_IMAGES, f"{image!r} is not an image reference or prefix*")
    return RunPolicy(
        allowed_images=images,
        custom_config_namespaces=_list(env, CUSTOM_CONFIG_NAMESPACES),
        local_runs=_boolean(env, LOCAL_RUNS),
        secret_reading_workloads=_boolean(env, SECRET_READING_WORKLOADS),
    )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Settings from an environment mapping; raises SpecError naming the bad variable.

    `in_cluster` is no variable: `perftest run` sets it from the credentials it loaded.
    """
    url = env.get(PREFIX + "DEFAULT_PROMETHEUS_URL") or None
    if url is not None:
        url = parse_prometheus_url(url, PREFIX + "DEFAULT_PROMETHEUS_URL")
    namespaces = tuple(
        ns.strip() for ns in (env.get(PREFIX + "NAMESPACES") or "").split(",") if ns.strip()
    )
    return Settings(
        default_prometheus_url=url,
        poll_interval_seconds=_seconds(env, "POLL_INTERVAL", 10.0),
        target_retry_seconds=_seconds(env, "TARGET_RETRY", 60.0),
        peering_lifetime_seconds=_seconds(env, "PEERING_LIFETIME", 60.0),
        collect_backoff_seconds=_seconds(env, "COLLECT_BACKOFF", 5.0),
        collect_backoff_max_seconds=_seconds(env, "COLLECT_BACKOFF_MAX", 300.0),
        missing_metric_attempts=_positive_int(env, "MISSING_METRIC_ATTEMPTS", 5),
        namespaces=namespaces,
        job_service_account=_service_account(env),
        runner_image=_image(env, "RUNNER_IMAGE", DEFAULT_RUNNER_IMAGE),
        clock_file=env.get(PREFIX + "CLOCK_FILE") or None,
        workers=_positive_int(env, "WORKERS", 20),
        policy=_policy(env),
    )
