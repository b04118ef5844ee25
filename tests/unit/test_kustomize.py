"""The kustomize base, its overlays and the samples: rendered, validated, and held to what they promise."""

from __future__ import annotations

import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_schema import (
    PLURALS,
    apply_defaults,
    cel_errors,
    load_crd,
    schema_errors,
    schema_of,
    unknown_fields,
)
from kopf._cogs.structs import references as kopf_references
from shipping import MANIFESTS, REPO, by_kind, invalid_objects, kustomize, the_one

from localstack.pod_security import check_pod
from perftest_operator import API_VERSION, GROUP
from perftest_operator.api.settings import PREFIX, load_settings
from perftest_operator.api.spec import Platform, PrometheusSettings, parse_perftest_spec
from perftest_operator.cli import build_parser, main
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.command import kube_burner_environment
from perftest_operator.runner.confinement import (
    build_admission_policy,
    build_admission_policy_binding,
)
from perftest_operator.runner.rbac import build_target_rbac, shipped_cluster_roles
from perftest_operator.target.endpoints import (
    CaSource,
    PrometheusEndpoint,
    TokenSource,
    prometheus_endpoint,
)
from perftest_operator.target.platform import DetectedPlatform
from perftest_operator.target.profiles import profile_for

BASE = MANIFESTS / "base"
OVERLAYS = {name: MANIFESTS / "overlays" / name for name in ("kubernetes", "openshift")}
CUSTOM_WORKLOAD = MANIFESTS / "samples" / "custom-workload"
KUBE_BURNER = MANIFESTS / "kube-burner"
RENDERABLE = {
    "base": BASE,
    **OVERLAYS,
    "custom-workload sample": CUSTOM_WORKLOAD,
    "kube-burner": KUBE_BURNER,
    "kube-burner openshift": KUBE_BURNER / "openshift",
}
NAMESPACE = "perftest-system"
RUN_NAMESPACE = "perftest-runs"


@pytest.mark.parametrize("name", sorted(RENDERABLE))
def test_every_rendered_object_is_valid(name: str) -> None:
    objects = kustomize(RENDERABLE[name])
    assert objects
    assert invalid_objects(objects) == []


def test_validation_finds_what_the_api_server_would_refuse() -> None:
    deployment = the_one(kustomize(BASE), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
    peering = the_one(kustomize(BASE), "ClusterKopfPeering")
    peering["spec"] = {"priority": 1}
    perftest = {
        "apiVersion": "perftest.dev/v1alpha1",
        "kind": "PerfTest",
        "metadata": {"name": "x"},
        "spec": {"workload": {"name": "node-density", "qps": "fast"}},
    }
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    monitor = the_one(kustomize(OVERLAYS["openshift"]), "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["honourLabels"] = True
    monitor["spec"]["endpoints"][0]["interval"] = "half a minute"
    problems = invalid_objects([deployment, peering, perftest, unknown, monitor])
    assert any(
        p.startswith("ServiceMonitor/perftest-operator: spec.endpoints.0.interval")
        for p in problems
    )
    monitor["spec"]["endpoints"][0]["interval"] = "30s"
    assert invalid_objects([monitor]) == [
        "ServiceMonitor/perftest-operator: fields the CRD does not know: "
        "['.spec.endpoints[0].honourLabels']"
    ]
    assert any(p.startswith("Deployment/perftest-operator") and "httpGett" in p for p in problems)
    assert "ClusterKopfPeering/perftest-operator: unknown field spec" in problems
    assert any(p.startswith("PerfTest/x: spec.workload.qps") for p in problems)
    assert "Widget/w: no schema for example.com/v1" in problems


@pytest.mark.parametrize("name", ["base", *sorted(OVERLAYS)])
def test_only_namespaced_kinds_get_the_namespace(name: str) -> None:
    for doc in kustomize(RENDERABLE[name]):
        namespace = doc["metadata"].get("namespace")
        if (doc["kind"], doc["metadata"]["name"]) == ("ServiceAccount", "perftest-kube-burner"):
            assert namespace == RUN_NAMESPACE  # the hub Jobs' account, where they run
        elif doc["kind"] in (
            "ServiceAccount",
            "Deployment",
            "PodDisruptionBudget",
            "Service",
            "ServiceMonitor",
        ):
            assert namespace == NAMESPACE, doc["kind"]
        else:
            assert namespace is None, doc["kind"]


# Bound in perftest-runs by default: not the workloads that read every Secret (runner.rbac).
SAMPLE_WORKLOADS = ("node-density", "node-density-cni", "node-density-heavy", "custom")


def test_base_renders_every_piece_once() -> None:
    assert sorted((doc["kind"], doc["metadata"]["name"]) for doc in kustomize(BASE)) == sorted(
        [
            ("Namespace", NAMESPACE),
            ("CustomResourceDefinition", f"perftests.{GROUP}"),
            ("CustomResourceDefinition", f"perfruns.{GROUP}"),
            ("ServiceAccount", "perftest-operator"),
            ("ClusterRole", "perftest-operator"),
            ("ClusterRoleBinding", "perftest-operator"),
            ("Deployment", "perftest-operator"),
            ("Service", "perftest-operator-metrics"),
            ("PodDisruptionBudget", "perftest-operator"),
            # kopf peering (manifests/base/kopf-peering-crds.yaml, peering.yaml, clusterrole-peering.yaml)
            ("CustomResourceDefinition", "clusterkopfpeerings.kopf.dev"),
            ("CustomResourceDefinition", "kopfpeerings.kopf.dev"),
            ("ClusterKopfPeering", "perftest-operator"),
            ("ClusterRole", "perftest-operator-peering"),
            ("ClusterRoleBinding", "perftest-operator-peering"),
            # The hub Jobs' account in the run namespace perftest-runs, bound to the samples'
            # workloads' roles; every workload's role (manifests/kube-burner)
            ("Namespace", RUN_NAMESPACE),
            ("ServiceAccount", "perftest-kube-burner"),
            # ... and what confines that account to the namespaces kube-burner creates
            ("ValidatingAdmissionPolicy", "perftest-kube-burner-confinement"),
            ("ValidatingAdmissionPolicyBinding", "perftest-kube-burner-confinement"),
            *[
                ("ClusterRoleBinding", f"perftest-kube-burner-{workload}-{RUN_NAMESPACE}")
                for workload in SAMPLE_WORKLOADS
            ],
            *[
                ("ClusterRole", role["metadata"]["name"])
                for role in shipped_cluster_roles(load_contract())
            ],
        ]
    )


def test_base_ships_the_crds_unchanged() -> None:
    objects = kustomize(BASE)
    for plural in PLURALS:
        assert the_one(objects, "CustomResourceDefinition", f"{plural}.{GROUP}") == load_crd(plural)


# --- high availability: two replicas, kopf peering ------------------------------------------------


def operator_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(the_one(objects, "Deployment")["spec"]["template"]["spec"])


def run_args(objects: list[dict[str, Any]]) -> Any:
    (container,) = operator_pod(objects)["containers"]
    assert container["command"] == ["perftest"]
    return build_parser().parse_args(container["args"])


def test_two_replicas_roll_one_at_a_time_and_never_both_away() -> None:
    objects = kustomize(BASE)
    deployment = the_one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    budget = the_one(objects, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    term = operator_pod(objects)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ][0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= pod_labels.items()


def test_the_replicas_peer_through_the_shipped_cluster_peering_object() -> None:
    objects = kustomize(BASE)
    args = run_args(objects)
    assert args.peering and args.priority is None  # priorities from start times: never a tie
    assert args.namespace is None  # cluster-wide, so kopf peers through a ClusterKopfPeering
    peering = the_one(objects, "ClusterKopfPeering")
    assert peering["metadata"]["name"] == args.peering != "default"
    # The CRD that serves it is the one kopf looks for.
    selector = kopf_references.CLUSTER_PEERINGS_K
    crd = the_one(objects, "CustomResourceDefinition", f"{selector.any_name}.{selector.group}")
    assert crd["spec"]["group"] == selector.group
    assert crd["spec"]["scope"] == "Cluster"
    assert [v["name"] for v in crd["spec"]["versions"]] == [selector.version]
    assert peering["apiVersion"] == f"{selector.group}/{selector.version}"
    assert crd["spec"]["names"]["kind"] == peering["kind"]
    namespaced = kopf_references.NAMESPACED_PEERINGS_K
    crd = the_one(objects, "CustomResourceDefinition", f"{namespaced.any_name}.{namespaced.group}")
    assert crd["spec"]["scope"] == "Namespaced"


def test_the_peering_role_grants_what_kopf_peering_does_and_no_more() -> None:
    objects = kustomize(BASE)
    name = run_args(objects).peering
    role = the_one(objects, "ClusterRole", "perftest-operator-peering")
    plural = kopf_references.CLUSTER_PEERINGS_K.any_name
    assert role["rules"] == [
        {"apiGroups": ["kopf.dev"], "resources": [plural], "verbs": ["list", "watch"]},
        {
            "apiGroups": ["kopf.dev"],
            "resources": [plural],
            "resourceNames": [name],
            "verbs": ["get", "patch"],
        },
    ]


@pytest.mark.parametrize("role", ["perftest-operator", "perftest-operator-peering"])
def test_each_operator_role_is_bound_to_the_deployments_account(role: str) -> None:
    """What the role grants: tests/unit/test_rbac_matches_code.py (derived from the code)."""
    objects = kustomize(BASE)
    binding = the_one(objects, "ClusterRoleBinding", role)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": the_one(objects, "ClusterRole", role)["metadata"]["name"],
    }
    account = operator_pod(objects)["serviceAccountName"]
    assert the_one(objects, "ServiceAccount", account)["metadata"]["namespace"] == NAMESPACE
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]


def test_the_operator_runs_the_installed_perftest_command_with_the_dev_image() -> None:
    objects = kustomize(BASE)
    (container,) = operator_pod(objects)["containers"]
    assert container["image"] == "perftest-operator:dev"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert container["command"][0] in pyproject["project"]["scripts"]
    args = run_args(objects)
    assert args.command == "run"
    assert args.liveness == "http://0.0.0.0:8080/healthz"  # reachable by the kubelet


def test_deployment_settings_are_ones_the_operator_reads() -> None:
    (container,) = operator_pod(kustomize(BASE))["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env and all(name.startswith(PREFIX) for name in env)

    class RecordingEnv(dict[str, str]):
        """An environment that remembers which variables were asked for."""

        def __init__(self, values: Mapping[str, str]) -> None:
            super().__init__(values)
            self.asked: set[str] = set()

        def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
            self.asked.add(key)
            return super().get(key, default)

    recorded = RecordingEnv(env)
    load_settings(recorded)
    assert sorted(set(env) - recorded.asked) == []


def test_deployment_meets_the_restricted_pod_security_standard_of_its_namespace() -> None:
    objects = kustomize(BASE)
    namespace = the_one(objects, "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    template = the_one(objects, "Deployment")["spec"]["template"]
    # As the emulator admits pods (hack/localstack/pod_security.py, tests/unit/test_pod_security.py)
    assert check_pod(template["spec"], template["metadata"], "restricted") == []
    # Beyond the standard: nothing in the image is writable.
    for container in template["spec"]["containers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_probes_and_graceful_shutdown() -> None:
    objects = kustomize(BASE)
    (container,) = operator_pod(objects)["containers"]
    liveness = urllib.parse.urlparse(run_args(objects).liveness)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert (ports[get["port"]], get["path"]) == (liveness.port, liveness.path), probe
    # kopf needs time on SIGTERM to let handlers finish and to leave the peering object.
    assert operator_pod(objects)["terminationGracePeriodSeconds"] >= 30
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    assert container["resources"]["limits"].keys() == {"cpu", "memory"}


# --- the operator's metrics ---------------------------------------------------------------------------


def test_metrics_service_reaches_the_port_the_operator_serves_metrics_on() -> None:
    objects = kustomize(BASE)
    pod = the_one(objects, "Deployment")["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    host, port = run_args(objects).metrics_address
    assert host == "0.0.0.0"  # reachable from other pods, not only from inside the pod
    ports = {item["name"]: item["containerPort"] for item in container["ports"]}
    service = the_one(objects, "Service", "perftest-operator-metrics")
    (service_port,) = service["spec"]["ports"]
    assert ports[service_port["targetPort"]] == port
    assert service_port["name"] == "metrics"
    # It selects the operator's pods (both replicas) and nothing else the base creates.
    selector = service["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert selector == the_one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    # The probes keep their own port.
    assert ports["health"] != port


def test_only_the_openshift_overlay_has_a_service_monitor() -> None:
    assert by_kind(kustomize(BASE), "ServiceMonitor") == []
    assert by_kind(kustomize(OVERLAYS["kubernetes"]), "ServiceMonitor") == []


def test_openshift_service_monitor_scrapes_the_metrics_service() -> None:
    objects = kustomize(OVERLAYS["openshift"])
    monitor = the_one(objects, "ServiceMonitor")
    service = the_one(objects, "Service", "perftest-operator-metrics")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {
        "matchNames": [service["metadata"]["namespace"]]
    }
    # Only the metrics Service: not another Service of the operator that may come later.
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "metrics"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    # The PerfTests' own `namespace` label is kept, not replaced by the operator's namespace.
    assert endpoint["honorLabels"] is True


# --- overlays ----------------------------------------------------------------------------------------


def settings_of(objects: list[dict[str, Any]]) -> Any:
    (container,) = operator_pod(objects)["containers"]
    return load_settings({item["name"]: item["value"] for item in container["env"]})


def test_kubernetes_overlay_names_a_prometheus() -> None:
    url = settings_of(kustomize(OVERLAYS["kubernetes"])).default_prometheus_url
    assert url is not None and urllib.parse.urlparse(url).scheme == "http"
    assert settings_of(kustomize(BASE)).default_prometheus_url is None


def test_openshift_overlay_reads_thanos_querier_with_the_service_account_token() -> None:
    """No URL to set: in its pod the operator reads thanos-querier's Service with its own token
    (bound to cluster-monitoring-view) and the service CA; from outside the cluster, the Route
    with a token of the Jobs' account, which is bound to cluster-monitoring-view as well."""
    objects = kustomize(OVERLAYS["openshift"])
    settings = settings_of(objects)
    openshift = profile_for(DetectedPlatform(Platform.AWS, True, False, False, "test"))
    default_url = settings.default_prometheus_url
    inside = prometheus_endpoint(
        PrometheusSettings(), openshift, remote=False, in_cluster=True, default_url=default_url
    )
    assert inside == PrometheusEndpoint(
        "https://thanos-querier.openshift-monitoring.svc:9091",
        TokenSource.OPERATOR,
        CaSource.SERVICE_CA,
    )
    outside = prometheus_endpoint(
        PrometheusSettings(), openshift, remote=False, in_cluster=False, default_url=default_url
    )
    assert outside == PrometheusEndpoint(None, TokenSource.JOB_ACCOUNT, CaSource.INGRESS)
    monitoring = [
        subject
        for binding in by_kind(objects, "ClusterRoleBinding")
        if binding["roleRef"]["name"] == "cluster-monitoring-view"
        for subject in binding["subjects"]
    ]
    assert sorted((s["namespace"], s["name"]) for s in monitoring) == sorted(
        [
            (NAMESPACE, "perftest-operator"),  # the operator's own token
            (RUN_NAMESPACE, settings.job_service_account),  # the minted one
        ]
    )
    account = the_one(objects, "ServiceAccount", "perftest-operator")
    assert account["metadata"]["namespace"] == NAMESPACE
    job_account = the_one(objects, "ServiceAccount", settings.job_service_account)
    assert job_account["metadata"]["namespace"] == RUN_NAMESPACE


def test_openshift_overlay_leaves_the_uid_to_the_scc_and_keeps_the_rest_restricted() -> None:
    base_pod = operator_pod(kustomize(BASE))
    pod = operator_pod(kustomize(OVERLAYS["openshift"]))
    assert "runAsUser" not in pod["securityContext"]
    assert "runAsGroup" not in pod["securityContext"]
    expected = {
        k: v for k, v in base_pod["securityContext"].items() if k not in ("runAsUser", "runAsGroup")
    }
    assert pod["securityContext"] == expected
    assert pod["containers"][0]["securityContext"] == base_pod["containers"][0]["securityContext"]


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_overlays_change_only_the_settings_they_are_for(name: str) -> None:
    """Apart from the Prometheus URL, the openshift UID, its role bindings and ServiceMonitor,
    an overlay is the base."""

    def comparable(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for doc in objects:
            if doc.get("roleRef", {}).get("name") == "cluster-monitoring-view":
                continue
            if doc["kind"] == "ServiceMonitor":
                continue
            if doc["kind"] == "Deployment":
                pod = doc["spec"]["template"]["spec"]
                pod["securityContext"].pop("runAsUser", None)
                pod["securityContext"].pop("runAsGroup", None)
                container = pod["containers"][0]
                for item in container["env"]:
                    if item["name"] == "PERFTEST_DEFAULT_PROMETHEUS_URL":
                        item["value"] = "<url>"
                # A strategic merge patch moves the variable it sets to the front.
                container["env"].sort(key=lambda item: item["name"])
            result.append(doc)
        return result

    assert comparable(kustomize(OVERLAYS[name])) == comparable(kustomize(BASE))


def test_the_hub_job_account_is_what_the_operator_sets_up_on_a_remote_target() -> None:
    """manifests/kube-burner (and its openshift part) ship for perftest-runs on the hub what
    the operator creates in a remote target's run namespace, for each of the node-density
    workloads (and custom configurations), plus the namespace itself."""
    shipped = kustomize(KUBE_BURNER) + kustomize(KUBE_BURNER / "openshift")
    namespaces = by_kind(shipped, "Namespace")
    assert [n["metadata"]["name"] for n in namespaces] == [RUN_NAMESPACE]

    def key(doc: dict[str, Any]) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    rest = sorted((d for d in shipped if d["kind"] != "Namespace"), key=key)
    contract = load_contract()
    built = {
        key(obj): obj
        for workload in (  # not those whose role reads every Secret (runner.rbac)
            "node-density",
            "node-density-cni",
            "node-density-heavy",
            None,
        )
        for obj in build_target_rbac(RUN_NAMESPACE, contract, workload, openshift=True)
    }
    # ... and every other workload's ClusterRole, unbound; and what confines the account.
    built.update({key(role): role for role in shipped_cluster_roles(contract)})
    confinement = [build_admission_policy(contract), build_admission_policy_binding()]
    built.update({key(obj): obj for obj in confinement})
    assert rest == sorted(built.values(), key=key)
    # The account the operator's Jobs on the hub run as by default.
    account = the_one(shipped, "ServiceAccount")["metadata"]["name"]
    assert account == settings_of(kustomize(BASE)).job_service_account


def test_every_overlay_ships_the_hub_job_account_and_only_openshift_binds_monitoring() -> None:
    for name, path in OVERLAYS.items():
        objects = kustomize(path)
        account = settings_of(objects).job_service_account
        assert the_one(objects, "ServiceAccount", account)["metadata"]["namespace"] == RUN_NAMESPACE
        monitoring = [
            s
            for b in by_kind(objects, "ClusterRoleBinding")
            if b["roleRef"]["name"] == "cluster-monitoring-view"
            for s in b["subjects"]
            if s["name"] == account
        ]
        assert len(monitoring) == (1 if name == "openshift" else 0), name


# --- samples -----------------------------------------------------------------------------------------

SAMPLES = MANIFESTS / "samples"


def sample_perftests() -> list[tuple[str, dict[str, Any]]]:
    """Every document under samples/, in subfolders too, but for a kustomization: PerfTests all."""
    found = []
    for path in sorted(SAMPLES.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if doc:
                    found.append((str(path.relative_to(SAMPLES)), doc))
    return found


def test_there_is_a_sample_for_cluster_density_and_node_density() -> None:
    workloads = {doc["spec"]["workload"].get("name") for _, doc in sample_perftests()}
    assert {"cluster-density-v2", "node-density"} <= workloads


def test_there_is_a_sample_for_every_platform() -> None:
    declared = {doc["spec"].get("target", {}).get("platform") for _, doc in sample_perftests()}
    assert {p.value for p in Platform if p is not Platform.AUTO} <= declared


def test_every_platform_has_a_sample_file_of_its_own() -> None:
    for platform in Platform:
        if platform is Platform.AUTO:
            continue
        path = SAMPLES / f"perftest-platform-{platform.value.lower()}.yaml"
        (doc,) = yaml.safe_load_all(path.read_text(encoding="utf-8"))
        assert doc["spec"]["target"]["platform"] == platform.value


@pytest.mark.parametrize(
    ("file", "doc"), sample_perftests(), ids=[f for f, _ in sample_perftests()]
)
def test_sample_is_valid_for_the_api_server_and_the_operator(
    file: str, doc: dict[str, Any]
) -> None:
    assert (doc["apiVersion"], doc["kind"]) == (API_VERSION, "PerfTest")
    schema = schema_of("perftests")
    assert schema_errors(schema, doc) == []
    assert unknown_fields(doc, schema) == []
    stored = apply_defaults(doc, schema)  # as the API server stores it
    assert schema_errors(schema, stored) == []
    assert cel_errors(schema, stored) == []
    assert parse_perftest_spec(stored["spec"]) == parse_perftest_spec(doc["spec"])


def test_custom_workload_sample_ships_the_config_its_perftest_names() -> None:
    objects = kustomize(CUSTOM_WORKLOAD)
    perftest = the_one(objects, "PerfTest")
    ref = perftest["spec"]["workload"]["configMapRef"]
    config_map = the_one(objects, "ConfigMap", ref["name"])
    config = (CUSTOM_WORKLOAD / "kube-burner.yml").read_text(encoding="utf-8")
    pod = (CUSTOM_WORKLOAD / "pod.yml").read_text(encoding="utf-8")
    assert config_map["data"] == {ref["key"]: config, "pod.yml": pod}
    assert len(by_kind(objects, "ConfigMap")) == 1


def test_custom_workload_sample_is_modest_downloads_nothing_and_cleans_up() -> None:
    objects = kustomize(CUSTOM_WORKLOAD)
    perftest = the_one(objects, "PerfTest")
    config_map = the_one(objects, "ConfigMap", perftest["spec"]["workload"]["configMapRef"]["name"])
    config = yaml.safe_load(GO_TEMPLATE_VARIABLE.sub("1", config_map["data"]["config.yml"]))
    assert config["global"]["gc"] is True  # kube-burner's gc defaults to false (config.go:42)
    mount = "/etc/kube-burner/"  # where the Job mounts the ConfigMap (runner.command)
    for job in config["jobs"]:
        for obj in job["objects"]:
            template = obj["objectTemplate"]
            assert template.startswith(mount), template  # no URL: nothing fetched at run time
            body = yaml.safe_load(
                re.sub(r"\{\{[^}]*\}\}", "x", config_map["data"][template.removeprefix(mount)])
            )
            iterations = perftest["spec"]["workload"]["iterations"] * obj.get("replicas", 1)
            for container in body["spec"]["containers"]:
                requests = container["resources"]["requests"]
                assert (
                    requests["cpu"].endswith("m") and int(requests["cpu"][:-1]) * iterations <= 4000
                )
                assert requests["memory"].endswith("Mi")
                assert int(requests["memory"][:-2]) * iterations <= 8 * 1024


GO_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def test_custom_workload_config_uses_only_variables_the_operator_sets() -> None:
    perftest = the_one(kustomize(CUSTOM_WORKLOAD), "PerfTest")
    spec = parse_perftest_spec(perftest["spec"])
    environment = kube_burner_environment(spec.workload, uuid="0000")
    config = (CUSTOM_WORKLOAD / "kube-burner.yml").read_text(encoding="utf-8")
    used = set(GO_TEMPLATE_VARIABLE.findall(config))
    assert used and used <= environment.keys()
    # kube-burner renders the template, then reads YAML: what it reads is a job of objects.
    rendered = yaml.safe_load(
        GO_TEMPLATE_VARIABLE.sub(lambda m: str(environment[m.group(1)]), config)
    )
    (job,) = rendered["jobs"]
    assert job["jobIterations"] == perftest["spec"]["workload"]["iterations"]
    assert job["qps"] == perftest["spec"]["workload"]["qps"]
    assert job["objects"] and all(o["objectTemplate"] for o in job["objects"])


def test_custom_workload_renders_with_perftest_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "render",
        "-f",
        str(CUSTOM_WORKLOAD / "perftest.yaml"),
        "--custom-config",
        str(CUSTOM_WORKLOAD / "kube-burner.yml"),
    ]
    assert main(argv) == 0
    config_map, job, role = yaml.safe_load_all(capsys.readouterr().out)
    assert role["metadata"]["name"] == "perftest-kube-burner-custom"
    assert config_map["data"]["config.yml"] == (CUSTOM_WORKLOAD / "kube-burner.yml").read_text(
        encoding="utf-8"
    )
    assert job["kind"] == "Job"


def test_hub_samples_run_where_the_job_account_is_shipped() -> None:
    for file, doc in sample_perftests():
        target = doc["spec"].get("target") or {}
        if "kubeconfigSecretRef" not in target:
            assert target.get("namespace") == RUN_NAMESPACE, file


@pytest.mark.parametrize("in_cluster", [True, False], ids=["inside", "outside"])
def test_the_cluster_density_sample_needs_no_secret_inside_or_outside(in_cluster: bool) -> None:
    """As written, on the operator's own OpenShift cluster: nothing to create but what the
    overlay (inside) or manifests/kube-burner (outside, `make run`) ship."""
    (doc,) = yaml.safe_load_all((SAMPLES / "perftest-cluster-density.yaml").read_text())
    spec = parse_perftest_spec(doc["spec"])
    openshift = profile_for(DetectedPlatform(spec.target.platform, True, False, False, "test"))
    default_url = settings_of(kustomize(OVERLAYS["openshift"])).default_prometheus_url
    endpoint = prometheus_endpoint(
        spec.prometheus,
        openshift,
        remote=False,
        in_cluster=in_cluster,
        default_url=default_url if in_cluster else None,  # `make run` sets no variables
    )
    assert endpoint.token is not TokenSource.SECRET and endpoint.ca is not CaSource.SECRET
    assert endpoint.token is not TokenSource.NONE  # thanos-querier answers no anonymous query
    assert spec.target.namespace == RUN_NAMESPACE
