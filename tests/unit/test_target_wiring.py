"""The pure parts of running on a target: RBAC, declared platforms, endpoints, placement, reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from perftest_operator.api.errors import (
    PerfTestNotFound,
    SpecError,
    TargetConfigInvalid,
    TargetSecretMissing,
)
from perftest_operator.api.spec import (
    Platform,
    PrometheusSettings,
    SecretKeyRef,
    parse_perftest_spec,
)
from perftest_operator.api.status import Reason, spec_error_reason
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.manifests import build_job
from perftest_operator.runner.rbac import (
    SERVICE_ACCOUNT,
    build_cluster_role_binding,
    build_target_rbac,
    shipped_cluster_roles,
)
from perftest_operator.runner.refs import RunRef
from perftest_operator.target.endpoints import CaSource, TokenSource, prometheus_endpoint
from perftest_operator.target.metadata import platform_from_summary, summarize_target
from perftest_operator.target.platform import DetectedPlatform, with_declared_platform
from perftest_operator.target.profiles import profile_for

RUN = RunRef(test="api", run="api-3", uid="uid-3", namespace="perf")
DETECTED_AWS = DetectedPlatform(Platform.AWS, True, False, False, "Infrastructure: AWS")


def test_target_rbac_binds_kube_burners_account_in_its_namespace_only() -> None:
    account, role, binding = build_target_rbac(
        "bench-a", load_contract(), "node-density", openshift=False
    )
    assert account["metadata"] == {
        "name": SERVICE_ACCOUNT,
        "namespace": "bench-a",
        "labels": {"app.kubernetes.io/managed-by": "perftest-operator"},
    }
    assert role["kind"] == "ClusterRole"
    assert role["metadata"]["name"] == "perftest-kube-burner-node-density"
    granted = {
        (g, r): set(rule["verbs"])
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    assert {"create", "delete"} <= granted[("", "namespaces")]
    assert granted[("", "nodes")] == {"list"}  # the health check and the metadata only list
    assert ("", "nodes/proxy") not in granted and all("*" not in v for v in granted.values())
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": "bench-a"}
    ]
    # Bindings are cluster-scoped: two run namespaces never share (and overwrite) one.
    other = build_cluster_role_binding("bench-b", role["metadata"]["name"])
    assert other["metadata"]["name"] != binding["metadata"]["name"]


def test_on_openshift_the_account_may_also_query_cluster_monitoring() -> None:
    objects = build_target_rbac("bench", load_contract(), None, openshift=True)
    assert [o["roleRef"]["name"] for o in objects if o["kind"] == "ClusterRoleBinding"] == [
        "perftest-kube-burner-custom",
        "cluster-monitoring-view",
    ]


def test_a_declared_platform_overrules_detection_and_keeps_the_evidence() -> None:
    assert with_declared_platform(DETECTED_AWS, Platform.AUTO) is DETECTED_AWS
    assert with_declared_platform(DETECTED_AWS, Platform.AWS) is DETECTED_AWS
    rosa = with_declared_platform(DETECTED_AWS, Platform.ROSA)
    assert (rosa.platform, rosa.openshift, rosa.managed) == (Platform.ROSA, True, True)
    assert "declared ROSA" in rosa.evidence and "Infrastructure: AWS" in rosa.evidence
    metal = with_declared_platform(DETECTED_AWS, Platform.BARE_METAL)
    assert (metal.platform, metal.managed) == (Platform.BARE_METAL, False)


def test_the_recorded_target_gives_back_the_platform_it_was_built_from() -> None:
    for detected in (
        DETECTED_AWS,
        DetectedPlatform(Platform.ROSA, True, True, True, "hosted"),
        DetectedPlatform(Platform.BARE_METAL, False, False, False, "no providerID"),
    ):
        summary = summarize_target(
            cluster_version=None,
            version_info={"gitVersion": "v1.32.1"},
            nodes=[],
            platform=detected,
        )
        summary["platformEvidence"] = detected.evidence
        assert platform_from_summary(summary) == detected
    assert platform_from_summary(None) is None
    assert platform_from_summary({"platform": "Mars"}) is None


def test_the_job_takes_the_placement_it_is_given() -> None:
    spec = parse_perftest_spec({"workload": {"name": "node-density"}})
    placement = profile_for(DetectedPlatform(Platform.ARO, True, False, True, "")).scheduling
    job = build_job(spec, RUN, image="runner:1", owner=None, placement=placement.pod_spec_fields())
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    required = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    keys = {e["key"] for e in required["nodeSelectorTerms"][0]["matchExpressions"]}
    assert "node-role.kubernetes.io/control-plane" in keys
    assert (
        "nodeSelector"
        not in build_job(spec, RUN, image="runner:1", owner=None)["spec"]["template"]["spec"]
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TargetSecretMissing("Secret t not found"), Reason.TARGET_SECRET_MISSING),
        (TargetConfigInvalid("exec plugins are refused"), Reason.TARGET_CONFIG_INVALID),
        (PerfTestNotFound("api"), Reason.TEST_NOT_FOUND),
        (SpecError("spec.workload", "bad"), Reason.INVALID_SPEC),
    ],
)
def test_spec_errors_have_their_own_reasons(error: SpecError, reason: Reason) -> None:
    assert spec_error_reason(error) is reason


OPENSHIFT = profile_for(DETECTED_AWS)
KUBERNETES = profile_for(DetectedPlatform(Platform.GCP, False, False, False, ""))
REF = SecretKeyRef(name="s", key="k")
HUB_DEFAULT = "http://hub-prometheus:9090"


@pytest.mark.parametrize(
    ("settings", "profile", "remote", "url", "token", "ca"),
    [
        # An explicit URL wins everywhere; the service account is the one where the Job ran.
        (dict(url="https://p:9091"), OPENSHIFT, True, "https://p:9091", "None", "System"),
        (
            dict(url="https://p", use_service_account_token=True),
            KUBERNETES,
            True,
            "https://p",
            "TargetServiceAccount",
            "System",
        ),
        (
            dict(url="https://p", use_service_account_token=True),
            None,
            False,
            "https://p",
            "OperatorServiceAccount",
            "System",
        ),
        (
            dict(url="https://p", bearer_token_secret_ref=REF, ca_secret_ref=REF),
            OPENSHIFT,
            True,
            "https://p",
            "Secret",
            "Secret",
        ),
        # No URL: the hub's default for the hub only; else OpenShift's thanos-querier.
        (dict(), KUBERNETES, False, HUB_DEFAULT, "None", "System"),
        (dict(), OPENSHIFT, True, None, "TargetServiceAccount", "TargetIngressCA"),
        (
            dict(ca_secret_ref=REF),
            OPENSHIFT,
            True,
            None,
            "TargetServiceAccount",
            "Secret",
        ),
    ],
)
def test_prometheus_endpoint_by_target(
    settings: dict[str, Any], profile: Any, remote: bool, url: str | None, token: str, ca: str
) -> None:
    endpoint = prometheus_endpoint(
        PrometheusSettings(**settings), profile, remote=remote, default_url=HUB_DEFAULT
    )
    assert (endpoint.url, endpoint.token, endpoint.ca) == (url, TokenSource(token), CaSource(ca))


def test_the_hub_without_a_default_uses_its_own_thanos_querier_with_the_service_ca() -> None:
    endpoint = prometheus_endpoint(PrometheusSettings(), OPENSHIFT, remote=False, default_url=None)
    assert endpoint.url == "https://thanos-querier.openshift-monitoring.svc:9091"
    assert (endpoint.token, endpoint.ca) == (TokenSource.OPERATOR, CaSource.SERVICE_CA)


@pytest.mark.parametrize(
    ("profile", "remote"), [(KUBERNETES, True), (KUBERNETES, False), (None, True)]
)
def test_no_prometheus_is_a_spec_error_naming_the_url_field(profile: Any, remote: bool) -> None:
    with pytest.raises(SpecError) as caught:
        prometheus_endpoint(PrometheusSettings(), profile, remote=remote, default_url=None)
    assert caught.value.field == "spec.prometheus.url"


def test_the_shipped_kube_burner_roles_are_the_ones_the_operator_creates() -> None:
    path = Path(__file__).resolve().parents[2] / "manifests" / "kube-burner" / "clusterrole.yaml"
    assert list(yaml.safe_load_all(path.read_text())) == shipped_cluster_roles(load_contract())
