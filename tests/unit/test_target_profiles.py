"""Platform profiles: default Prometheus and its auth, scheduling fragments, and which metrics exist."""

from __future__ import annotations

import pytest

from perftest_operator.api.default_kpis import DEFAULT_METRICS
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.api.spec import Platform
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.profiles import (
    OPENSHIFT_PROMETHEUS_URL,
    PrometheusAuth,
    metric_available,
    profile_for,
)

SELF_MANAGED_OPENSHIFT = DetectedPlatform(Platform.AWS, True, False, False, "test")
ROSA_CLASSIC = DetectedPlatform(Platform.ROSA, True, False, True, "test")
ROSA_HCP = DetectedPlatform(Platform.ROSA, True, True, True, "test")
ARO = DetectedPlatform(Platform.ARO, True, False, True, "test")
PLAIN_BARE_METAL = DetectedPlatform(Platform.BARE_METAL, False, False, False, "test")
EKS = DetectedPlatform(Platform.AWS, False, True, True, "test")


def metric(query: str, name: str = "kpi") -> MetricSpec:
    return MetricSpec(name=name, query=query)


@pytest.mark.parametrize("detected", [SELF_MANAGED_OPENSHIFT, ROSA_CLASSIC, ROSA_HCP, ARO])
def test_openshift_defaults_to_thanos_querier_with_the_service_account_token(
    detected: DetectedPlatform,
) -> None:
    profile = profile_for(detected)
    assert profile.prometheus_url == OPENSHIFT_PROMETHEUS_URL
    assert profile.prometheus_auth is PrometheusAuth.SERVICE_ACCOUNT_TOKEN
    assert profile.prometheus_route == ("openshift-monitoring", "thanos-querier")
    assert profile.prometheus_ca_config_map == ("openshift-service-ca.crt", "service-ca.crt")
    assert profile.platform is detected.platform


@pytest.mark.parametrize("detected", [PLAIN_BARE_METAL, EKS])
def test_plain_kubernetes_has_no_default_prometheus(detected: DetectedPlatform) -> None:
    profile = profile_for(detected)
    assert profile.prometheus_url is None
    assert profile.prometheus_auth is PrometheusAuth.NONE
    assert profile.prometheus_route is None
    assert profile.prometheus_ca_config_map is None


def test_managed_profiles_require_nodes_without_control_plane_or_infra_roles() -> None:
    for detected in (ROSA_CLASSIC, ROSA_HCP, ARO, EKS):
        fields = profile_for(detected).scheduling.pod_spec_fields()
        required = fields["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        (term,) = required["nodeSelectorTerms"]
        assert {(e["key"], e["operator"]) for e in term["matchExpressions"]} == {
            ("node-role.kubernetes.io/master", "DoesNotExist"),
            ("node-role.kubernetes.io/control-plane", "DoesNotExist"),
            ("node-role.kubernetes.io/infra", "DoesNotExist"),
        }
        assert fields["nodeSelector"] == {"kubernetes.io/os": "linux"}
        assert fields["tolerations"] == []


def test_self_managed_profiles_have_no_hard_node_restriction() -> None:
    fields = profile_for(SELF_MANAGED_OPENSHIFT).scheduling.pod_spec_fields()
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution" not in fields["affinity"]["nodeAffinity"]
    )


def test_scheduling_fields_are_a_fresh_dict_on_every_call() -> None:
    scheduling = profile_for(ROSA_CLASSIC).scheduling
    first = scheduling.pod_spec_fields()
    first["nodeSelector"]["changed"] = "yes"
    first["affinity"]["nodeAffinity"].clear()
    assert scheduling.pod_spec_fields() == profile_for(ARO).scheduling.pod_spec_fields()
    assert "changed" not in scheduling.pod_spec_fields()["nodeSelector"]


@pytest.mark.parametrize("detected", [SELF_MANAGED_OPENSHIFT, ROSA_CLASSIC, ARO, PLAIN_BARE_METAL])
def test_default_metrics_exist_where_the_control_plane_is_in_the_cluster(
    detected: DetectedPlatform,
) -> None:
    profile = profile_for(detected)
    for spec in DEFAULT_METRICS:
        availability = metric_available(profile, spec)
        assert availability
        assert availability.reason == ""
    assert metric_available(
        profile, metric("histogram_quantile(0.99, etcd_disk_wal_fsync_duration_seconds_bucket)")
    )


def test_hosted_control_planes_skip_the_api_latency_metrics_with_a_note() -> None:
    profile = profile_for(ROSA_HCP)
    for spec in DEFAULT_METRICS:
        if spec.kube_burner is not None:  # measured by kube-burner itself: always there
            assert metric_available(profile, spec)
            continue
        availability = metric_available(profile, spec)
        assert not availability
        assert availability.reason.startswith(f"{spec.name} skipped: the control plane is hosted")
        assert "apiserver_request_duration_seconds_bucket" in availability.reason


HCP_QUERIES = {
    "etcd fsync": (
        "histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[2m]))",
        False,
    ),
    "apiserver client to etcd": ("max(etcd_request_duration_seconds_sum)", False),
    "scheduler": ("rate(scheduler_schedule_attempts_total[1m])", False),
    "control-plane namespace": ('sum(container_memory_rss{namespace="openshift-etcd"})', False),
    "control-plane namespace in a regex": (
        'sum(rate(container_cpu_usage_seconds_total{namespace=~"openshift-kube-apiserver|x"}[2m]))',
        False,
    ),
    "operator namespace of a hosted component": (
        'sum(container_memory_rss{namespace="openshift-etcd-operator"})',
        True,
    ),
    "workload metric": ("max(kube_pod_status_ready)", True),
    "node metric": ("avg(node_load1)", True),
    "prefix only inside a string": ('count(kube_pod_info{pod=~"etcd_.*"})', True),
}


@pytest.mark.parametrize("name", HCP_QUERIES)
def test_hosted_control_plane_availability_by_query(name: str) -> None:
    query, expected = HCP_QUERIES[name]
    assert bool(metric_available(profile_for(ROSA_HCP), metric(query))) is expected


EKS_QUERIES = {
    "api latency (served by the API server)": (DEFAULT_METRICS[0].query, True),
    "apiserver client to etcd": ("max(etcd_request_duration_seconds_sum)", True),
    "etcd server fsync": (
        "histogram_quantile(0.99, etcd_disk_wal_fsync_duration_seconds_bucket)",
        False,
    ),
    "etcd db size": ("max(etcd_mvcc_db_total_size_in_bytes)", False),
}


@pytest.mark.parametrize("name", EKS_QUERIES)
def test_managed_kubernetes_lacks_only_etcds_own_metrics(name: str) -> None:
    query, expected = EKS_QUERIES[name]
    availability = metric_available(profile_for(EKS), metric(query))
    assert bool(availability) is expected
    if not expected:
        assert "the provider runs etcd" in availability.reason
