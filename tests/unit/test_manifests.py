"""kube-burner ConfigMap and Job manifests: whole manifests per workload, names, pod security."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localstack.pod_security import check_pod
from perftest_operator.api.errors import SpecError
from perftest_operator.api.owner import OwnerRef
from perftest_operator.api.spec import PerfTestSpec, parse_perftest_spec
from perftest_operator.runner.command import run_command
from perftest_operator.runner.manifests import build_config_map, build_job
from perftest_operator.runner.names import label_value, run_resource_name
from perftest_operator.runner.refs import RunRef

PROMETHEUS = {"url": "https://thanos-querier.openshift-monitoring.svc:9091"}
IMAGE = "registry.example.com/perf/perftest-runner:v0.1.0"
ENTRYPOINT = ["python3", "-m", "perftest_operator.burnerjob"]
# Every kube-burner-ocp command line: kube-burner deletes what it created, the operator reads
# Prometheus itself (no alerting, so no prometheus-k8s token), kube-burner writes its job
# summaries and quantiles where the entry point reads them.
OPERATOR_FLAGS = ["--gc=true", "--alerting=false", "--local-indexing=true"]
RUN_UID = "6f1c2a4e-9d3b-4c1e-8a7f-0b5d2e3c4f61"
RUN = RunRef(
    test="api-latency",
    run="api-latency-20250110-0300",
    uid=RUN_UID,
    namespace="perftest-runs",
)
OWNER = OwnerRef(
    api_version="perftest.dev/v1alpha1",
    kind="PerfRun",
    name="api-latency-20250110-0300",
    uid=RUN_UID,
)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def spec_of(workload: Mapping[str, Any], **target: Any) -> PerfTestSpec:
    raw = {
        "target": {"namespace": "perftest-runs", **target},
        "workload": dict(workload),
        "prometheus": PROMETHEUS,
    }
    return parse_perftest_spec(raw)


CLUSTER_DENSITY = spec_of(
    {
        "name": "cluster-density-v2",
        "image": IMAGE,
        "iterations": 90,
        "qps": 20,
        "burst": 40,
        "timeout": "2h",
        "churn": {"duration": "30m", "cycles": 2, "percent": 20},
        "extraArgs": ["--pod-ready-threshold=90s"],
    }
)
NODE_DENSITY = spec_of({"name": "node-density", "image": IMAGE, "iterations": 200})
CUSTOM = spec_of(
    {
        "configMapRef": {"name": "my-kube-burner-config", "key": "config.yml"},
        "iterations": 10,
        "qps": 50,
        "burst": 50,
        "timeout": "30m",
        "extraArgs": ["--log-level=debug"],
    }
)
CUSTOM_CONFIG = "jobs:\n  - name: density\n    jobIterations: {{.ITERATIONS}}\n"
# The user's ConfigMap: the config under the key the spec names, and a template beside it.
CUSTOM_FILES = {"config.yml": CUSTOM_CONFIG, "pod.yml": "apiVersion: v1\nkind: Pod\n"}

# Churn spelled out, with the version's defaults for what the spec leaves out (kube-burner-ocp
# v1.7.3 cluster-density.go:76-79: delay 2m0s, deletion strategy default).
CLUSTER_DENSITY_ARGV = [
    "kube-burner-ocp",
    "cluster-density-v2",
    "--iterations=90",
    "--qps=20",
    "--burst=40",
    "--timeout=2h",
    f"--uuid={RUN_UID}",
    *OPERATOR_FLAGS,
    "--churn=true",
    "--churn-duration=30m",
    "--churn-cycles=2",
    "--churn-percent=20",
    "--churn-delay=2m0s",
    "--churn-deletion-strategy=default",
    "--pod-ready-threshold=90s",
]
LABELS = {
    "app.kubernetes.io/name": "kube-burner",
    "app.kubernetes.io/managed-by": "perftest-operator",
    "perftest.dev/test": "api-latency",
    "perftest.dev/run": "api-latency-20250110-0300",
}
METADATA = {
    "name": "api-latency-20250110-0300",
    "namespace": "perftest-runs",
    "labels": LABELS,
    "annotations": {
        "perftest.dev/run-uid": RUN_UID,
        "perftest.dev/run-namespace": "perftest-runs",
        "perftest.dev/run-name": "api-latency-20250110-0300",
    },
    "ownerReferences": [
        {
            "apiVersion": "perftest.dev/v1alpha1",
            "kind": "PerfRun",
            "name": "api-latency-20250110-0300",
            "uid": RUN_UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ],
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESOURCES = {
    "requests": {"cpu": "1", "memory": "1Gi"},
    "limits": {"cpu": "2", "memory": "4Gi"},
}
SCRATCH_MOUNTS = [
    {"name": "output", "mountPath": "/kube-burner"},
    {"name": "tmp", "mountPath": "/tmp"},
]
SCRATCH_VOLUMES = [
    {"name": "output", "emptyDir": {"sizeLimit": "1Gi"}},
    {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
]


# --- whole manifests: this is the review of what the operator creates ---------------------------


def test_cluster_density_job_whole_manifest() -> None:
    job = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=OWNER, service_account="kube-burner")
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": METADATA,
        "spec": {
            "backoffLimit": 0,
            # 2h timeout + kube-burner's 1h garbage-collection timeout + 15 min + 10 % of 2h
            "activeDeadlineSeconds": 7200 + 3600 + 900 + 720,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": True,
                    "serviceAccountName": "kube-burner",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "kube-burner",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ENTRYPOINT,
                            "args": CLUSTER_DENSITY_ARGV,
                            "workingDir": "/kube-burner",
                            "env": [{"name": "HOME", "value": "/kube-burner"}],
                            "resources": RESOURCES,
                            "securityContext": CONTAINER_SECURITY,
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "volumeMounts": SCRATCH_MOUNTS,
                        }
                    ],
                    "volumes": SCRATCH_VOLUMES,
                },
            },
        },
    }


def test_node_density_job_maps_iterations_to_pods_per_node() -> None:
    job = build_job(NODE_DENSITY, RUN, image=IMAGE, owner=None)
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {k: v for k, v in METADATA.items() if k != "ownerReferences"},
        "spec": {
            "backoffLimit": 0,
            # default timeout 1h (no churn) + 1h garbage collection + 15 min + 6 min
            "activeDeadlineSeconds": 3600 + 3600 + 900 + 360,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": True,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "kube-burner",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ENTRYPOINT,
                            "args": [
                                "kube-burner-ocp",
                                "node-density",
                                "--pods-per-node=200",
                                "--timeout=1h",
                                f"--uuid={RUN_UID}",
                                *OPERATOR_FLAGS,
                                "--churn=false",
                            ],
                            "workingDir": "/kube-burner",
                            "env": [{"name": "HOME", "value": "/kube-burner"}],
                            "resources": RESOURCES,
                            "securityContext": CONTAINER_SECURITY,
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "volumeMounts": SCRATCH_MOUNTS,
                        }
                    ],
                    "volumes": SCRATCH_VOLUMES,
                },
            },
        },
    }


def test_custom_config_job_whole_manifest() -> None:
    job = build_job(
        CUSTOM, RUN, image=IMAGE, owner=OWNER, service_account="kube-burner", run_as_user=65532
    )
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": METADATA,
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 1800 + 3600 + 900 + 180,
            "ttlSecondsAfterFinished": 7 * 24 * 3600,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": True,
                    "serviceAccountName": "kube-burner",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "runAsUser": 65532,
                    },
                    "containers": [
                        {
                            "name": "kube-burner",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ENTRYPOINT,
                            "args": [
                                "kube-burner",
                                "init",
                                "--config=/etc/kube-burner/config.yml",
                                f"--uuid={RUN_UID}",
                                "--timeout=30m",
                                "--log-level=debug",
                            ],
                            "workingDir": "/kube-burner",
                            "env": [
                                {"name": "HOME", "value": "/kube-burner"},
                                {"name": "UUID", "value": RUN_UID},
                                {"name": "QPS", "value": "50"},
                                {"name": "BURST", "value": "50"},
                                {"name": "ITERATIONS", "value": "10"},
                            ],
                            "resources": RESOURCES,
                            "securityContext": CONTAINER_SECURITY,
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "volumeMounts": [
                                *SCRATCH_MOUNTS,
                                {
                                    "name": "config",
                                    "mountPath": "/etc/kube-burner",
                                    "readOnly": True,
                                },
                            ],
                        }
                    ],
                    "volumes": [
                        *SCRATCH_VOLUMES,
                        {"name": "config", "configMap": {"name": "api-latency-20250110-0300"}},
                    ],
                },
            },
        },
    }


def test_cluster_density_config_map_whole_manifest() -> None:
    config_map = build_config_map(CLUSTER_DENSITY, RUN, image=IMAGE, custom_files=None, owner=OWNER)
    record = json.loads(config_map["data"]["run.json"])
    assert {k: v for k, v in config_map.items() if k != "data"} == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": METADATA,
        "immutable": True,
    }
    assert list(config_map["data"]) == ["run.json"]
    assert record == {
        "test": "api-latency",
        "run": "api-latency-20250110-0300",
        "runUID": RUN_UID,
        "runNamespace": "perftest-runs",
        "targetNamespace": "perftest-runs",
        "image": IMAGE,
        "workload": "cluster-density-v2",
        "customConfig": None,
        "iterations": 90,
        "qps": 20,
        "burst": 40,
        "kubeBurnerOcpVersion": "v1.7.3",
        "timeout": "2h",
        "activeDeadlineSeconds": 7200 + 3600 + 900 + 720,
        "extraArgs": ["--pod-ready-threshold=90s"],
        "command": CLUSTER_DENSITY_ARGV,
    }


def test_custom_config_map_carries_the_users_config_under_its_key() -> None:
    config_map = build_config_map(CUSTOM, RUN, image=IMAGE, custom_files=CUSTOM_FILES, owner=None)
    assert config_map["metadata"]["name"] == "api-latency-20250110-0300"
    assert "ownerReferences" not in config_map["metadata"]
    assert sorted(config_map["data"]) == ["config.yml", "pod.yml", "run.json"]
    assert config_map["data"]["config.yml"] == CUSTOM_CONFIG
    assert config_map["data"]["pod.yml"] == CUSTOM_FILES["pod.yml"]
    record = json.loads(config_map["data"]["run.json"])
    assert record["workload"] is None
    assert record["customConfig"] == {"configMap": "my-kube-burner-config", "key": "config.yml"}
    assert record["command"][:3] == ["kube-burner", "init", "--config=/etc/kube-burner/config.yml"]
    assert record["image"] == IMAGE


def test_job_mounts_every_file_the_custom_config_map_stores() -> None:
    job = build_job(CUSTOM, RUN, image=IMAGE, owner=None)
    config_map = build_config_map(CUSTOM, RUN, image=IMAGE, custom_files=CUSTOM_FILES, owner=None)
    pod = job["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "config"]
    assert volume["configMap"] == {"name": config_map["metadata"]["name"]}  # every key
    config_arg = next(a for a in pod["containers"][0]["args"] if a.startswith("--config="))
    assert config_arg == f"--config={mount['mountPath']}/config.yml"
    assert "config.yml" in config_map["data"] and "pod.yml" in config_map["data"]


# --- targeted behaviour ------------------------------------------------------------------------


def test_extra_args_come_last_in_the_users_order() -> None:
    extra = ["--pod-ready-threshold=1m", "--service-latency", "--pod-ready-threshold=3m"]
    spec = spec_of({"name": "cluster-density-v2", "iterations": 3, "extraArgs": extra})
    args = build_job(spec, RUN, image=IMAGE, owner=None)["spec"]["template"]["spec"]["containers"][
        0
    ]["args"]
    assert args[-len(extra) :] == extra


def test_owner_reference_is_the_controller() -> None:
    job = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=OWNER)
    config_map = build_config_map(CLUSTER_DENSITY, RUN, image=IMAGE, custom_files=None, owner=OWNER)
    for manifest in (job, config_map):
        (ref,) = manifest["metadata"]["ownerReferences"]
        assert ref["uid"] == OWNER.uid and ref["kind"] == "PerfRun"
        assert ref["controller"] is True and ref["blockOwnerDeletion"] is True


def test_no_owner_reference_without_owner() -> None:
    assert (
        "ownerReferences"
        not in build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=None)["metadata"]
    )


def test_without_target_namespace_the_job_runs_in_the_perfrun_namespace() -> None:
    spec = parse_perftest_spec({"workload": {"name": "node-density"}, "prometheus": PROMETHEUS})
    assert spec.target.namespace is None
    run = RunRef("api-latency", "api-latency-1", RUN_UID, "team-a")
    owner = OwnerRef("perftest.dev/v1alpha1", "PerfRun", "api-latency-1", RUN_UID)
    job = build_job(spec, run, image=IMAGE, owner=owner)
    config_map = build_config_map(spec, run, image=IMAGE, custom_files=None, owner=owner)
    assert job["metadata"]["namespace"] == config_map["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["ownerReferences"][0]["uid"] == RUN_UID
    assert json.loads(config_map["data"]["run.json"])["targetNamespace"] == "team-a"


def test_owner_in_another_namespace_is_refused() -> None:
    spec = spec_of({"name": "node-density"}, namespace="benchmarks")
    with pytest.raises(ValueError, match="cannot own"):
        build_job(spec, RUN, image=IMAGE, owner=OWNER)
    with pytest.raises(ValueError, match="cannot own"):
        build_config_map(spec, RUN, image=IMAGE, custom_files=None, owner=OWNER)
    assert build_job(spec, RUN, image=IMAGE, owner=None)["metadata"]["namespace"] == "benchmarks"


def test_job_and_config_map_names_are_the_same_per_run_and_differ_between_runs() -> None:
    other = RunRef("api-latency", "api-latency-20250111-0300", "another-uid", "perftest-runs")
    first = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=None)["metadata"]["name"]
    again = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=None)["metadata"]["name"]
    config_map = build_config_map(CLUSTER_DENSITY, RUN, image=IMAGE, custom_files=None, owner=None)
    assert first == again == config_map["metadata"]["name"]
    assert build_job(CLUSTER_DENSITY, other, image=IMAGE, owner=None)["metadata"]["name"] != first


def test_long_names_give_valid_names_and_labels() -> None:
    long_test = "a" * 120 + ".team-x"
    long_run = long_test + "-20250110-030000"
    run = RunRef(long_test, long_run, RUN_UID, "perftest-runs")
    job = build_job(NODE_DENSITY, run, image=IMAGE, owner=None)
    assert DNS_LABEL.match(job["metadata"]["name"]) and len(job["metadata"]["name"]) <= 63
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        for value in labels.values():
            assert LABEL_VALUE.match(value) and len(value) <= 63
    assert (
        job["metadata"]["labels"]["perftest.dev/test"]
        != job["metadata"]["labels"]["perftest.dev/run"]
    )


def test_deadline_outlasts_kube_burners_timeout_and_its_garbage_collection() -> None:
    for timeout in ("1m", "30m", "1h", "4h"):
        spec = spec_of({"name": "node-density", "timeout": timeout})
        command = run_command(spec.workload, uuid=RUN_UID)
        # kube-burner waits up to gcTimeout (1h, no kube-burner-ocp flag sets it: kube-burner
        # pkg/config/config.go:44) after its --timeout or its last job.
        assert command.deadline_seconds >= command.timeout_seconds + 3600 + 15 * 60


def test_timeout_is_passed_as_a_go_duration() -> None:
    spec = spec_of({"name": "node-density", "timeout": "1h30m"})
    assert "--timeout=1h30m" in run_command(spec.workload, uuid=RUN_UID).argv


def test_qps_and_burst_left_out_use_kube_burner_defaults() -> None:
    argv = run_command(NODE_DENSITY.workload, uuid=RUN_UID).argv
    assert not any(a.startswith(("--qps", "--burst")) for a in argv)


def test_required_count_missing_is_a_spec_error() -> None:
    spec = spec_of({"name": "cluster-density-v2"})
    with pytest.raises(SpecError) as error:
        build_job(spec, RUN, image=IMAGE, owner=None)
    assert error.value.field == "spec.workload.iterations"


def test_the_count_belongs_in_iterations_not_extra_args() -> None:
    spec = spec_of({"name": "cluster-density-v2", "iterations": 4, "extraArgs": ["--iterations=5"]})
    with pytest.raises(SpecError, match=r"use spec\.workload\.iterations") as error:
        build_job(spec, RUN, image=IMAGE, owner=None)
    assert error.value.field == "spec.workload.extraArgs[0]"


def test_iterations_for_a_workload_without_a_count_is_a_spec_error() -> None:
    spec = spec_of({"name": "network-policy", "iterations": 3})
    assert run_command(spec.workload, uuid=RUN_UID).argv[2] == "--iterations=3"
    spec = spec_of({"name": "web-burner-node-density", "iterations": 3})
    with pytest.raises(SpecError, match=r"cannot run at kube-burner-ocp v1\.7\.3"):
        build_config_map(spec, RUN, image=IMAGE, custom_files=None, owner=None)


def test_custom_config_presence_must_match_the_workload() -> None:
    with pytest.raises(ValueError, match="custom_files"):
        build_config_map(CUSTOM, RUN, image=IMAGE, custom_files=None, owner=None)
    with pytest.raises(ValueError, match="custom_files"):
        build_config_map(
            CLUSTER_DENSITY, RUN, image=IMAGE, custom_files={"config.yml": "jobs: []"}, owner=None
        )


def test_custom_files_may_not_shadow_the_run_record() -> None:
    spec = spec_of({"configMapRef": {"name": "cfg", "key": "config.yml"}})
    files = {"config.yml": "{}", "run.json": "{}"}
    with pytest.raises(SpecError) as error:
        build_config_map(spec, RUN, image=IMAGE, custom_files=files, owner=None)
    assert error.value.field == "spec.workload.configMapRef"


def test_manifests_reference_no_secret() -> None:
    raw = {
        "target": {
            "namespace": "perftest-runs",
            "kubeconfigSecretRef": {"name": "target-kubeconfig-zz9", "key": "kubeconfig"},
        },
        "workload": {"name": "node-density"},
        "prometheus": {
            **PROMETHEUS,
            "bearerTokenSecretRef": {"name": "prom-token-qq7", "key": "token"},
        },
    }
    spec = parse_perftest_spec(raw)
    job = build_job(spec, RUN, image=IMAGE, owner=None)
    config_map = build_config_map(spec, RUN, image=IMAGE, custom_files=None, owner=None)
    text = json.dumps([job, config_map])
    assert "target-kubeconfig-zz9" not in text and "prom-token-qq7" not in text
    assert "secretKeyRef" not in text and '"secret"' not in text and "KUBECONFIG" not in text


def test_builders_do_not_mutate_shared_constants() -> None:
    first = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=OWNER)
    first["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "99"
    first["metadata"]["labels"]["x"] = "y"
    second = build_job(CLUSTER_DENSITY, RUN, image=IMAGE, owner=OWNER)
    assert second["spec"]["template"]["spec"]["containers"][0]["resources"] == RESOURCES
    assert "x" not in second["metadata"]["labels"]


# --- names (property-based) --------------------------------------------------------------------

NAME_TEXT = st.text(min_size=1, max_size=300)
K8S_NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,250}[a-z0-9])?", fullmatch=True)


@settings(max_examples=300)
@given(name=st.one_of(NAME_TEXT, K8S_NAMES), suffix=st.sampled_from(["", "cfg", "job"]))
def test_run_resource_name_is_always_a_valid_dns_label(name: str, suffix: str) -> None:
    result = run_resource_name(name, suffix)
    assert len(result) <= 63
    assert DNS_LABEL.match(result), result
    assert result == run_resource_name(name, suffix)
    if suffix:
        assert result.endswith(f"-{suffix}")


@settings(max_examples=100)
@given(names=st.sets(st.one_of(NAME_TEXT, K8S_NAMES), min_size=2, max_size=40))
def test_distinct_run_names_give_distinct_resource_names(names: set[str]) -> None:
    results = [run_resource_name(name) for name in names]
    assert len(set(results)) == len(results)


@given(name=K8S_NAMES)
def test_short_valid_names_are_kept_unchanged(name: str) -> None:
    if len(name) <= 63 and "." not in name:
        assert run_resource_name(name) == name
        assert label_value(name) == name


def test_long_names_that_share_a_prefix_stay_distinct() -> None:
    prefix = "nightly-" + "x" * 80
    names = {run_resource_name(f"{prefix}-{i}") for i in range(1000)}
    assert len(names) == 1000
    assert all(name.startswith("nightly-xxx") for name in names)


@settings(max_examples=300)
@given(text=st.one_of(NAME_TEXT, K8S_NAMES))
def test_label_value_is_always_valid_and_deterministic(text: str) -> None:
    result = label_value(text)
    assert len(result) <= 63 and LABEL_VALUE.match(result), result
    assert result == label_value(text)


def test_invalid_suffix_or_empty_name_is_refused() -> None:
    with pytest.raises(ValueError):
        run_resource_name("")
    with pytest.raises(ValueError):
        run_resource_name("run", "Not_A_Label")


# --- restricted Pod Security Standard ----------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [CLUSTER_DENSITY, NODE_DENSITY, CUSTOM], ids=lambda s: str(s.workload.name)
)
def test_job_pod_passes_the_restricted_pod_security_standard(spec: PerfTestSpec) -> None:
    """As Kubernetes' pod-security-admission library checks it (localstack.pod_security,
    tested on its own in test_pod_security.py), at the latest policy version."""
    for job in (
        build_job(
            spec, RUN, image=IMAGE, owner=None, service_account="kube-burner", run_as_user=1001
        ),
        build_job(spec, RUN, image=IMAGE, owner=None),
    ):
        template = job["spec"]["template"]
        assert check_pod(template["spec"], template.get("metadata") or {}, "restricted") == []


def test_run_as_root_is_refused() -> None:
    with pytest.raises(ValueError, match="non-root"):
        build_job(NODE_DENSITY, RUN, image=IMAGE, owner=None, run_as_user=0)
