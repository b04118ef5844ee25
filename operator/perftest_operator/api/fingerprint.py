"""A PerfTest spec's fingerprint: a short hash of what changes what a run measures (pure).

Two specs with the same fingerprint run the same benchmark on the same target and read the same
KPIs the same way, so their runs are comparable; a different fingerprint is one of the things a
regression verdict names as changed. Scheduling, triggers, retries, suspend, analysis settings,
history retention and a KPI's threshold, direction and unit are left out: they change when and
how runs are judged, not what a run measures.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime
from perftest_operator.api.spec import PerfTestSpec, parse_perftest_spec

FINGERPRINT_LENGTH = 16
# Bumped when the measured parts below change shape, so old and new fingerprints never collide.
_FORMAT = 2
# Format 2: every kube-burner-ocp run changed with the contract (the runner image, alerting off,
# local indexing, churn spelled out), so every fingerprint changes once; the workload's
# kube-burner-ocp version and churn are measured parts.
# Format 1 listed a KPI as [name, query, aggregation] when one reduction pooled every sample of
# every series. A KPI that still measures what its entry meant (max then max, min then min,
# last then max, no labels) keeps that entry, so its test's fingerprint did not change when
# overTime and labels came; any other lists both stages and its labels. (avg and the
# percentiles did change meaning: an average of per-series averages is not a pooled average.)
_POOLED = {
    (OverTime.MAX, Aggregation.MAX): "max",
    (OverTime.MIN, Aggregation.MIN): "min",
    (OverTime.LAST, Aggregation.MAX): "last",
}


def _metric_entry(metric: MetricSpec) -> list[Any]:
    if metric.kube_burner is not None:
        return [metric.name, dataclasses.asdict(metric.kube_burner)]
    pooled = _POOLED.get((metric.over_time, metric.aggregation))
    if pooled is not None and not metric.labels:
        return [metric.name, metric.query, pooled]
    return [
        metric.name,
        metric.query,
        metric.aggregation.value,
        metric.over_time.value,
        dict(metric.labels),
    ]


def _measured(spec: PerfTestSpec) -> dict[str, Any]:
    """The parts of a parsed spec that change what a run measures, as plain JSON values."""
    target, workload, prometheus = spec.target, spec.workload, spec.prometheus
    secret = target.kubeconfig_secret_ref
    config_map = workload.config_map_ref
    return {
        "format": _FORMAT,
        "target": {
            "platform": target.platform.value,
            "namespace": target.namespace,
            "kubeconfigSecretRef": None if secret is None else [secret.name, secret.key],
        },
        "workload": {
            "name": workload.name,
            "configMapRef": None if config_map is None else [config_map.name, config_map.key],
            "image": workload.image,
            "version": workload.version,
            "iterations": workload.iterations,
            "qps": workload.qps,
            "burst": workload.burst,
            "timeoutSeconds": workload.timeout_seconds,
            "churn": None if workload.churn is None else dataclasses.asdict(workload.churn),
            "extraArgs": list(workload.extra_args),
        },
        "prometheus": {"url": prometheus.url, "stepSeconds": prometheus.step_seconds},
        # By name: names are unique, and listing the KPIs in another order measures the same.
        "metrics": sorted((_metric_entry(metric) for metric in spec.metrics), key=lambda e: e[0]),
    }


def spec_fingerprint(spec: Mapping[str, Any]) -> str:
    """The first 16 hex digits of the sha256 of the measured parts of a PerfTest's raw spec.

    The spec is parsed first, so a field written with its default value gives the same
    fingerprint as the field left out. Raises SpecError for a spec the operator cannot use.
    A purely computational function with no side effects.
    """
    canonical = json.dumps(
        _measured(parse_perftest_spec(spec)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_LENGTH]
