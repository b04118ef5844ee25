"""Everything a run needs is settled before its Job starts: the real operator, outside the cluster.

Each way a PerfTest's Prometheus or its hub Job account can be unusable gives Ready=False with
its own reason and one Warning, and no PerfRun or Job even with a run-now; fixing what is
missing, without touching the PerfTest, is enough for the next check to pass and the run to
start. The operator in these tests runs with a kubeconfig, as `make run` does: the hub's own
thanos-querier is read through its Route with a token minted for the Job's ServiceAccount.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, wait_for
from localstack.prometheus import HeaderRecordingProxy, ReplayRun, free_port
from localstack.remote_target import TARGET_ENV
from localstack.story import READ_ONLY_LATENCY, replay_script
from localstack.target_objects import CLUSTER_VERSION, ROUTE_CRD, infrastructure, target_crds

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

JOB_ACCOUNT = "perftest-kube-burner"
# Recognisable, so that a leak anywhere is found by a plain substring search.
PROM_TOKEN = "planted-readiness-token-" + "5c0e91b7"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBplantedca\n-----END CERTIFICATE-----\n"
KOPF_PROGRESS = "kopf.perftest.dev/register_handlers._locals_.perftest_"


def secret(kube: Kube, name: str, data: dict[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": kube.namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    kube.core.create_namespaced_secret(kube.namespace, body)


def perftest(name: str, prometheus: dict[str, Any], **target: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "target": {"platform": "Auto", **target},
            "workload": {"name": "cluster-density-v2", "iterations": 9},
            "prometheus": {"step": "15s", **prometheus},
            "analysis": {"minHistory": 5},
        },
    }


def ready(kube: Kube, name: str) -> dict[str, Any] | None:
    conditions = ((kube.get("perftests", name) or {}).get("status") or {}).get("conditions")
    found = [c for c in conditions or [] if c["type"] == "Ready"]
    return found[0] if found else None


def checks(kube: Kube, name: str) -> int:
    """How often kopf has retried the PerfTest's handlers (its progress annotations)."""
    annotations = (kube.get("perftests", name) or {})["metadata"].get("annotations") or {}
    return sum(
        int(json.loads(value).get("retries") or 0)
        for key, value in annotations.items()
        if key.startswith(KOPF_PROGRESS)
    )


def warnings(kube: Kube, name: str, reason: str) -> list[Any]:
    return [
        e
        for e in kube.events()
        if e.involved_object.name == name and e.reason == reason and e.type == "Warning"
    ]


@pytest.fixture()
def run_namespace(cluster: Cluster, namespace: str) -> Iterator[Kube]:
    """A second namespace on the hub, for runs: without the Job's ServiceAccount."""
    kube = Kube(cluster.api_client(), f"{namespace}-runs")
    kube.core.create_namespace({"metadata": {"name": kube.namespace}})
    yield kube
    with contextlib.suppress(ApiException):
        kube.core.delete_namespace(kube.namespace)


def test_an_unusable_prometheus_or_job_account_starts_nothing_until_it_is_fixed(
    kube: Kube,
    run_namespace: Kube,
    prometheus_url: str,
    start_operator: Any,
) -> None:
    closed = free_port()
    refusing = HeaderRecordingProxy(prometheus_url, refuse=403)
    secret(kube, "good-token", {"token": PROM_TOKEN})
    with refusing, contextlib.ExitStack() as later:
        # (name, PerfTest, reason, what the message names, the fix)
        cases = [
            (
                "token-secret-missing",
                perftest(
                    "token-secret-missing",
                    {"url": prometheus_url, "bearerTokenSecretRef": {"name": "t", "key": "token"}},
                ),
                "PrometheusUnusable",
                "spec.prometheus.bearerTokenSecretRef",
                lambda: secret(kube, "t", {"token": PROM_TOKEN}),
            ),
            (
                "ca-secret-missing",
                perftest(
                    "ca-secret-missing",
                    {"url": prometheus_url, "caSecretRef": {"name": "ca", "key": "ca.crt"}},
                ),
                "PrometheusUnusable",
                "spec.prometheus.caSecretRef",
                lambda: secret(kube, "ca", {"ca.crt": CA_PEM}),
            ),
            (
                "unreachable",
                perftest("unreachable", {"url": f"http://127.0.0.1:{closed}"}),
                "PrometheusUnreachable",
                f"spec.prometheus.url: probe query vector(1): Prometheus at http://127.0.0.1:{closed}",
                # Prometheus comes up where the spec says it is.
                lambda: later.enter_context(HeaderRecordingProxy(prometheus_url, port=closed)),
            ),
            (
                "token-refused",
                perftest(
                    "token-refused",
                    {
                        "url": refusing.url,
                        "bearerTokenSecretRef": {"name": "good-token", "key": "token"},
                    },
                ),
                "PrometheusUnauthorized",
                "spec.prometheus.bearerTokenSecretRef",
                lambda: setattr(refusing, "refuse", None),  # its RBAC is fixed
            ),
            (
                "no-job-account",
                perftest(
                    "no-job-account", {"url": prometheus_url}, namespace=run_namespace.namespace
                ),
                "JobServiceAccountMissing",
                f"kubectl -n {run_namespace.namespace} create serviceaccount {JOB_ACCOUNT}",
                lambda: run_namespace.create_service_account(JOB_ACCOUNT),
            ),
        ]
        operator = start_operator(**TARGET_ENV)
        for _, body, *_ in cases:
            kube.create_perftest(body)
        for name, _, reason, named, _ in cases:
            condition = wait_for(
                lambda name=name: (c := ready(kube, name)) and c["status"] == "False" and c,
                timeout=30,
                what=f"{name}: Ready=False",
            )
            assert condition["reason"] == reason, (name, condition)
            assert named in condition["message"], (name, condition["message"])

        # A run-now changes nothing: the check is made again (every second here) and fails.
        before = {name: checks(kube, name) for name, *_ in cases}
        for name, *_ in cases:
            kube.annotate(name, "perftest.dev/run-now", "please")
        for name, *_ in cases:
            wait_for(
                lambda name=name: checks(kube, name) >= before[name] + 2,
                timeout=30,
                what=f"{name}: checked twice more after the run-now",
            )
        assert kube.perfruns() == []
        assert kube.jobs() == [] and run_namespace.jobs() == []
        for name, _, reason, _, _ in cases:
            assert len(warnings(kube, name, reason)) == 1, (name, reason)
            assert kube.get("perftests", name)["status"]["phase"] == "Invalid"
        assert [r.headers.get("Authorization") for r in refusing.requests][:1] == [
            f"Bearer {PROM_TOKEN}"
        ]

        # Fixing what is missing is enough: the PerfTest is not touched.
        for *_, fix in cases:
            fix()
        for name, *_ in cases:
            condition = wait_for(
                lambda name=name: (c := ready(kube, name)) and c["status"] == "True" and c,
                timeout=30,
                what=f"{name}: Ready=True after the fix",
            )
            assert "answers" in condition["message"]
            wait_for(
                lambda name=name: [
                    r
                    for r in kube.perfruns()
                    if r["spec"]["testName"] == name and (r.get("status") or {}).get("job")
                ],
                timeout=30,
                what=f"{name}: a run with its Job",
            )
        assert {j.metadata.name.rsplit("-", 1)[0] for j in run_namespace.jobs()} == {
            "no-job-account"
        }
        emitted = json.dumps(
            kube.custom.list_namespaced_custom_object(
                "perftest.dev", "v1alpha1", kube.namespace, "perftests"
            )
        )
        emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
        assert PROM_TOKEN not in emitted


# --- the hub is OpenShift, the operator runs outside it -----------------------------------------


@pytest.fixture()
def openshift_hub(cluster: Cluster) -> Iterator[Any]:
    """Makes the emulated hub an OpenShift cluster whose thanos-querier Route points at a URL."""
    if not cluster.emulated:
        pytest.skip("fabricates OpenShift's Infrastructure and monitoring Route: emulated only")
    hub = Kube(cluster.api_client(), "openshift-monitoring")
    extensions = kubernetes.client.ApiextensionsV1Api(hub.api_client)
    for crd in [*target_crds(), ROUTE_CRD]:
        with contextlib.suppress(ApiException):
            extensions.create_custom_resource_definition(crd)
    with contextlib.suppress(ApiException):
        hub.core.create_namespace({"metadata": {"name": "openshift-monitoring"}})
    config = ("config.openshift.io", "v1")
    created: list[tuple[str, str, str, str | None, str]] = []

    def served(group: str, version: str, plural: str) -> bool:
        try:
            hub.custom.list_cluster_custom_object(group, version, plural)
            return True
        except ApiException:
            return False

    def publish(url: str) -> None:
        for plural in ("infrastructures", "clusterversions"):
            wait_for(lambda p=plural: served(*config, p), timeout=10, what=f"{plural} served")
        wait_for(lambda: served("route.openshift.io", "v1", "routes"), timeout=10, what="routes")
        for body, plural in ((infrastructure("AWS"), "infrastructures"), (CLUSTER_VERSION, "clusterversions")):  # fmt: skip
            hub.custom.create_cluster_custom_object(*config, plural, body)
            created.append((*config, plural, None, body["metadata"]["name"]))
        # A real Route's host has no port and thanos-querier's has TLS (reencrypt, signed by
        # the default ingress CA); this one points at a plain-HTTP proxy on a loopback port.
        route = {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "thanos-querier", "namespace": "openshift-monitoring"},
            "spec": {"host": url.removeprefix("http://"), "to": {"kind": "Service"}},
        }
        hub.custom.create_namespaced_custom_object(
            "route.openshift.io", "v1", "openshift-monitoring", "routes", route
        )
        created.append(("route.openshift.io", "v1", "routes", "openshift-monitoring", "thanos-querier"))  # fmt: skip

    yield publish
    # The hub is plain Kubernetes again for the tests that follow.
    for group, version, plural, namespace, name in created:
        with contextlib.suppress(ApiException):
            if namespace is None:
                hub.custom.delete_cluster_custom_object(group, version, plural, name)
            else:
                hub.custom.delete_namespaced_custom_object(group, version, namespace, plural, name)


def test_outside_the_cluster_the_hubs_thanos_querier_is_read_with_a_token_of_the_jobs_account(
    kube: Kube,
    openshift_hub: Any,
    replay: list[ReplayRun],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    """The cluster-density sample's case: no prometheus settings at all, on an OpenShift hub,
    with the operator started as `make run` starts it (a kubeconfig, no pod token)."""
    with (
        HeaderRecordingProxy(prometheus_url) as thanos,
        SimulatedJobController(
            kube.api_client, replay_script(replay), namespace=kube.namespace
        ) as jobs,
    ):
        openshift_hub(thanos.url)
        operator = start_operator()
        kube.create_perftest(perftest("hub", {}))
        run = wait_for(
            lambda: (
                (r := kube.get("perfruns", "hub-1"))
                and (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")
                and r
            ),
            timeout=60,
            what="the run on the OpenShift hub",
        )
        assert not jobs.errors, jobs.errors
    status = run["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert status["values"]["readOnlyAPICallsLatency"] == pytest.approx(READ_ONLY_LATENCY[0])
    assert status["target"]["platform"] == "AWS"
    condition = ready(kube, "hub")
    assert condition is not None and f"Prometheus at {thanos.url} answers" in condition["message"]
    # The probe, then one range query per metric: each through the Route, each with a token
    # minted for the Job's ServiceAccount in the run namespace (none of the operator's own).
    paths = [r.path.split("?")[0] for r in thanos.requests]
    assert paths[0] == "/api/v1/query"
    assert paths[1:].count("/api/v1/query_range") == 2
    account = f"Bearer emulator-token.{kube.namespace}.{JOB_ACCOUNT}."
    assert all(r.headers["Authorization"].startswith(account) for r in thanos.requests)
    [job] = kube.jobs()
    assert job.spec.template.spec.service_account_name == JOB_ACCOUNT
    minted = {r.headers["Authorization"].removeprefix("Bearer ") for r in thanos.requests}
    emitted = json.dumps(run) + json.dumps(kube.get("perftests", "hub"))
    emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
    assert not [token for token in minted if token in emitted]
