"""PerfTest spec: typed, frozen model, parsed once from the raw resource and validated (pure)."""

from __future__ import annotations

import datetime
import enum
import math
import posixpath
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from perftest_operator.api.default_kpis import DEFAULT_METRICS
from perftest_operator.api.durations import format_duration, parse_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.kpi import (
    DEFAULT_THRESHOLD_PERCENT,
    LEGACY_LAST,
    QUANTILE_FIELDS,
    QUANTILES_METRIC_SUFFIX,
    Aggregation,
    Direction,
    KubeBurnerQuantile,
    MetricSpec,
    OverTime,
)
from perftest_operator.api.schedule import (
    DEFAULT_TIME_ZONE,
    next_run_time,
    parse_cron,
    parse_time_zone,
)
from perftest_operator.api.schedule import Schedule as Schedule  # spec.Schedule, re-exported

DEFAULT_STEP = "30s"
DEFAULT_QUERY_TIMEOUT = "30s"
DEFAULT_MIN_HISTORY = 5
DEFAULT_LOOKBACK = 100
DEFAULT_CONFIRM_RUNS = 0
MAX_CONFIRM_RUNS = 5
DEFAULT_RETRIES = 0
MAX_RETRIES = 10
DEFAULT_HISTORY_KEEP = 100
MAX_HISTORY_KEEP = 10000
# Longest a value may be: a run that outlives the Job's TTL, a query that blocks an operator
# worker for hours, or a step that leaves one point per window measures nothing useful.
MAX_TIMEOUT_SECONDS = 7 * 86400.0
MAX_STEP_SECONDS = 86400.0
MAX_QUERY_TIMEOUT_SECONDS = 600.0
MAX_EXTRA_ARG_LENGTH = 4096
# Flags the operator owns whatever the tool: the run's identity, the cluster kube-burner talks
# to, its timer (the Job's deadline is derived from it) and, for a custom workload, the config
# it runs. The contract of each kube-burner-ocp version names more (runner.command).
RESERVED_FLAGS = ("--uuid", "--kubeconfig", "--kube-context", "--timeout")
RESERVED_CUSTOM_FLAGS = ("--config", "-c")
_WORKLOAD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
# The only places a file named in extraArgs may be: the mounted custom config, the work dir.
EXTRA_ARG_PATHS = ("/etc/kube-burner/", "/kube-burner/")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# Prometheus' label names (prometheus.io/docs/concepts/data_model: "must match the regex
# [a-zA-Z_][a-zA-Z0-9_]*"; newer servers also accept quoted UTF-8 names, not needed here).
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_E = TypeVar("_E", bound=enum.Enum)
_SCHEDULE_CHECK_START = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class ConcurrencyPolicy(str, enum.Enum):
    """What happens when a run is due while another run of the same test is active."""

    FORBID = "Forbid"  # the due run is skipped
    REPLACE = "Replace"  # the active run is stopped and the due run starts
    ALLOW = "Allow"  # both run


class ChurnDeletionStrategy(str, enum.Enum):
    """How kube-burner deletes what it churns (kube-burner pkg/burner/create.go:354-363)."""

    DEFAULT = "default"  # the namespaces
    GVR = "gvr"  # each kind's objects, then the namespaces


class Platform(str, enum.Enum):
    AUTO = "Auto"
    AWS = "AWS"
    AZURE = "Azure"
    GCP = "GCP"
    IBM_CLOUD = "IBMCloud"
    BARE_METAL = "BareMetal"
    ROSA = "ROSA"
    ARO = "ARO"


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str


@dataclass(frozen=True)
class ConfigMapKeyRef:
    name: str
    key: str


@dataclass(frozen=True)
class Target:
    platform: Platform = Platform.AUTO
    kubeconfig_secret_ref: SecretKeyRef | None = None
    # Where kube-burner's Job runs; None: the PerfTest's own namespace (on the hub).
    namespace: str | None = None


@dataclass(frozen=True)
class Churn:
    """spec.workload.churn: kube-burner deletes and re-creates part of the objects after creation.

    Absent fields take the workload's own defaults at its kube-burner-ocp version.
    """

    duration_seconds: float | None = None
    cycles: int | None = None
    percent: int | None = None
    delay_seconds: float | None = None
    deletion_strategy: ChurnDeletionStrategy | None = None


@dataclass(frozen=True)
class Workload:
    """A kube-burner-ocp workload by name, or a custom kube-burner config from a ConfigMap."""

    name: str | None
    config_map_ref: ConfigMapKeyRef | None
    image: str | None = None  # None: the operator's runner image
    version: str | None = None  # kube-burner-ocp in that image; None: the pinned version
    iterations: int | None = None
    qps: int | None = None
    burst: int | None = None
    timeout_seconds: float | None = None  # None: long enough for creation and churn
    churn: Churn | None = None  # None: no churn (kube-burner-ocp's --churn=false)
    extra_args: tuple[str, ...] = ()

    @property
    def is_custom(self) -> bool:
        return self.config_map_ref is not None


@dataclass(frozen=True)
class PrometheusSettings:
    url: str | None = None
    bearer_token_secret_ref: SecretKeyRef | None = None
    use_service_account_token: bool = False
    ca_secret_ref: SecretKeyRef | None = None
    insecure_skip_verify: bool = False
    step_seconds: float = 30.0
    query_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Acknowledgement:
    """spec.analysis.acknowledged[]: a known change point of `metric` at one run, and why."""

    metric: str
    run: str | None  # the PerfRun's name, or
    uuid: str | None  # its metadata.uid; exactly one of run and uuid is set
    reason: str


@dataclass(frozen=True)
class AnalysisSettings:
    min_history: int = DEFAULT_MIN_HISTORY
    lookback: int = DEFAULT_LOOKBACK
    # Runs started at once to confirm a change point at the newest run (0: report it at once).
    confirm_runs: int = DEFAULT_CONFIRM_RUNS
    acknowledged: tuple[Acknowledgement, ...] = ()


@dataclass(frozen=True)
class TriggerSettings:
    """spec.trigger: runs started by the target itself, and runs skipped as duplicates."""

    on_new_version: bool = False  # a run when the target's product version changes
    # Skip a due run when version, node metadata and spec fingerprint equal the last success's.
    skip_unchanged: bool = False


@dataclass(frozen=True)
class HistorySettings:
    keep: int = DEFAULT_HISTORY_KEEP  # finished PerfRuns kept; older ones are pruned


@dataclass(frozen=True)
class PerfTestSpec:
    target: Target
    workload: Workload
    prometheus: PrometheusSettings
    metrics: tuple[MetricSpec, ...]
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    # spec.metrics left out: the defaults, read with the target's monitoring stack's selectors
    default_metrics: bool = False
    suspend: bool = False
    schedule: Schedule | None = None
    trigger: TriggerSettings = field(default_factory=TriggerSettings)
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.FORBID
    retries: int = DEFAULT_RETRIES  # new PerfRuns for a failed Job, each linked to the one before
    history: HistorySettings = field(default_factory=HistorySettings)


def _mapping(raw: Any, path: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError(path, f"must be an object, got {type(raw).__name__}")
    return raw


def _string(raw: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{path}.{key}", "must be a non-empty string")
    return value.strip()


def _boolean(raw: Mapping[str, Any], key: str, path: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise SpecError(f"{path}.{key}", f"must be true or false, got {value!r}")
    return value


def _positive_int(raw: Mapping[str, Any], key: str, path: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{path}.{key}", f"must be a positive integer, got {value!r}")
    return value


def _bounded_int(
    raw: Mapping[str, Any], key: str, path: str, *, default: int, low: int, high: int
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"{path}.{key}", f"must be an integer from {low} to {high}, got {value!r}")
    return value


def _duration(
    raw: Mapping[str, Any], key: str, path: str, default: str, *, longest: float
) -> float:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise SpecError(f"{path}.{key}", f"must be a duration like 90s or 1h30m, got {value!r}")
    if len(value) > 64:
        raise SpecError(f"{path}.{key}", "is too long for a duration")
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise SpecError(f"{path}.{key}", str(exc)) from None
    if seconds <= 0:
        raise SpecError(f"{path}.{key}", "must be longer than zero")
    if not math.isfinite(seconds) or seconds > longest:
        raise SpecError(f"{path}.{key}", f"must be at most {format_duration(longest)}")
    return seconds


def _key_ref(raw: Any, path: str) -> tuple[str, str] | None:
    if raw is None:
        return None
    ref = _mapping(raw, path)
    name = _string(ref, "name", path)
    key = _string(ref, "key", path)
    if name is None or key is None:
        raise SpecError(path, "needs both name and key")
    return name, key


def _secret_ref(raw: Any, path: str) -> SecretKeyRef | None:
    ref = _key_ref(raw, path)
    return SecretKeyRef(*ref) if ref else None


def parse_target(raw: Any) -> Target:
    spec = _mapping(raw, "spec.target")
    platform_text = spec.get("platform", Platform.AUTO.value)
    try:
        platform = Platform(platform_text)
    except ValueError:
        allowed = ", ".join(p.value for p in Platform)
        raise SpecError(
            "spec.target.platform", f"{platform_text!r} is not one of {allowed}"
        ) from None
    namespace = _string(spec, "namespace", "spec.target")
    if namespace is not None and (len(namespace) > 63 or not _DNS_LABEL.match(namespace)):
        raise SpecError("spec.target.namespace", f"{namespace!r} is not a valid namespace name")
    return Target(
        platform=platform,
        kubeconfig_secret_ref=_secret_ref(
            spec.get("kubeconfigSecretRef"), "spec.target.kubeconfigSecretRef"
        ),
        namespace=namespace,
    )


def _check_config_key(key: str) -> None:
    """A ConfigMap key the Job can mount as a file name: never ``.``/``..`` or a ``..`` prefix."""
    if key in (".", "..") or key.startswith("..") or "/" in key:
        raise SpecError(
            "spec.workload.configMapRef.key", f"{key!r} is not a ConfigMap key usable as a file"
        )


def _flag_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def _check_extra_arg(arg: str, index: int, *, custom: bool) -> None:
    field = f"spec.workload.extraArgs[{index}]"
    if len(arg) > MAX_EXTRA_ARG_LENGTH:
        raise SpecError(field, f"is longer than {MAX_EXTRA_ARG_LENGTH} characters")
    if _CONTROL_CHARACTERS.search(arg):
        raise SpecError(field, "must not contain control characters (newlines, NUL, ...)")
    reserved = RESERVED_FLAGS + (RESERVED_CUSTOM_FLAGS if custom else ())
    if _flag_name(arg) in reserved:
        raise SpecError(
            field,
            f"{_flag_name(arg)} is set by the operator (run identity, target cluster, timeout, "
            "config); use the spec's fields instead",
        )
    # A file path anywhere in the argument (a flag's value or a positional argument).
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    if value.startswith("/") or value.startswith("~"):
        normal = posixpath.normpath(value)
        if not any(normal.startswith(root) for root in EXTRA_ARG_PATHS):
            allowed = " or ".join(EXTRA_ARG_PATHS)
            raise SpecError(field, f"may name files only under {allowed}")
    if ".." in value.split("/"):
        raise SpecError(field, "must not climb out of a directory with '..'")


def _extra_args(raw: Any, *, custom: bool) -> tuple[str, ...]:
    """spec.workload.extraArgs, checked: nothing that changes who or what the run is."""
    extra = [] if raw is None else raw
    if (
        not isinstance(extra, Sequence)
        or isinstance(extra, str)
        or not all(isinstance(a, str) for a in extra)
    ):
        raise SpecError("spec.workload.extraArgs", "must be a list of strings")
    for index, arg in enumerate(extra):
        _check_extra_arg(arg, index, custom=custom)
    return tuple(extra)


def _optional_duration(
    raw: Mapping[str, Any], key: str, path: str, *, longest: float
) -> float | None:
    if raw.get(key) is None:
        return None
    return _duration(raw, key, path, "", longest=longest)


def parse_churn(raw: Any) -> Churn | None:
    """spec.workload.churn; None when absent. ``{}`` churns with the workload's defaults."""
    if raw is None:
        return None
    spec = _mapping(raw, "spec.workload.churn")
    path = "spec.workload.churn"
    percent = _positive_int(spec, "percent", path)
    if percent is not None and percent > 100:
        raise SpecError(f"{path}.percent", f"must be at most 100, got {percent}")
    cycles = spec.get("cycles")
    if cycles is not None and (
        isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 0
    ):
        raise SpecError(f"{path}.cycles", f"must be 0 (no limit) or more, got {cycles!r}")
    strategy_text = _string(spec, "deletionStrategy", path)
    try:
        strategy = None if strategy_text is None else ChurnDeletionStrategy(strategy_text)
    except ValueError:
        allowed = ", ".join(s.value for s in ChurnDeletionStrategy)
        raise SpecError(
            f"{path}.deletionStrategy", f"{strategy_text!r} is not one of {allowed}"
        ) from None
    return Churn(
        duration_seconds=_optional_duration(spec, "duration", path, longest=MAX_TIMEOUT_SECONDS),
        cycles=cycles,
        percent=percent,
        delay_seconds=_optional_duration(spec, "delay", path, longest=MAX_TIMEOUT_SECONDS),
        deletion_strategy=strategy,
    )


def parse_workload(raw: Any) -> Workload:
    spec = _mapping(raw, "spec.workload")
    name = _string(spec, "name", "spec.workload")
    ref = _key_ref(spec.get("configMapRef"), "spec.workload.configMapRef")
    if name is None and ref is None:
        raise SpecError(
            "spec.workload", "set either name (a kube-burner-ocp workload) or configMapRef"
        )
    if name is not None and ref is not None:
        raise SpecError("spec.workload", "set only one of name and configMapRef")
    # Which names a version knows is the contract's business (runner.command.check_workload).
    if name is not None and (len(name) > 63 or not _WORKLOAD_NAME.match(name)):
        raise SpecError("spec.workload.name", f"{name!r} is not a workload name")
    if ref is not None:
        _check_config_key(ref[1])
    extra = _extra_args(spec.get("extraArgs"), custom=ref is not None)
    image = _string(spec, "image", "spec.workload")
    if image is not None and (any(c.isspace() for c in image) or _CONTROL_CHARACTERS.search(image)):
        raise SpecError("spec.workload.image", "must be an image reference without blanks")
    version = _string(spec, "version", "spec.workload")
    if version is not None and not _VERSION.match(version):
        raise SpecError("spec.workload.version", f"{version!r} is not a version like v1.7.3")
    churn = parse_churn(spec.get("churn"))
    if churn is not None and ref is not None:
        raise SpecError(
            "spec.workload.churn",
            "a custom configuration sets churn in its own jobs (churn, churnDuration, ...)",
        )
    return Workload(
        name=name,
        config_map_ref=ConfigMapKeyRef(*ref) if ref else None,
        image=image,
        version=version,
        iterations=_positive_int(spec, "iterations", "spec.workload"),
        qps=_positive_int(spec, "qps", "spec.workload"),
        burst=_positive_int(spec, "burst", "spec.workload"),
        timeout_seconds=_optional_duration(
            spec, "timeout", "spec.workload", longest=MAX_TIMEOUT_SECONDS
        ),
        churn=churn,
        extra_args=extra,
    )


def parse_prometheus_url(url: str, field: str) -> str:
    """`url` without a trailing slash; SpecError naming `field` unless it is an http(s) URL.

    A URL with credentials (``user:password@``) is refused, and no message quotes it: a
    password belongs in a Secret (bearerTokenSecretRef), not in a spec kept in git.
    """
    if any(c.isspace() for c in url) or _CONTROL_CHARACTERS.search(url):
        raise SpecError(field, "must not contain blanks or control characters")
    try:
        parsed = urllib.parse.urlparse(url)
        if parsed.username is not None or parsed.password is not None:
            raise SpecError(
                field, "must not carry credentials (user:password@); use bearerTokenSecretRef"
            )
        host = parsed.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise SpecError(field, f"{url!r} is not a URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise SpecError(field, f"{url!r} is not an http(s) URL with a host")
    try:
        parsed.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise SpecError(field, f"{url!r} has an invalid port") from None
    return url.rstrip("/")


def parse_prometheus(raw: Any) -> PrometheusSettings:
    """`url` stays None when the spec gives none: the target decides (target.endpoints)."""
    spec = _mapping(raw, "spec.prometheus")
    url = _string(spec, "url", "spec.prometheus")
    token_ref = _secret_ref(
        spec.get("bearerTokenSecretRef"), "spec.prometheus.bearerTokenSecretRef"
    )
    use_sa = _boolean(spec, "useServiceAccountToken", "spec.prometheus")
    if token_ref is not None and use_sa:
        raise SpecError(
            "spec.prometheus", "set only one of bearerTokenSecretRef and useServiceAccountToken"
        )
    return PrometheusSettings(
        url=None if url is None else parse_prometheus_url(url, "spec.prometheus.url"),
        bearer_token_secret_ref=token_ref,
        use_service_account_token=use_sa,
        ca_secret_ref=_secret_ref(spec.get("caSecretRef"), "spec.prometheus.caSecretRef"),
        insecure_skip_verify=_boolean(spec, "insecureSkipVerify", "spec.prometheus"),
        step_seconds=_duration(
            spec, "step", "spec.prometheus", DEFAULT_STEP, longest=MAX_STEP_SECONDS
        ),
        query_timeout_seconds=_duration(
            spec,
            "queryTimeout",
            "spec.prometheus",
            DEFAULT_QUERY_TIMEOUT,
            longest=MAX_QUERY_TIMEOUT_SECONDS,
        ),
    )


def _enum_field(raw: Mapping[str, Any], key: str, path: str, kind: type[_E], default: str) -> _E:
    value = raw.get(key, default)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SpecError(f"{path}.{key}", f"must be one of {allowed}, got {value!r}") from None


def _reductions(raw: Mapping[str, Any], path: str) -> tuple[OverTime, Aggregation]:
    """overTime (each series over the window) and aggregation (across series) of a metric.

    overTime defaults to the aggregation's value, so that a spec written before overTime
    existed keeps its meaning for max, min and last; `aggregation: last` is overTime last,
    then max across series.
    """
    aggregation = raw.get("aggregation", Aggregation.MAX.value)
    if aggregation == LEGACY_LAST:
        over_time = _enum_field(raw, "overTime", path, OverTime, LEGACY_LAST)
        if over_time is not OverTime.LAST:
            raise SpecError(
                f"{path}.overTime",
                f"aggregation last means overTime last, then max across series; for overTime "
                f"{over_time.value} choose an aggregation across series "
                f"({', '.join(member.value for member in Aggregation)})",
            )
        return OverTime.LAST, Aggregation.MAX
    if aggregation not in {member.value for member in Aggregation}:
        allowed = ", ".join([*(member.value for member in Aggregation), LEGACY_LAST])
        raise SpecError(f"{path}.aggregation", f"must be one of {allowed}, got {aggregation!r}")
    return (
        _enum_field(raw, "overTime", path, OverTime, str(aggregation)),
        Aggregation(aggregation),
    )


def _labels(raw: Mapping[str, Any], path: str) -> tuple[tuple[str, str], ...]:
    labels = raw.get("labels")
    if labels is None:
        return ()
    if not isinstance(labels, Mapping):
        raise SpecError(f"{path}.labels", f"must be an object of label values, got {labels!r}")
    for name, value in labels.items():
        if not isinstance(name, str) or not _LABEL_NAME.match(name):
            raise SpecError(f"{path}.labels", f"{name!r} is not a Prometheus label name")
        if not isinstance(value, str):
            raise SpecError(f"{path}.labels.{name}", f"must be a string, got {value!r}")
    return tuple(sorted(labels.items()))


def parse_metric(raw: Any, path: str) -> MetricSpec:
    spec = _mapping(raw, path)
    name = _string(spec, "name", path)
    if name is None or not _METRIC_NAME.match(name):
        raise SpecError(
            f"{path}.name",
            f"must be a metric name like max-ro-apicalls-latency-namespace, got {name!r}",
        )
    query = _string(spec, "query", path)
    kube_burner = parse_kube_burner_quantile(spec.get("kubeBurner"), f"{path}.kubeBurner")
    if (query is None) == (kube_burner is None):
        raise SpecError(
            path,
            "a metric needs exactly one of query (PromQL) and kubeBurner (one of kube-burner's "
            "own measurements)",
        )
    if kube_burner is not None:
        # aggregation is defaulted (max) by the API server's schema: only another value is wrong.
        reduced = [key for key in ("overTime", "labels") if key in spec]
        if spec.get("aggregation", "max") != "max":
            reduced.append("aggregation")
        if reduced:
            raise SpecError(
                f"{path}.{reduced[0]}",
                "applies to a PromQL query; a kubeBurner quantile is one number per run",
            )
    over_time, aggregation = _reductions(spec, path)
    direction = _enum_field(spec, "direction", path, Direction, Direction.LOWER_IS_BETTER.value)
    threshold = spec.get("threshold", DEFAULT_THRESHOLD_PERCENT)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1000
    ):
        raise SpecError(
            f"{path}.threshold", f"must be a percentage between 0 and 1000, got {threshold!r}"
        )
    unit = spec.get("unit", "")
    if not isinstance(unit, str):
        raise SpecError(f"{path}.unit", f"must be a string, got {unit!r}")
    return MetricSpec(
        name=name,
        query=query or "",
        kube_burner=kube_burner,
        aggregation=aggregation,
        direction=direction,
        threshold_percent=float(threshold),
        unit=unit,
        over_time=over_time,
        labels=_labels(spec, path),
    )


def parse_kube_burner_quantile(raw: Any, path: str) -> KubeBurnerQuantile | None:
    """``kubeBurner: {metricName, quantileName, metricOfInterest}``; None when absent."""
    if raw is None:
        return None
    spec = _mapping(raw, path)
    metric_name = _string(spec, "metricName", path)
    if metric_name is None or not metric_name.endswith(QUANTILES_METRIC_SUFFIX):
        raise SpecError(
            f"{path}.metricName",
            f"must name a quantiles document, e.g. podLatency{QUANTILES_METRIC_SUFFIX}, "
            f"got {metric_name!r}",
        )
    quantile_name = _string(spec, "quantileName", path)
    if quantile_name is None:
        raise SpecError(f"{path}.quantileName", "name the condition, e.g. Ready")
    field = _string(spec, "metricOfInterest", path, "P99") or "P99"
    if field not in QUANTILE_FIELDS:
        raise SpecError(
            f"{path}.metricOfInterest", f"{field!r} is not one of {', '.join(QUANTILE_FIELDS)}"
        )
    return KubeBurnerQuantile(metric_name, quantile_name, field)


def parse_metrics(raw: Any) -> tuple[MetricSpec, ...]:
    if raw is None:
        return DEFAULT_METRICS
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SpecError("spec.metrics", "must be a list of metrics")
    if not raw:
        raise SpecError(
            "spec.metrics", "must not be empty (leave it out to use the API latency profile)"
        )
    metrics = tuple(parse_metric(item, f"spec.metrics[{i}]") for i, item in enumerate(raw))
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        if metric.name in seen:
            raise SpecError(f"spec.metrics[{i}].name", f"duplicate metric name {metric.name!r}")
        seen.add(metric.name)
    return metrics


def parse_acknowledgement(raw: Any, path: str) -> Acknowledgement:
    spec = _mapping(raw, path)
    metric = _string(spec, "metric", path)
    if metric is None or not _METRIC_NAME.match(metric):
        raise SpecError(f"{path}.metric", f"must be a metric name, got {metric!r}")
    run = _string(spec, "run", path)
    uuid = _string(spec, "uuid", path)
    if (run is None) == (uuid is None):
        raise SpecError(path, "set exactly one of run (a PerfRun name) and uuid (its uid)")
    reason = _string(spec, "reason", path)
    if reason is None:
        raise SpecError(f"{path}.reason", "say why the change point is acknowledged")
    return Acknowledgement(metric=metric, run=run, uuid=uuid, reason=reason)


def parse_analysis(raw: Any) -> AnalysisSettings:
    spec = _mapping(raw, "spec.analysis")
    min_history = _positive_int(spec, "minHistory", "spec.analysis") or DEFAULT_MIN_HISTORY
    lookback = _positive_int(spec, "lookback", "spec.analysis") or DEFAULT_LOOKBACK
    if lookback < min_history:
        raise SpecError("spec.analysis.lookback", f"must be at least minHistory ({min_history})")
    confirm_runs = _bounded_int(
        spec,
        "confirmRuns",
        "spec.analysis",
        default=DEFAULT_CONFIRM_RUNS,
        low=0,
        high=MAX_CONFIRM_RUNS,
    )
    acknowledged = spec.get("acknowledged")
    if acknowledged is None:
        acknowledged = []
    if not isinstance(acknowledged, Sequence) or isinstance(acknowledged, str):
        raise SpecError("spec.analysis.acknowledged", "must be a list")
    return AnalysisSettings(
        min_history=min_history,
        lookback=lookback,
        confirm_runs=confirm_runs,
        acknowledged=tuple(
            parse_acknowledgement(item, f"spec.analysis.acknowledged[{i}]")
            for i, item in enumerate(acknowledged)
        ),
    )


def parse_schedule(raw: Mapping[str, Any]) -> Schedule | None:
    """spec.schedule in spec.timeZone; None without a schedule (the time zone is checked anyway)."""
    time_zone = _string(raw, "timeZone", "spec", DEFAULT_TIME_ZONE) or DEFAULT_TIME_ZONE
    try:
        parse_time_zone(time_zone)
    except ValueError as exc:
        raise SpecError("spec.timeZone", str(exc)) from None
    cron = _string(raw, "schedule", "spec")
    if cron is None:
        return None
    schedule = Schedule(cron=cron, time_zone=time_zone)
    try:
        parse_cron(cron)
        # A schedule that never fires would fail every scheduler tick: refuse it here.
        next_run_time(schedule, _SCHEDULE_CHECK_START)
    except ValueError as exc:
        raise SpecError("spec.schedule", str(exc)) from None
    return schedule


def parse_trigger(raw: Any) -> TriggerSettings:
    spec = _mapping(raw, "spec.trigger")
    return TriggerSettings(
        on_new_version=_boolean(spec, "onNewVersion", "spec.trigger"),
        skip_unchanged=_boolean(spec, "skipUnchanged", "spec.trigger"),
    )


def parse_concurrency_policy(raw: Mapping[str, Any]) -> ConcurrencyPolicy:
    text = raw.get("concurrencyPolicy", ConcurrencyPolicy.FORBID.value)
    try:
        return ConcurrencyPolicy(text)
    except ValueError:
        allowed = ", ".join(p.value for p in ConcurrencyPolicy)
        raise SpecError("spec.concurrencyPolicy", f"{text!r} is not one of {allowed}") from None


def parse_history(raw: Any) -> HistorySettings:
    spec = _mapping(raw, "spec.history")
    return HistorySettings(
        keep=_bounded_int(
            spec, "keep", "spec.history", default=DEFAULT_HISTORY_KEEP, low=1, high=MAX_HISTORY_KEEP
        )
    )


def parse_perftest_spec(raw: Mapping[str, Any]) -> PerfTestSpec:
    """The typed spec of a PerfTest, or a SpecError naming the first field that cannot be used."""
    spec = _mapping(raw, "spec")
    return PerfTestSpec(
        target=parse_target(spec.get("target")),
        workload=parse_workload(spec.get("workload")),
        prometheus=parse_prometheus(spec.get("prometheus")),
        metrics=parse_metrics(spec.get("metrics")),
        default_metrics=spec.get("metrics") is None,
        analysis=parse_analysis(spec.get("analysis")),
        suspend=_boolean(spec, "suspend", "spec"),
        schedule=parse_schedule(spec),
        trigger=parse_trigger(spec.get("trigger")),
        concurrency_policy=parse_concurrency_policy(spec),
        retries=_bounded_int(
            spec, "retries", "spec", default=DEFAULT_RETRIES, low=0, high=MAX_RETRIES
        ),
        history=parse_history(spec.get("history")),
    )
