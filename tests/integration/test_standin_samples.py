"""Every sample PerfTest's Job runs through the simulated kubelet and the stand-in, refused nothing.

Each PerfTest of manifests/samples is rendered as the operator renders it (``build_config_map``,
``build_job`` with kube-burner's ServiceAccount), created on an API seeded as OpenShift 4.19,
and finished by the simulated Job controller: its container runs as a process (the runner
image's entry point, then the stand-in for kube-burner-ocp or kube-burner), with a token minted
for the ServiceAccount, bound to the workload's generated ClusterRole. The Job must complete,
nothing may be refused, and the Pod must carry the exit code and the termination message the
operator reads (the run's summary, with the window the JobScript gave).
"""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from standin_support import StandInRunner, openshift_runner, skip_unless_emulated

from localstack.jobs import JobScript, SimulatedJobController
from localstack.openshift_seed import bind_workload_role, request
from perftest_operator.api.spec import parse_perftest_spec
from perftest_operator.burnerjob.summary import decode_summary
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.manifests import RunRef, build_config_map, build_job, job_namespace
from perftest_operator.runner.rbac import SERVICE_ACCOUNT

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = REPO / "manifests" / "samples"
CONTRACT = load_contract()
START = datetime.datetime(2025, 1, 15, 2, 0, tzinfo=datetime.UTC)
END = START + datetime.timedelta(minutes=20)


def sample_tests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(SAMPLES.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "PerfTest":
                found.append((str(path.relative_to(SAMPLES)), document))
    return found


SAMPLE_TESTS = sample_tests()


def custom_files(path: str) -> dict[str, str] | None:
    """The files the sample's kustomization puts in its ConfigMap (configMapGenerator)."""
    directory = SAMPLES / pathlib.Path(path).parent
    kustomization = directory / "kustomization.yaml"
    if not kustomization.exists():
        return None
    files = {}
    for generator in yaml.safe_load(kustomization.read_text()).get("configMapGenerator") or []:
        for item in generator.get("files") or []:
            key, _, source = item.partition("=")
            files[key] = (directory / (source or key)).read_text()
    return files


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInRunner]:
    yield from openshift_runner(tmp_path_factory.mktemp("samples"), CONTRACT)


def test_every_sample_perftest_is_in_this_test() -> None:
    assert len(SAMPLE_TESTS) == len(list(SAMPLES.glob("perftest-*.yaml"))) + 1


@pytest.mark.parametrize(("path", "perftest"), SAMPLE_TESTS, ids=[p for p, _ in SAMPLE_TESTS])
def test_the_samples_job_completes_and_nothing_is_refused(
    runner: StandInRunner, path: str, perftest: dict[str, Any]
) -> None:
    skip_unless_emulated(runner.cluster)
    spec = parse_perftest_spec(perftest["spec"])
    name = perftest["metadata"]["name"]
    run = RunRef(
        test=name, run=f"{name}-1", uid="0d6c3c53-5a1e-4c6b-9b7e-000000000001", namespace="samples"
    )
    namespace = job_namespace(spec, run)
    request(runner.api, "POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    bind_workload_role(runner.api, CONTRACT, namespace, spec.workload.name)
    files = custom_files(path) if spec.workload.is_custom else None
    config_map = build_config_map(spec, run, image="runner:dev", custom_files=files, owner=None)
    status, answer = request(
        runner.api, "POST", f"/api/v1/namespaces/{namespace}/configmaps", config_map
    )
    assert status == 201, answer
    job = build_job(spec, run, image="runner:dev", owner=None, service_account=SERVICE_ACCOUNT)
    status, created = request(
        runner.api, "POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", job
    )
    assert status == 201, created

    jobs = SimulatedJobController(runner.api, lambda _: None, namespace=namespace)
    # Two iterations of the sample's (up to 735): the same kinds of requests, fewer of them.
    jobs.finish(created, JobScript(start=START, end=END, max_iterations=2))

    assert jobs.errors == [], jobs.errors
    [result] = jobs.runs.values()
    assert result.exit_code == 0 and result.denied == ()
    assert any(r.get("verb") == "create" for r in result.requests)
    pod = request(
        runner.api, "GET", f"/api/v1/namespaces/{namespace}/pods/{created['metadata']['name']}-sim"
    )[1]
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 0
    summary = decode_summary(terminated["message"])
    assert summary is not None and summary.window == (START, END)
    finished = request(
        runner.api,
        "GET",
        f"/apis/batch/v1/namespaces/{namespace}/jobs/{created['metadata']['name']}",
    )[1]
    assert [c["type"] for c in finished["status"]["conditions"]][-1] == "Complete"
