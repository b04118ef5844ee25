"""A custom kube-burner configuration (``kube-burner init --config``) as the stand-in runs it; pure.

kube-burner renders the configuration file as a Go template whose data are the environment
variables (KB v1.17.2 pkg/config/config.go:140-160, ``ParseWithUserdata``), and each object
template, at creation time, with ``Iteration``, ``Replica``, ``JobName``, ``UUID`` and
``RunID`` (pkg/burner/create.go:211-227, ``renderTemplateForObject``). The stand-in renders
``{{.Name}}`` substitutions only; a configuration that uses Go template functions or actions is
refused with a message saying so (the custom-workload sample needs no more). Defaults are
kube-burner's (pkg/config/config.go:42-120): ``gc`` false, a job's ``namespacedIterations``,
``cleanup``, ``waitWhenFinished``, ``preLoadImages`` and ``verifyObjects`` true,
``iterationsPerNamespace`` 1, ``jobType`` create; the local indexer's ``metricsDirectory`` is
``collected-metrics`` (pkg/config/config.go:57-61).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import yaml

_FIELD = re.compile(r"{{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?}}")
DEFAULT_METRICS_DIRECTORY = "collected-metrics"


class TemplateError(ValueError):
    """A template the stand-in cannot render, or a key the data does not hold."""


def render(text: str, data: Mapping[str, Any], *, allow_missing: bool = False) -> str:
    """``{{.Name}}`` replaced by ``data["Name"]``, as text/template prints it."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in data:
            if allow_missing:
                return "<no value>"
            raise TemplateError(f'map has no entry for key "{key}"')
        found = data[key]
        return str(found).lower() if isinstance(found, bool) else str(found)

    rendered = _FIELD.sub(value, text)
    if "{{" in rendered:
        construct = rendered[rendered.index("{{") :].split("}}", 1)[0] + "}}"
        raise TemplateError(f"the stand-in renders only {{{{.Name}}}} fields, not {construct}")
    return rendered


@dataclasses.dataclass(frozen=True)
class CustomObject:
    template_path: str
    replicas: int
    wait: bool


@dataclasses.dataclass(frozen=True)
class CustomJob:
    name: str
    iterations: int
    namespace: str
    job_type: str = "create"
    namespaced_iterations: bool = True
    iterations_per_namespace: int = 1
    cleanup: bool = True
    wait_when_finished: bool = True
    pod_wait: bool = False
    pre_load_images: bool = True
    verify_objects: bool = True
    churn: bool = False
    objects: tuple[CustomObject, ...] = ()


@dataclasses.dataclass(frozen=True)
class CustomConfig:
    jobs: tuple[CustomJob, ...]
    gc: bool = False
    measurements: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()  # podLatency P99 Ready thresholds, as written
    cluster_health: bool = False
    metrics_directory: str | None = None  # the local indexer's, when the config has one


def parse_config(text: str, env: Mapping[str, str]) -> CustomConfig:
    """The configuration after rendering it over the environment; ValueError when it is bad."""
    document = yaml.safe_load(render(text, env)) or {}
    if not isinstance(document, dict):
        raise ValueError("the configuration is not a YAML mapping")
    global_config = document.get("global") or {}
    measurements = tuple(
        str(m.get("name")) for m in global_config.get("measurements") or [] if m.get("name")
    )
    thresholds = tuple(
        str(t.get("threshold"))
        for m in global_config.get("measurements") or []
        if m.get("name") == "podLatency"
        for t in m.get("thresholds") or []
        if t.get("conditionType") == "Ready" and t.get("metric") == "P99"
    )
    directory = None
    for endpoint in document.get("metricsEndpoints") or []:
        indexer = (endpoint or {}).get("indexer") or {}
        if indexer.get("type") == "local":
            directory = str(indexer.get("metricsDirectory") or DEFAULT_METRICS_DIRECTORY)
    jobs = []
    for raw in document.get("jobs") or []:
        objects = tuple(
            CustomObject(
                template_path=str(o["objectTemplate"]),
                replicas=int(o.get("replicas", 1)),
                wait=bool(o.get("wait", True)),
            )
            for o in raw.get("objects") or []
        )
        jobs.append(
            CustomJob(
                name=str(raw["name"]),
                iterations=int(raw.get("jobIterations", 0)),
                namespace=str(raw.get("namespace") or ""),
                job_type=str(raw.get("jobType") or "create"),
                namespaced_iterations=bool(raw.get("namespacedIterations", True)),
                iterations_per_namespace=int(raw.get("iterationsPerNamespace", 1)),
                cleanup=bool(raw.get("cleanup", True)),
                wait_when_finished=bool(raw.get("waitWhenFinished", True)),
                pod_wait=bool(raw.get("podWait", False)),
                pre_load_images=bool(raw.get("preLoadImages", True)),
                verify_objects=bool(raw.get("verifyObjects", True)),
                churn=bool(raw.get("churn", False)),
                objects=objects,
            )
        )
    return CustomConfig(
        jobs=tuple(jobs),
        gc=bool(global_config.get("gc", False)),
        measurements=measurements,
        thresholds=thresholds,
        cluster_health=bool(global_config.get("clusterHealth", False)),
        metrics_directory=directory,
    )
