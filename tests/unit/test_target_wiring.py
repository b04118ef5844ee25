"""The pure parts of running on a target: RBAC, declared platforms, endpoints, placement, reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from perftest_operator.api.errors import (
    JobServiceAccountMissing,
    PerfTestNotFound,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    PrometheusUnusable,
    SpecError,
    TargetConfigInvalid,
    TargetSecretMissing,
    TargetUnreachable,
)
from perftest_operator.api.settings import Settings
from perftest_operator.api.spec import (
    Platform,
    PrometheusSettings,
    SecretKeyRef,
    parse_perftest_spec,
)
from perftest_operator.api.status import (
    READINESS_FAILURES,
    Reason,
    not_ready_reason,
    spec_error_reason,
)
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.manifests import build_job
from perftest_operator.runner.rbac import (
    SERVICE_ACCOUNT,
    build_cluster_role_binding,
    build_target_rbac,
    shipped_cluster_roles,
)
from perftest_operator.runner.refs import RunRef
from perftest_operator.target.endpoints import (
    CaSource,
    TokenSource,
    prometheus_endpoint,
    token_field,
)
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


@pytest.mark.parametrize(
    ("error", "reason", "again"),
    [
        (SpecError("spec.prometheus.url", "no URL"), Reason.INVALID_SPEC, False),
        (TargetSecretMissing("Secret t not found"), Reason.TARGET_SECRET_MISSING, True),
        (TargetConfigInvalid("exec"), Reason.TARGET_CONFIG_INVALID, True),
        (TargetUnreachable("503"), Reason.TARGET_UNREACHABLE, True),
        (JobServiceAccountMissing("not in perf"), Reason.JOB_SERVICE_ACCOUNT_MISSING, True),
        (PrometheusUnusable("spec.prometheus.caSecretRef", "gone"), Reason.PROMETHEUS_UNUSABLE, True),
        (PrometheusUnauthorized("401"), Reason.PROMETHEUS_UNAUTHORIZED, True),
        (PrometheusUnavailable("refused"), Reason.PROMETHEUS_UNREACHABLE, True),
    ],
)  # fmt: skip
def test_what_stops_a_perftest_being_ready_has_its_reason_and_only_spec_errors_wait_for_a_new_spec(
    error: Exception, reason: Reason, again: bool
) -> None:
    assert isinstance(error, READINESS_FAILURES)
    assert not_ready_reason(error) == (reason, again)


OPENSHIFT = profile_for(DETECTED_AWS)
KUBERNETES = profile_for(DetectedPlatform(Platform.GCP, False, False, False, ""))
REF = SecretKeyRef(name="s", key="k")
HUB_DEFAULT = "http://hub-prometheus:9090"


SERVICE = "https://thanos-querier.openshift-monitoring.svc:9091"
ROUTE = None  # looked up on the Job's cluster


@pytest.mark.parametrize(
    ("settings", "profile", "remote", "in_cluster", "url", "token", "ca"),
    [
        # An explicit URL wins everywhere; the service account is the operator pod's inside
        # the hub, else the Job's (minted where the Job runs).
        (dict(url="https://p:9091"), OPENSHIFT, True, True, "https://p:9091", "None", "System"),
        (
            dict(url="https://p", use_service_account_token=True),
            KUBERNETES,
            True,
            True,
            "https://p",
            "JobServiceAccount",
            "System",
        ),
        (
            dict(url="https://p", use_service_account_token=True),
            None,
            False,
            True,
            "https://p",
            "OperatorServiceAccount",
            "System",
        ),
        (
            dict(url="https://p", use_service_account_token=True),
            None,
            False,
            False,
            "https://p",
            "JobServiceAccount",
            "System",
        ),
        (
            dict(url="https://p", bearer_token_secret_ref=REF, ca_secret_ref=REF),
            OPENSHIFT,
            True,
            False,
            "https://p",
            "Secret",
            "Secret",
        ),
        # No URL: the hub's default for the hub only, inside or out; else OpenShift's
        # thanos-querier.
        (dict(), KUBERNETES, False, True, HUB_DEFAULT, "None", "System"),
        (dict(), KUBERNETES, False, False, HUB_DEFAULT, "None", "System"),
        (dict(), OPENSHIFT, False, True, HUB_DEFAULT, "None", "System"),
        (dict(), OPENSHIFT, True, True, ROUTE, "JobServiceAccount", "IngressCA"),
        (dict(), OPENSHIFT, True, False, ROUTE, "JobServiceAccount", "IngressCA"),
        (dict(ca_secret_ref=REF), OPENSHIFT, True, True, ROUTE, "JobServiceAccount", "Secret"),
    ],
)
def test_prometheus_endpoint_by_target(
    settings: dict[str, Any],
    profile: Any,
    remote: bool,
    in_cluster: bool,
    url: str | None,
    token: str,
    ca: str,
) -> None:
    endpoint = prometheus_endpoint(
        PrometheusSettings(**settings),
        profile,
        remote=remote,
        in_cluster=in_cluster,
        default_url=HUB_DEFAULT,
    )
    assert (endpoint.url, endpoint.token, endpoint.ca) == (url, TokenSource(token), CaSource(ca))


@pytest.mark.parametrize(
    ("settings", "in_cluster", "url", "token", "ca"),
    [
        # In its pod: the Service, the pod's own token, the service CA mounted beside it.
        (dict(), True, SERVICE, "OperatorServiceAccount", "ServiceCA"),
        (
            dict(use_service_account_token=True),
            True,
            SERVICE,
            "OperatorServiceAccount",
            "ServiceCA",
        ),
        # Outside (`make run`): no Service name resolves and no pod token exists; the Route,
        # a token minted for the Job's account, the cluster's ingress CA, as for a remote target.
        (dict(), False, ROUTE, "JobServiceAccount", "IngressCA"),
        (dict(use_service_account_token=True), False, ROUTE, "JobServiceAccount", "IngressCA"),
        # What the spec names is kept either way.
        (dict(bearer_token_secret_ref=REF), False, ROUTE, "Secret", "IngressCA"),
        (dict(ca_secret_ref=REF), True, SERVICE, "OperatorServiceAccount", "Secret"),
    ],
)
def test_the_hubs_own_thanos_querier_inside_and_outside_the_cluster(
    settings: dict[str, Any], in_cluster: bool, url: str | None, token: str, ca: str
) -> None:
    endpoint = prometheus_endpoint(
        PrometheusSettings(**settings),
        OPENSHIFT,
        remote=False,
        in_cluster=in_cluster,
        default_url=None,
    )
    assert (endpoint.url, endpoint.token, endpoint.ca) == (url, TokenSource(token), CaSource(ca))


@pytest.mark.parametrize(
    ("profile", "remote", "in_cluster"),
    [
        (KUBERNETES, True, True),
        (KUBERNETES, False, True),
        (KUBERNETES, False, False),
        (None, True, False),
        (None, False, True),
    ],
)
def test_no_prometheus_is_a_spec_error_naming_the_url_field(
    profile: Any, remote: bool, in_cluster: bool
) -> None:
    with pytest.raises(SpecError) as caught:
        prometheus_endpoint(
            PrometheusSettings(), profile, remote=remote, in_cluster=in_cluster, default_url=None
        )
    assert caught.value.field == "spec.prometheus.url"


def test_the_hubs_default_url_is_never_used_for_a_remote_target() -> None:
    with pytest.raises(SpecError):
        prometheus_endpoint(
            PrometheusSettings(), KUBERNETES, remote=True, in_cluster=True, default_url=HUB_DEFAULT
        )


@pytest.mark.parametrize(
    ("settings", "token", "field"),
    [
        (dict(bearer_token_secret_ref=REF), TokenSource.SECRET, "spec.prometheus.bearerTokenSecretRef"),
        (dict(), TokenSource.NONE, "spec.prometheus.bearerTokenSecretRef"),
        (dict(use_service_account_token=True), TokenSource.JOB_ACCOUNT, "spec.prometheus.useServiceAccountToken"),
        (dict(), TokenSource.OPERATOR, "spec.prometheus"),  # the platform's default token
    ],
)  # fmt: skip
def test_a_refused_token_names_the_field_that_chose_it(
    settings: dict[str, Any], token: TokenSource, field: str
) -> None:
    assert token_field(PrometheusSettings(**settings), token) == field


def test_the_hub_jobs_default_account_is_the_one_on_remote_targets() -> None:
    assert Settings().job_service_account == SERVICE_ACCOUNT


def test_the_shipped_kube_burner_roles_are_the_ones_the_operator_creates() -> None:
    path = Path(__file__).resolve().parents[2] / "manifests" / "kube-burner" / "clusterrole.yaml"
    assert list(yaml.safe_load_all(path.read_text())) == shipped_cluster_roles(load_contract())
