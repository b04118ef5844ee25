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
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from localstack.cluster import Cluster
from localstack.jobs import SimulatedJobController
from localstack.objects import Kube, wait_for
from localstack.openshift_seed import bind_workload_role
from localstack.prometheus import HeaderRecordingProxy, ReplayRun, free_port
from localstack.remote_target import TARGET_ENV
from localstack.story import READ_ONLY_LATENCY, STORY_KPI, replay_script
from perftest_operator.api.default_kpis import DEFAULT_METRICS
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.rbac import build_cluster_role_binding, cluster_role_name

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

JOB_ACCOUNT = "perftest-kube-burner"
WORKLOAD = "cluster-density-v2"  # localstack.objects.perftest_body's
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
def run_namespaces(cluster: Cluster, namespace: str) -> Iterator[Callable[[str], Kube]]:
    """More namespaces on the hub, for runs: without the Job's ServiceAccount or its grants."""
    made: list[Kube] = []

    def make(suffix: str) -> Kube:
        kube = Kube(cluster.api_client(), f"{namespace}-{suffix}")
        kube.core.create_namespace({"metadata": {"name": kube.namespace}})
        made.append(kube)
        return kube

    yield make
    for kube in made:
        binding = build_cluster_role_binding(kube.namespace, cluster_role_name(WORKLOAD))
        with contextlib.suppress(ApiException):
            kube.rbac.delete_cluster_role_binding(binding["metadata"]["name"])
        with contextlib.suppress(ApiException):
            kube.core.delete_namespace(kube.namespace)


def test_an_unusable_prometheus_or_job_account_starts_nothing_until_it_is_fixed(
    kube: Kube,
    run_namespaces: Callable[[str], Kube],
    prometheus_url: str,
    start_operator: Any,
) -> None:
    run_namespace, ungranted = run_namespaces("runs"), run_namespaces("ungranted")
    ungranted.create_service_account(JOB_ACCOUNT)
    binding = build_cluster_role_binding(ungranted.namespace, cluster_role_name(WORKLOAD))
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
                # The account, and (or it would be JobPermissionsMissing next) its grants.
                lambda: bind_workload_role(
                    run_namespace.api_client, load_contract(), run_namespace.namespace, WORKLOAD
                ),
            ),
            (
                "no-job-grants",
                perftest("no-job-grants", {"url": prometheus_url}, namespace=ungranted.namespace),
                "JobPermissionsMissing",
                f"kubectl create clusterrolebinding {binding['metadata']['name']} "
                f"--clusterrole={cluster_role_name(WORKLOAD)} "
                f"--serviceaccount={ungranted.namespace}:{JOB_ACCOUNT}",
                lambda: ungranted.rbac.create_cluster_role_binding(binding),
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
        assert kube.jobs() == [] and run_namespace.jobs() == [] and ungranted.jobs() == []
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
        assert {j.metadata.name.rsplit("-", 1)[0] for j in ungranted.jobs()} == {"no-job-grants"}
        emitted = json.dumps(
            kube.custom.list_namespaced_custom_object(
                "perftest.dev", "v1alpha1", kube.namespace, "perftests"
            )
        )
        emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
        assert PROM_TOKEN not in emitted


# --- the operator runs outside the (OpenShift) hub -----------------------------------------


def test_outside_the_cluster_the_hubs_thanos_querier_is_read_with_a_token_of_the_jobs_account(
    kube: Kube,
    thanos_on_hub: Any,
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
        thanos_on_hub(thanos.url)
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
    assert status["values"][STORY_KPI] == pytest.approx(READ_ONLY_LATENCY[0])
    assert status["target"]["platform"] == "AWS"
    condition = ready(kube, "hub")
    assert condition is not None and f"Prometheus at {thanos.url} answers" in condition["message"]
    # The probe, then one range query per distinct query (KPIs that reduce one series differently
    # share it): each through the Route, each with a token
    # minted for the Job's ServiceAccount in the run namespace (none of the operator's own).
    paths = [r.path.split("?")[0] for r in thanos.requests]
    assert paths[0] == "/api/v1/query"
    queried = [metric for metric in DEFAULT_METRICS if metric.kube_burner is None]
    assert paths[1:].count("/api/v1/query_range") == len({metric.query for metric in queried})
    account = f"Bearer emulator-token.{kube.namespace}.{JOB_ACCOUNT}."
    assert all(r.headers["Authorization"].startswith(account) for r in thanos.requests)
    [job] = kube.jobs()
    assert job.spec.template.spec.service_account_name == JOB_ACCOUNT
    minted = {r.headers["Authorization"].removeprefix("Bearer ") for r in thanos.requests}
    emitted = json.dumps(run) + json.dumps(kube.get("perftests", "hub"))
    emitted += " ".join(e.message for e in kube.events()) + operator.log_text()
    assert not [token for token in minted if token in emitted]
