"""The project's kube-burner configurations for any Kubernetes: their contract read from their own
files, the command and environment a run gets, the files its ConfigMap carries, its RBAC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from localstack.pod_security import check_pod
from localstack.standin_custom import parse_config
from perftest_operator.api.default_kpis import MonitoringStack, default_metrics
from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import Platform, parse_perftest_spec
from perftest_operator.contract.calls import resolve_flags, run_calls
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.command import check_workload, kube_burner_environment, run_command
from perftest_operator.runner.manifests import RUNNER_UID, build_config_map, build_job
from perftest_operator.runner.rbac import missing_grants, shipped_cluster_roles, workload_rules
from perftest_operator.runner.refs import RunRef
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.profiles import no_series_note, profile_for, run_metrics

CONTRACT = load_contract()
NAMES = ("k8s-node-density", "k8s-cluster-density", "k8s-api-intensive")
RUN = RunRef(test="t", run="t-1", uid="0d6c3c53-uuid", namespace="perftest-runs")
EKS = DetectedPlatform(Platform.AWS, False, True, True, "managed Kubernetes: EKS")
OPENSHIFT = DetectedPlatform(Platform.AWS, True, False, False, "Infrastructure")


def spec(workload: Mapping[str, Any], **extra: Any) -> Any:
    raw = {
        "target": {"namespace": "perftest-runs"},
        "workload": dict(workload),
        "prometheus": {"url": "http://prometheus.monitoring.svc:9090"},
        **extra,
    }
    return parse_perftest_spec(raw)


def env_of(job: Mapping[str, Any]) -> dict[str, str]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item["value"] for item in container["env"]}


def test_the_shipped_workloads_are_named_as_kube_burner_ocps_are() -> None:
    assert tuple(CONTRACT.kubernetes_workloads) == NAMES
    assert CONTRACT.runnable()[-3:] == NAMES
    for name in NAMES:
        found = CONTRACT.workload(name)
        assert found is not None and not found.openshift_only
    assert CONTRACT.workload("node-density") is not None
    assert CONTRACT.workload("node-density").openshift_only  # type: ignore[union-attr]


@pytest.mark.parametrize("name", NAMES)
def test_the_contracts_jobs_are_what_kube_burner_reads_in_the_files(name: str) -> None:
    """A second reading of each config.yml (the stand-in's, as kube-burner renders it over the
    environment) finds the jobs, object templates and replicas the contract derived."""
    found = CONTRACT.kubernetes_workloads[name]
    assert found.config is not None
    env = {"UUID": "u", "ITERATIONS": "7", "QPS": "5", "BURST": "5"}
    config = parse_config(found.config.files["config.yml"], env)
    assert [job.name for job in config.jobs] == [job.name for job in found.jobs]
    for read, derived in zip(config.jobs, found.jobs, strict=True):
        assert read.iterations == 7
        assert [(o.template_path.rpartition("/")[2], o.replicas) for o in read.objects] == [
            (o.source.rpartition("/")[2], int(o.replicas)) for o in derived.objects
        ]
        for item in read.objects:
            file = item.template_path.removeprefix("/etc/kube-burner/")
            assert file in found.config.files, file  # the ConfigMap carries every template
    assert config.gc and found.config.gc


@pytest.mark.parametrize("name", NAMES)
def test_every_pod_template_is_restricted_and_sits_off_the_control_plane(name: str) -> None:
    found = CONTRACT.kubernetes_workloads[name]
    assert found.config is not None
    for file, text in found.config.files.items():
        document = yaml.safe_load(text.replace("{{", "").replace("}}", ""))
        pod = document.get("spec", {}).get("template", {}).get("spec") or (
            document["spec"] if document.get("kind") == "Pod" else None
        )
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, file
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", file
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, file
            assert context["capabilities"]["drop"] == ["ALL"], file


def test_a_run_is_plain_kube_burner_init_on_the_shipped_config() -> None:
    command = run_command(spec({"name": "k8s-cluster-density"}).workload, uuid="u-1")
    assert command.argv == (
        "kube-burner",
        "init",
        "--config=/etc/kube-burner/config.yml",
        "--uuid=u-1",
        "--timeout=1h",
    )
    flags = resolve_flags(CONTRACT, "k8s-cluster-density", command.argv[2:])
    assert flags["config"] == "/etc/kube-burner/config.yml"
    assert command.deadline_seconds >= command.timeout_seconds + CONTRACT.timers.gc_timeout_seconds


def test_defaults_fill_what_the_spec_leaves_out_and_node_density_counts_per_node() -> None:
    workload = spec({"name": "k8s-node-density", "qps": 7}).workload
    assert kube_burner_environment(workload, uuid="u", schedulable_nodes=3) == {
        "UUID": "u",
        "ITERATIONS": "60",  # 20 pods per node (the default) x 3 nodes
        "QPS": "7",
        "BURST": "20",
    }
    sized = spec({"name": "k8s-node-density", "iterations": 50}).workload
    assert kube_burner_environment(sized, uuid="u", schedulable_nodes=4)["ITERATIONS"] == "200"
    with pytest.raises(ValueError, match="per node"):
        kube_burner_environment(sized, uuid="u")
    namespaces = spec({"name": "k8s-api-intensive"}).workload
    assert kube_burner_environment(namespaces, uuid="u", schedulable_nodes=9) == {
        "UUID": "u",
        "ITERATIONS": "100",
        "QPS": "50",
        "BURST": "50",
    }


@pytest.mark.parametrize(
    ("workload", "field", "words"),
    [
        ({"churn": {"duration": "10m"}}, "spec.workload.churn", "has no churn"),
        (
            {"extraArgs": ["--config=/etc/kube-burner/x.yml"]},
            "spec.workload.extraArgs[0]",
            "set by the operator",
        ),
        ({"extraArgs": ["--churn=true"]}, "spec.workload.extraArgs[0]", "unknown flag: --churn"),
        ({"extraArgs": ["--pod-ready-threshold=1m"]}, "spec.workload.extraArgs[0]", "kube-burner"),
    ],
)
def test_what_kube_burner_init_would_refuse_is_a_spec_error(
    workload: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(SpecError) as caught:
        check_workload(spec({"name": "k8s-cluster-density", **workload}).workload)
    assert caught.value.field == field and words in caught.value.problem


def test_init_flags_the_spec_does_not_own_are_accepted() -> None:
    argv = run_command(
        spec({"name": "k8s-api-intensive", "extraArgs": ["--log-level=debug"]}).workload, uuid="u"
    ).argv
    assert argv[-1] == "--log-level=debug"


def test_the_config_map_carries_the_shipped_files_and_the_job_mounts_them() -> None:
    test = spec({"name": "k8s-cluster-density"})
    found = CONTRACT.kubernetes_workloads["k8s-cluster-density"]
    assert found.config is not None
    config_map = build_config_map(test, RUN, image="img", custom_files=None, owner=None)
    assert set(config_map["data"]) == {"run.json", *found.config.files}
    assert config_map["data"]["config.yml"] == found.config.files["config.yml"]
    job = build_job(test, RUN, image="img", owner=None, run_as_user=RUNNER_UID, schedulable_nodes=2)
    pod = job["spec"]["template"]["spec"]
    assert {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}} in pod[
        "volumes"
    ]
    (container,) = pod["containers"]
    assert {"name": "config", "mountPath": "/etc/kube-burner", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert pod["securityContext"]["runAsUser"] == RUNNER_UID
    assert env_of(job)["ITERATIONS"] == "10"


@pytest.mark.parametrize("name", NAMES)
def test_each_has_its_own_role_that_grants_every_request(name: str) -> None:
    flags = resolve_flags(CONTRACT, name, [])
    calls = run_calls(CONTRACT, name, flags)
    rules = workload_rules(CONTRACT, name)
    assert calls and missing_grants(rules, calls) == []
    shipped = {role["metadata"]["name"] for role in shipped_cluster_roles(CONTRACT)}
    assert f"perftest-kube-burner-{name}" in shipped
    # kube-burner init with clusterHealth false reads nothing of OpenShift's
    assert not any(c.group.endswith("openshift.io") for c in calls)


def test_cluster_density_creates_only_kubernetes_kinds() -> None:
    found = CONTRACT.kubernetes_workloads["k8s-cluster-density"]
    kinds = {o.kind for job in found.jobs for o in job.objects}
    assert kinds == {"Deployment", "Service", "Secret", "ConfigMap", "NetworkPolicy"}


def test_default_kpis_are_read_with_the_targets_monitoring_stack() -> None:
    defaulted = spec({"name": "k8s-node-density"})
    own = spec(
        {"name": "k8s-node-density"},
        metrics=[{"name": "x", "query": "up", "aggregation": "max"}],
    )
    on_eks = run_metrics(defaulted, profile_for(EKS))
    assert on_eks == default_metrics(MonitoringStack.KUBE_PROMETHEUS)
    assert all('job="apiserver"' in m.query for m in on_eks if m.kube_burner is None)
    assert not any("kube-apiserver" in m.query for m in on_eks)
    assert run_metrics(defaulted, profile_for(OPENSHIFT)) == defaulted.metrics
    assert run_metrics(own, profile_for(EKS)) == own.metrics
    # the same names on every stack: one history whatever the stack
    assert [m.name for m in on_eks] == [m.name for m in defaulted.metrics]


def test_a_kpi_without_samples_names_its_query_and_the_platform() -> None:
    (metric,) = [
        m for m in default_metrics(MonitoringStack.KUBE_PROMETHEUS) if m.name.startswith("max-mut")
    ]
    note = no_series_note(metric, profile_for(EKS))
    assert metric.query in note
    assert "plain Kubernetes on AWS (managed control plane) (kube-prometheus profile)" in note


PLATFORMS = [
    DetectedPlatform(platform, openshift, hosted, managed, "")
    for platform in Platform
    if platform is not Platform.AUTO
    for openshift, hosted, managed in (
        (True, False, False),
        (False, False, False),
        (False, True, True),
    )
    if openshift or platform not in (Platform.ROSA, Platform.ARO)
]


@pytest.mark.parametrize("detected", PLATFORMS, ids=lambda d: d.describe())
@pytest.mark.parametrize("workload", ["cluster-density-v2", *NAMES])
def test_the_job_is_admitted_under_the_restricted_standard_on_every_platform(
    detected: DetectedPlatform, workload: str
) -> None:
    """As the operator builds it for that platform (its placement, and a UID where the platform
    assigns none), judged by the Pod Security Standards' own checks."""
    profile = profile_for(detected)
    test = spec({"name": workload, "iterations": 3})
    job = build_job(
        test,
        RUN,
        image="img",
        owner=None,
        placement=profile.scheduling.pod_spec_fields(),
        run_as_user=None if profile.openshift else RUNNER_UID,
        schedulable_nodes=2,
    )
    template = job["spec"]["template"]
    assert check_pod(template["spec"], template["metadata"], "restricted") == []
    assert ("runAsUser" in template["spec"]["securityContext"]) is not detected.openshift
