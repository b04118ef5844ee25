"""The contract files shipped in this package, parsed once into typed data (reads package data).

One YAML file per supported kube-burner-ocp version, ``kube-burner-ocp-<version>.yaml`` next to
this module. ``PINNED_VERSION`` is the one the runner image carries (Containerfile.runner).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import yaml

from perftest_operator.api.durations import parse_duration
from perftest_operator.contract.model import (
    ApiCall,
    BurnerJob,
    CheckKind,
    Churn,
    Condition,
    Contract,
    CustomTool,
    Flag,
    FlagType,
    GrantedRule,
    JobType,
    KubernetesConfig,
    Measurement,
    Messages,
    ObjectKind,
    OnError,
    Prerequisite,
    Release,
    SourceRef,
    Timers,
    Workload,
)

PINNED_VERSION = "v1.7.3"
SUPPORTED_VERSIONS: tuple[str, ...] = ("v1.7.3",)
_FILE = "kube-burner-ocp-{version}.yaml"


def _flag(raw: Mapping[str, Any]) -> Flag:
    return Flag(
        name=str(raw["name"]),
        type=FlagType(raw["type"]),
        default=str(raw.get("default", "")),
        source=str(raw["source"]),
        shorthand=raw.get("shorthand"),
        required=bool(raw.get("required", False)),
        usage=str(raw.get("usage") or ""),
    )


def _call(raw: Mapping[str, Any], phase: str) -> ApiCall:
    return ApiCall(
        verb=str(raw["verb"]),
        group=str(raw.get("group") or ""),
        resource=str(raw.get("resource") or ""),
        source=str(raw["source"]),
        namespace=raw.get("namespace"),
        name=raw.get("name"),
        label_selector=raw.get("labelSelector"),
        field_selector=raw.get("fieldSelector"),
        in_workload_namespaces=bool(raw.get("inWorkloadNamespaces", False)),
        all_namespaces=bool(raw.get("allNamespaces", False)),
        when=Condition(str(raw.get("when") or "")),
        on_error=OnError(raw.get("onError", OnError.EXIT.value)),
        phase=phase,
        each=raw.get("each"),
    )


def _prerequisite(raw: Mapping[str, Any]) -> Prerequisite:
    return Prerequisite(
        check=CheckKind(raw["check"]),
        message=str(raw["message"]),
        source=str(raw["source"]),
        group=str(raw.get("group") or ""),
        version=str(raw.get("version") or "v1"),
        resource=str(raw.get("resource") or ""),
        namespace=raw.get("namespace"),
        name=raw.get("name"),
        field=raw.get("field"),
        when=Condition(str(raw.get("when") or "")),
    )


def _object(raw: Mapping[str, Any]) -> ObjectKind:
    return ObjectKind(
        api_version=str(raw["apiVersion"]),
        kind=str(raw["kind"]),
        resource=str(raw["resource"]),
        namespaced=bool(raw["namespaced"]),
        source=str(raw["source"]),
        namespace=raw.get("namespace"),
        wait=bool(raw.get("wait", True)),
        when=Condition(str(raw.get("when") or "")),
        replicas=str(raw.get("replicas") or "1"),
        grants=tuple(_granted_rule(rule) for rule in raw.get("grants") or ()),
    )


def _granted_rule(raw: Mapping[str, Any]) -> GrantedRule:
    return GrantedRule(
        api_groups=tuple(str(group) for group in raw["apiGroups"]),
        resources=tuple(str(resource) for resource in raw["resources"]),
        verbs=tuple(str(verb) for verb in raw["verbs"]),
        source=str(raw["source"]),
        resource_names=tuple(str(name) for name in raw.get("resourceNames") or ()),
    )


def _job_switches(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A kube-burner job's switches as its YAML writes them, with kube-burner's defaults
    (KB pkg/config/config.go:99-120 at v1.17.2)."""
    return {
        "name": str(raw["name"]),
        "namespace": str(raw.get("namespace") or ""),
        "namespaced_iterations": bool(raw.get("namespacedIterations", True)),
        "pre_load_images": bool(raw.get("preLoadImages", True)),
        "wait_when_finished": bool(raw.get("waitWhenFinished", True)),
        "pod_wait": bool(raw.get("podWait", False)),
        "cleanup": bool(raw.get("cleanup", True)),
        "verify_objects": bool(raw.get("verifyObjects", True)),
    }


def _job(raw: Mapping[str, Any]) -> BurnerJob:
    return BurnerJob(
        **_job_switches(raw),
        source=str(raw["source"]),
        type=JobType(raw.get("type", JobType.CREATE.value)),
        iterations_per_namespace=str(raw.get("iterationsPerNamespace") or "1"),
        iterations=str(raw.get("jobIterations") or ""),
        churn=Condition(str(raw.get("churn", "false"))),
        objects=tuple(_object(item) for item in raw.get("objects") or ()),
        label_selector=raw.get("labelSelector"),
        when=Condition(str(raw.get("when") or "")),
    )


def _measurement(raw: Mapping[str, Any]) -> Measurement:
    name = str(raw["name"])
    return Measurement(
        name=name,
        source=str(raw["source"]),
        when=Condition(str(raw.get("when") or "")),
        calls=tuple(_call(item, f"measurement:{name}") for item in raw.get("calls") or ()),
    )


def _workload(name: str, raw: Mapping[str, Any]) -> Workload:
    churn = raw.get("churn")
    refused = raw.get("refused") or {}
    return Workload(
        name=name,
        source=str(raw["source"]),
        flags=tuple(_flag(item) for item in raw.get("flags") or ()),
        silence_usage=bool(raw.get("silenceUsage", False)),
        size_flag=raw.get("size"),
        churn=None
        if churn is None
        else Churn(
            enabled=churn["enabled"],
            duration=churn["duration"],
            cycles=churn["cycles"],
            delay=churn["delay"],
            percent=churn["percent"],
            deletion_strategy=churn["deletionStrategy"],
        ),
        pod_ready_threshold=raw.get("podReadyThreshold"),
        pod_ready_threshold_value=(raw.get("podReadyThresholdValue") or {}).get("value"),
        calls=tuple(_call(item, "prerun") for item in raw.get("calls") or ()),
        prerequisites=tuple(_prerequisite(item) for item in raw.get("prerequisites") or ()),
        jobs=tuple(_job(item) for item in raw.get("jobs") or ()),
        measurements=tuple(_measurement(item) for item in raw.get("measurements") or ()),
        refused=refused.get("reason"),
        refused_source=refused.get("source"),
    )


_TEMPLATE_ACTION = re.compile(r"{{.*?}}")
CONFIG_FILE = "config.yml"


def _without_actions(text: str) -> Any:
    """A template's YAML with every ``{{...}}`` read as 1: enough for its structure and kinds."""
    return yaml.safe_load(_TEMPLATE_ACTION.sub("1", text))


def _config_files(directory: str) -> dict[str, str]:
    folder = importlib.resources.files("perftest_operator.contract").joinpath(
        "workloads", directory
    )
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith((".yml", ".yaml"))
    }


def _config_object(
    item: Mapping[str, Any], files: Mapping[str, str], kinds: Mapping[str, Any], where: str
) -> ObjectKind:
    template = str(item["objectTemplate"]).rpartition("/")[2]
    first = _without_actions(files[template])
    kind = str(first["kind"])
    if kind not in kinds:
        raise ValueError(f"{where}/{template}: kind {kind} is not in the contract's kinds")
    return ObjectKind(
        api_version=str(first["apiVersion"]),
        kind=kind,
        resource=str(kinds[kind]["resource"]),
        namespaced=bool(kinds[kind]["namespaced"]),
        source=f"{where}/{template}",
        namespace=(first.get("metadata") or {}).get("namespace"),
        wait=bool(item.get("wait", True)) and bool(kinds[kind]["wait"]),
        replicas=str(item.get("replicas", 1)),
    )


def _config_job(
    raw: Mapping[str, Any], files: Mapping[str, str], kinds: Mapping[str, Any], where: str
) -> BurnerJob:
    """A job of a configuration, read as kube-burner reads it."""
    return BurnerJob(
        **_job_switches(raw),
        source=f"{where}/{CONFIG_FILE}",
        type=JobType(raw.get("jobType", JobType.CREATE.value)),
        iterations_per_namespace=str(raw.get("iterationsPerNamespace", 1)),
        churn=Condition("true" if raw.get("churn") else "false"),
        objects=tuple(
            _config_object(item, files, kinds, where) for item in raw.get("objects") or ()
        ),
    )


def _kubernetes_workload(
    name: str, raw: Mapping[str, Any], kinds: Mapping[str, Any], pod_latency: Measurement | None
) -> Workload:
    """One of this project's configurations, its jobs read from its own files."""
    directory = str(raw["directory"])
    files = _config_files(directory)
    where = f"contract/workloads/{directory}"
    config = _without_actions(files[CONFIG_FILE])
    settings = config.get("global") or {}
    measured = {str(m.get("name")) for m in settings.get("measurements") or ()}
    defaults = raw["defaults"]
    threshold = raw.get("podReadyThresholdValue") or {}
    return Workload(
        name=name,
        source=f"{where}/{CONFIG_FILE}",
        flags=(),
        pod_ready_threshold_value=threshold.get("value"),
        prerequisites=tuple(_prerequisite(item) for item in raw.get("prerequisites") or ()),
        jobs=tuple(_config_job(job, files, kinds, where) for job in config.get("jobs") or ()),
        measurements=(pod_latency,) if pod_latency is not None and "podLatency" in measured else (),
        config=KubernetesConfig(
            directory=directory,
            files=MappingProxyType(files),
            size=str(raw["size"]),
            iterations=int(defaults["iterations"]),
            qps=int(defaults["qps"]),
            burst=int(defaults["burst"]),
            per_node=bool(raw.get("perNode", False)),
            gc=bool(settings.get("gc", False)),
            cluster_health=bool(settings.get("clusterHealth", False)),
        ),
    )


def _release(raw: Mapping[str, Any]) -> Release:
    return Release(
        archive=str(raw["archive"]),
        checksums=str(raw["checksums"]),
        binary=str(raw["binary"]),
        source=str(raw["source"]),
    )


def parse_contract(raw: Mapping[str, Any]) -> Contract:
    """A contract from its YAML document: a purely computational function."""
    messages, timers, custom = raw["messages"], raw["timers"], raw["custom"]
    workloads = {name: _workload(name, item) for name, item in raw["workloads"].items()}
    # kube-burner's podLatency measurement, the same library in kube-burner-ocp and kube-burner.
    pod_latency = next(
        (m for w in workloads.values() for m in w.measurements if m.name == "podLatency"), None
    )
    kinds = raw.get("kinds") or {}
    return Contract(
        tool=str(raw["tool"]),
        version=str(raw["version"]),
        library_version=str(raw["libraryVersion"]),
        sources=MappingProxyType(
            {
                short: SourceRef(str(ref["repository"]), str(ref["ref"]), str(ref["commit"]))
                for short, ref in raw["sources"].items()
            }
        ),
        release=_release(raw["release"]),
        flags=tuple(_flag(item) for item in raw["flags"]),
        messages=Messages(
            unknown_flag=str(messages["unknownFlag"]),
            unknown_shorthand=str(messages["unknownShorthand"]),
            invalid_argument=str(messages["invalidArgument"]),
            required_flags=str(messages["requiredFlags"]),
            exit_code=int(messages["exitCode"]),
            source=str(messages["source"]),
            error_prefix=str(messages.get("errorPrefix") or "Error:"),
            needs_argument=str(messages.get("needsArgument") or ""),
            needs_argument_shorthand=str(messages.get("needsArgumentShorthand") or ""),
            bad_syntax=str(messages.get("badSyntax") or ""),
            unknown_command=str(messages.get("unknownCommand") or ""),
            unknown_command_hint=str(messages.get("unknownCommandHint") or ""),
            causes=MappingProxyType(
                {
                    str(k): str(v)
                    for k, v in (messages.get("causes") or {}).items()
                    if k not in ("source", "unsettled")
                }
            ),
            usage=str(messages.get("usage") or ""),
            usage_without_global_flags=str(messages.get("usageWithoutGlobalFlags") or ""),
            help_flag=str(messages.get("helpFlag") or ""),
        ),
        startup=tuple(_call(item, "startup") for item in raw["startup"]),
        workloads=MappingProxyType(workloads),
        runtime=MappingProxyType(
            {
                phase: tuple(_call(item, phase) for item in calls)
                for phase, calls in raw["runtime"].items()
            }
        ),
        timers=Timers(
            default_timeout_seconds=parse_duration(str(timers["defaultTimeout"])),
            gc_timeout_seconds=parse_duration(str(timers["gcTimeout"])),
            source=str(timers["source"]),
        ),
        custom=CustomTool(
            tool=str(custom["tool"]),
            version=str(custom["version"]),
            subcommand=str(custom["subcommand"]),
            release=_release(custom["release"]),
            flags=tuple(_flag(item) for item in custom["flags"]),
            source=str(custom["source"]),
            persistent_flags=tuple(str(name) for name in custom.get("persistentFlags") or ()),
            sort_flags=bool(custom.get("sortFlags", True)),
            silence_usage=bool(custom.get("silenceUsage", False)),
        ),
        outputs=MappingProxyType({str(k): str(v) for k, v in (raw.get("outputs") or {}).items()}),
        kubernetes_workloads=MappingProxyType(
            {
                name: _kubernetes_workload(name, item, kinds, pod_latency)
                for name, item in (raw.get("kubernetesWorkloads") or {}).items()
            }
        ),
    )


@functools.cache
def load_contract(version: str = PINNED_VERSION) -> Contract:
    """The contract of a supported kube-burner-ocp version; ValueError for any other."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"kube-burner-ocp {version} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}"
        )
    text = (
        importlib.resources.files("perftest_operator.contract")
        .joinpath(_FILE.format(version=version))
        .read_text(encoding="utf-8")
    )
    # libyaml's loader when the platform has it: the pure-Python one takes ~0.2 s for this file.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_contract(yaml.load(text, Loader=loader))  # a safe loader either way
