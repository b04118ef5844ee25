"""The Helm chart: lint, render, validate, and the same objects as the kustomize base."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_schema import load_crd
from shipping import (
    CHART,
    KOPF_PEERING_CRDS,
    MANIFESTS,
    REPO,
    by_kind,
    helm,
    helm_template,
    invalid_objects,
    kustomize,
    the_one,
)

from perftest_operator import GROUP
from perftest_operator.api.policy import RunPolicy
from perftest_operator.api.settings import load_settings
from perftest_operator.cli import build_parser
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.rbac import (
    READS_SECRETS_ANNOTATION,
    cluster_role_name,
    shipped_cluster_roles,
    workload_reads_secrets,
)

BASE = MANIFESTS / "base"
KUBE_BURNER = MANIFESTS / "kube-burner"
KEEP = {"helm.sh/resource-policy": "keep"}
NAMESPACED_VALUES = ["--set", "watchNamespaces={perf,nightly}"]


def test_lint_is_clean_with_default_and_namespaced_values() -> None:
    helm("lint", "--strict", str(CHART))
    helm("lint", "--strict", str(CHART), *NAMESPACED_VALUES)


@pytest.mark.parametrize(
    "values",
    [
        [],
        NAMESPACED_VALUES,
        ["--set", "installCRDs=false", "--set", "grafanaDashboard.enabled=true"],
        [
            "--set",
            "openshift.clusterMonitoringView=true",
            "--set",
            "podSecurityContext.runAsUser=null",
        ],
        ["--set", "metrics.serviceMonitor.enabled=true"],
    ],
    ids=["default", "namespaced", "no-crds-dashboard", "openshift", "servicemonitor"],
)
def test_every_rendered_object_is_valid(values: list[str]) -> None:
    objects = helm_template(*values)
    assert objects
    assert invalid_objects(objects) == []


# --- the chart's copies of crds/ and manifests/base stay the same (make chart-sync) ---------------

COPIES = [
    (CHART / "files" / f"perftests.{GROUP}.yaml", REPO / "crds" / f"perftests.{GROUP}.yaml"),
    (CHART / "files" / f"perfruns.{GROUP}.yaml", REPO / "crds" / f"perfruns.{GROUP}.yaml"),
    (CHART / "files" / "clusterrole.yaml", BASE / "clusterrole.yaml"),
    (CHART / "files" / "kube-burner-clusterrole.yaml", KUBE_BURNER / "clusterrole.yaml"),
    (CHART / "crds" / "kopf-peering.yaml", KOPF_PEERING_CRDS),
]


@pytest.mark.parametrize(("copy", "original"), COPIES, ids=[c.name for c, _ in COPIES])
def test_chart_copies_are_up_to_date(copy: Path, original: Path) -> None:
    assert copy.read_bytes() == original.read_bytes(), "run `make chart-sync`"


# --- the same objects as the kustomize base ---------------------------------------------------------


def test_chart_renders_the_objects_of_the_base() -> None:
    def kinds_and_names(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((d["kind"], d["metadata"]["name"]) for d in objects)

    # The base also creates its namespace; a Helm release lives in one made for it.
    base = [
        d
        for d in kustomize(BASE)
        if (d["kind"], d["metadata"]["name"]) != ("Namespace", "perftest-system")
    ]
    assert kinds_and_names(helm_template()) == kinds_and_names(base)


def test_chart_ships_the_crds_unchanged_and_keeps_them_on_uninstall() -> None:
    objects = helm_template()
    for plural in ("perftests", "perfruns"):
        crd = the_one(objects, "CustomResourceDefinition", f"{plural}.{GROUP}")
        assert crd["metadata"].pop("annotations") == KEEP
        assert crd == load_crd(plural)
    peering_crds = yaml.safe_load_all(KOPF_PEERING_CRDS.read_text(encoding="utf-8"))
    for crd in peering_crds:
        assert the_one(objects, "CustomResourceDefinition", crd["metadata"]["name"]) == crd


def test_install_crds_false_leaves_out_our_crds_only() -> None:
    names = {
        d["metadata"]["name"]
        for d in by_kind(helm_template("--set", "installCRDs=false"), "CustomResourceDefinition")
    }
    assert names == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}  # Helm's crds/


def test_chart_rbac_equals_the_base_rbac() -> None:
    chart, base = helm_template(), kustomize(BASE)
    for name in ("perftest-operator", "perftest-operator-peering"):
        assert (
            the_one(chart, "ClusterRole", name)["rules"]
            == the_one(base, "ClusterRole", name)["rules"]
        )
        binding = the_one(chart, "ClusterRoleBinding", name)
        assert binding["roleRef"] == the_one(base, "ClusterRoleBinding", name)["roleRef"]
        assert binding["subjects"] == the_one(base, "ClusterRoleBinding", name)["subjects"]


def test_chart_ships_the_hub_job_account_of_manifests_kube_burner() -> None:
    """kube-burner's ClusterRoles, and in perftest-runs its ServiceAccount and the bindings of the
    samples' workloads; on OpenShift also cluster-monitoring-view: the same as kustomize renders."""

    def job_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [
            without_chart_labels(d)
            for d in objects
            if "kube-burner" in d["metadata"]["name"]
            or d["metadata"]["name"].endswith("perftest-runs")
        ]
        for d in kept:
            d["metadata"].pop("labels", None)
        return sorted(kept, key=lambda d: (d["kind"], d["metadata"]["name"]))

    chart = job_objects(helm_template("--set", "openshift.clusterMonitoringView=true"))
    shipped = job_objects(kustomize(KUBE_BURNER) + kustomize(KUBE_BURNER / "openshift"))
    roles = [d["metadata"]["name"] for d in chart if d["kind"] == "ClusterRole"]
    assert roles == sorted(d["metadata"]["name"] for d in shipped_cluster_roles(load_contract()))
    assert [(d["kind"], d["metadata"]["name"]) for d in chart if d["kind"] != "ClusterRole"] == [
        ("ClusterRoleBinding", "cluster-monitoring-view-perftest-runs"),
        ("ClusterRoleBinding", "perftest-kube-burner-custom-perftest-runs"),
        ("ClusterRoleBinding", "perftest-kube-burner-node-density-cni-perftest-runs"),
        ("ClusterRoleBinding", "perftest-kube-burner-node-density-heavy-perftest-runs"),
        ("ClusterRoleBinding", "perftest-kube-burner-node-density-perftest-runs"),
        ("Namespace", "perftest-runs"),
        ("ServiceAccount", "perftest-kube-burner"),
        ("ValidatingAdmissionPolicy", "perftest-kube-burner-confinement"),
        ("ValidatingAdmissionPolicyBinding", "perftest-kube-burner-confinement"),
    ]
    assert chart == shipped
    assert settings_of(helm_template()).job_service_account == "perftest-kube-burner"


def test_policy_values_are_the_operators_policy_settings() -> None:
    assert settings_of(helm_template()).policy == RunPolicy()
    objects = helm_template(
        "--set", "policy.allowedImages={quay.io/perf/*,registry.example.com/runner:1}",
        "--set", "policy.customConfigNamespaces={team-a}",
        "--set", "policy.localRuns=true",
        "--set", "policy.secretReadingWorkloads=true",
    )  # fmt: skip
    assert settings_of(objects).policy == RunPolicy(
        allowed_images=("quay.io/perf/*", "registry.example.com/runner:1"),
        custom_config_namespaces=("team-a",),
        local_runs=True,
        secret_reading_workloads=True,
    )


def test_a_role_that_reads_every_secret_is_bound_only_where_the_admin_allows_it() -> None:
    """The annotated roles are the workloads whose runs verify Secrets (runner.rbac); the chart
    refuses to bind one unless policy.secretReadingWorkloads is on."""
    contract = load_contract()
    annotated = [
        d["metadata"]["name"]
        for d in by_kind(helm_template(), "ClusterRole")
        if d["metadata"].get("annotations", {}).get(READS_SECRETS_ANNOTATION) == "true"
    ]
    readers = [name for name in contract.runnable() if workload_reads_secrets(contract, name)]
    assert sorted(annotated) == sorted(map(cluster_role_name, readers))
    listed = ["--set", "kubeBurnerWorkloads={node-density,cluster-density-v2}"]
    with pytest.raises(AssertionError, match="cluster-density-v2 reads every Secret of the clust"):
        helm_template(*listed)
    allowed = helm_template(*listed, "--set", "policy.secretReadingWorkloads=true")
    assert {
        d["roleRef"]["name"]
        for d in by_kind(allowed, "ClusterRoleBinding")
        if d["metadata"]["name"].endswith("-perftest-runs")
    } == {"perftest-kube-burner-node-density", "perftest-kube-burner-cluster-density-v2"}


def test_each_run_namespace_gets_the_job_account_under_its_name() -> None:
    objects = helm_template(
        "--set", "runNamespaces={bench,nightly}",
        "--set", "createRunNamespaces=false",
        "--set", "settings.jobServiceAccount=burner",
    )  # fmt: skip
    assert settings_of(objects).job_service_account == "burner"
    assert [d["metadata"]["name"] for d in by_kind(objects, "Namespace")] == []
    accounts = [
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in by_kind(objects, "ServiceAccount")
        if d["metadata"]["name"] == "burner"
    ]
    assert sorted(accounts) == [("bench", "burner"), ("nightly", "burner")]
    bound = {
        (s["namespace"], s["name"])
        for d in by_kind(objects, "ClusterRoleBinding")
        if d["roleRef"]["name"] == "perftest-kube-burner-node-density"
        for s in d["subjects"]
    }
    assert bound == set(accounts)
    assert not [
        d
        for d in by_kind(objects, "ClusterRoleBinding")
        if d["roleRef"]["name"] == "cluster-monitoring-view"
    ]


def without_chart_labels(value: Any) -> Any:
    """The object without the labels only Helm adds (release, chart version, manager)."""
    if isinstance(value, dict):
        return {
            key: without_chart_labels(item)
            for key, item in value.items()
            if key
            not in ("app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart")
        }
    if isinstance(value, list):
        return [without_chart_labels(item) for item in value]
    return value


@pytest.mark.parametrize(
    "kind", ["Deployment", "PodDisruptionBudget", "ServiceAccount", "ClusterKopfPeering"]
)
def test_chart_object_equals_the_base_object(kind: str) -> None:
    chart = without_chart_labels(the_one(helm_template(), kind, "perftest-operator"))
    base = the_one(kustomize(BASE), kind, "perftest-operator")
    base["metadata"].pop("annotations", None)  # Argo CD's sync option on the peering object
    assert chart == base


# --- values ---------------------------------------------------------------------------------------------


def operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = the_one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def settings_of(objects: list[dict[str, Any]]) -> Any:
    env = operator_container(objects)["env"]
    return load_settings({item["name"]: item["value"] for item in env})


def test_values_for_image_replicas_resources_and_prometheus() -> None:
    objects = helm_template(
        "--set", "image.repository=quay.io/perf/perftest-operator",
        "--set", "image.tag=v0.2.0",
        "--set", "replicas=3",
        "--set", "resources.limits.memory=2Gi",
        "--set", "prometheus.defaultUrl=https://thanos-querier.openshift-monitoring.svc:9091",
    )  # fmt: skip
    container = operator_container(objects)
    assert container["image"] == "quay.io/perf/perftest-operator:v0.2.0"
    assert the_one(objects, "Deployment")["spec"]["replicas"] == 3
    assert container["resources"]["limits"]["memory"] == "2Gi"
    assert settings_of(objects).default_prometheus_url == (
        "https://thanos-querier.openshift-monitoring.svc:9091"
    )


def test_namespace_scope_watches_the_namespaces_and_peers_in_each() -> None:
    objects = helm_template(*NAMESPACED_VALUES)
    assert settings_of(objects).namespaces == ("perf", "nightly")
    peering = build_parser().parse_args(operator_container(objects)["args"]).peering
    assert by_kind(objects, "ClusterKopfPeering") == []
    assert not [
        d for d in by_kind(objects, "ClusterRole") if d["metadata"]["name"].endswith("-peering")
    ]
    for namespace in ("perf", "nightly"):
        peer = [
            d for d in by_kind(objects, "KopfPeering") if d["metadata"]["namespace"] == namespace
        ]
        assert [d["metadata"]["name"] for d in peer] == [peering]
        (role,) = [
            d
            for d in by_kind(objects, "Role")
            if d["metadata"]["namespace"] == namespace and "peering" in d["metadata"]["name"]
        ]
        assert {
            (r["resources"][0], tuple(r["verbs"]), tuple(r.get("resourceNames", ())))
            for r in role["rules"]
        } == {
            ("kopfpeerings", ("list", "watch"), ()),
            ("kopfpeerings", ("get", "patch"), (peering,)),
        }
        (binding,) = [
            d
            for d in by_kind(objects, "RoleBinding")
            if d["metadata"]["namespace"] == namespace and "peering" in d["metadata"]["name"]
        ]
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        assert (
            binding["subjects"][0]["name"]
            == the_one(objects, "ServiceAccount", "perftest-operator")["metadata"]["name"]
        )


def test_namespace_scope_reads_secrets_in_the_watched_namespaces_only() -> None:
    """Kubeconfigs, tokens and CA bundles are the PerfTests' own: with watchNamespaces no
    ClusterRole of the operator grants Secrets; a Role in each watched namespace does."""
    objects = helm_template(*NAMESPACED_VALUES)
    account = the_one(objects, "ServiceAccount", "perftest-operator")["metadata"]["name"]
    for role in by_kind(objects, "ClusterRole"):
        if role["metadata"]["name"].startswith("perftest-operator"):
            assert not any("secrets" in rule["resources"] for rule in role["rules"]), role
    for namespace in ("perf", "nightly"):
        (role,) = [
            d
            for d in by_kind(objects, "Role")
            if d["metadata"]["namespace"] == namespace
            and d["metadata"]["name"].endswith("-secrets")
        ]
        assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
        (binding,) = [
            d
            for d in by_kind(objects, "RoleBinding")
            if d["metadata"]["namespace"] == namespace
            and d["metadata"]["name"].endswith("-secrets")
        ]
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        assert binding["subjects"][0]["name"] == account
    # Cluster-wide, the base's rules unchanged (test_chart_rbac_equals_the_base_rbac).
    cluster = the_one(helm_template(), "ClusterRole", "perftest-operator")
    assert any("secrets" in rule["resources"] for rule in cluster["rules"])


def test_cluster_scope_watches_everything() -> None:
    assert settings_of(helm_template()).namespaces == ()


def test_openshift_values_bind_monitoring_and_leave_the_uid_to_the_scc() -> None:
    objects = helm_template(
        "--set", "openshift.clusterMonitoringView=true",
        "--set", "podSecurityContext.runAsUser=null",
        "--set", "podSecurityContext.runAsGroup=null",
    )  # fmt: skip
    binding = the_one(objects, "ClusterRoleBinding", "perftest-operator-cluster-monitoring-view")
    assert binding["roleRef"]["name"] == "cluster-monitoring-view"
    context = the_one(objects, "Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert context == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


# --- the operator's metrics -----------------------------------------------------------------------------

SERVICE_MONITOR = ["--set", "metrics.serviceMonitor.enabled=true"]


def test_metrics_service_equals_the_base_one_and_selects_the_operator_pods() -> None:
    objects = helm_template()
    service = without_chart_labels(the_one(objects, "Service", "perftest-operator-metrics"))
    base = the_one(kustomize(BASE), "Service", "perftest-operator-metrics")
    # The chart selects by its release too (app.kubernetes.io/instance), as for every object.
    selector = the_one(objects, "Service")["spec"]["selector"]
    assert service["spec"].pop("selector").items() <= selector.items()
    pod_labels = the_one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    base["spec"].pop("selector")
    assert service == base


def test_service_monitor_is_off_by_default_and_equals_the_openshift_one() -> None:
    assert by_kind(helm_template(), "ServiceMonitor") == []
    objects = helm_template(*SERVICE_MONITOR, "--set", "metrics.serviceMonitor.labels.release=kp")
    monitor = the_one(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kp"
    service = the_one(objects, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    openshift = the_one(kustomize(MANIFESTS / "overlays" / "openshift"), "ServiceMonitor")
    chart_spec = monitor["spec"]
    chart_spec["selector"]["matchLabels"].pop("app.kubernetes.io/instance")
    assert chart_spec == openshift["spec"]


def test_metrics_can_be_turned_off() -> None:
    objects = helm_template("--set", "metrics.enabled=false", *SERVICE_MONITOR)
    assert by_kind(objects, "Service") == [] and by_kind(objects, "ServiceMonitor") == []
    container = operator_container(objects)
    assert build_parser().parse_args(container["args"]).metrics_address is None
    assert [p["name"] for p in container["ports"]] == ["health"]


def test_metrics_port_value_moves_the_service_and_the_listener_together() -> None:
    objects = helm_template("--set", "metrics.port=9400")
    container = operator_container(objects)
    assert build_parser().parse_args(container["args"]).metrics_address == ("0.0.0.0", 9400)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    (service_port,) = the_one(objects, "Service")["spec"]["ports"]
    assert ports[service_port["targetPort"]] == service_port["port"] == 9400


# --- the Grafana dashboard ------------------------------------------------------------------------------

DASHBOARD = CHART / "dashboards" / "perftest-operator.json"
# The operator's metrics the dashboard is written against (tests/unit/test_telemetry.py checks that
# the operator exposes them).
OPERATOR_METRICS = {
    "perftest_kpi_value",
    "perftest_runs_started_total",
    "perftest_runs_succeeded_total",
    "perftest_runs_failed_total",
    "perftest_regressions_detected_total",
    "perftest_analysis_duration_seconds_bucket",
    "perftest_prometheus_query_errors_total",
}
# What Grafana puts in place of its variables before the query goes to Prometheus.
GRAFANA_VARIABLES = {
    "$namespace": "perf",
    "$test": "nightly",
    "$metric": "max-ro-apicalls-latency-namespace",
    "$__range": "30d",
    "$__rate_interval": "2m",
    "$__interval": "1h",
}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    return queries


def grafana_substituted(query: str) -> str:
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        query = query.replace(variable, value)
    return query


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool (Debian's prometheus package) parses each query, as a recording rule."""
    from shipping import tool

    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": grafana_substituted(q)}
                    for i, q in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    assert "$" not in json.dumps(rules)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = subprocess.run(
        [tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promql_check_refuses_a_broken_query(tmp_path: Path) -> None:
    from shipping import tool

    path = tmp_path / "rules.yaml"
    rules = {"groups": [{"name": "g", "rules": [{"record": "r:x", "expr": "sum(rate(x[5m])"}]}]}
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = subprocess.run(
        [tool("promtool"), "check", "rules", str(path)], capture_output=True, check=False
    )
    assert result.returncode != 0


def test_dashboard_plots_the_operator_metrics_with_regressions_as_annotations() -> None:
    names = {
        name
        for query in dashboard_queries()
        for name in re.findall(r"\b(perftest_[a-z_]+)\b", query)
    }
    assert names == OPERATOR_METRICS
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (annotation,) = [a for a in dashboard["annotations"]["list"] if "expr" in a]
    assert "perftest_regressions_detected_total" in annotation["expr"]
    history = [
        p
        for p in dashboard["panels"]
        if any("perftest_kpi_value" in t["expr"] for t in p["targets"])
    ]
    assert history and history[0]["type"] == "timeseries"
    # Bounded labels only: a PerfTest, its namespace, a KPI; never a run.
    for query in dashboard_queries():
        assert "run=" not in query and "uuid" not in query


def test_dashboard_configmap_carries_the_dashboard() -> None:
    objects = helm_template("--set", "grafanaDashboard.enabled=true")
    config_map = the_one(objects, "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["perftest-operator.json"]) == json.loads(
        DASHBOARD.read_text(encoding="utf-8")
    )
    assert by_kind(helm_template(), "ConfigMap") == []
