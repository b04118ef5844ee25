"""Running the kube-burner stand-in in-process against an API seeded as OpenShift 4.19."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pathlib
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from localstack.cluster import Cluster
from localstack.emulator.process import EmulatorProcess
from localstack.kube_burner_standin import main
from localstack.openshift_seed import (
    REQUIRED_EXTRA_ARGS,
    bind_workload_role,
    ensure,
    request,
    seed_openshift,
)
from localstack.standin_client import JOURNAL_FILE, ROOT_ENV, SERVICE_ACCOUNT_DIR
from localstack.standin_objects import (
    PRELOAD_LABEL,
    PRELOAD_NAMESPACE,
    namespace_body,
    object_body,
    object_name,
)
from localstack.standin_outputs import Scenario, scenario_env
from perftest_operator.api.spec import parse_workload
from perftest_operator.contract.model import Contract, ObjectKind
from perftest_operator.runner.command import run_command
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, Rule

UUID = "0d6c3c53-5a1e-4c6b-9b7e-5f1f3a2b8c01"
# The command lines the operator renders besides the plain one: churn with each strategy where
# the workload churns, and the flags whose measurements its ClusterRole also covers
# (runner.rbac._VARIANT_FLAGS).
CHURN_VARIANTS = ({"deletionStrategy": "default"}, {"deletionStrategy": "gvr"})
FLAG_VARIANTS = (("--service-latency=true",), ("--networkpolicy-latency=false",))


@dataclasses.dataclass(frozen=True)
class StandInRun:
    """What one run of the stand-in did and left."""

    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    workdir: pathlib.Path
    requests: tuple[Mapping[str, Any], ...]
    denied: tuple[Mapping[str, Any], ...]

    @property
    def resource_requests(self) -> list[Mapping[str, Any]]:
        return [r for r in self.requests if not r.get("nonResource")]

    def output(self, name: str) -> Any:
        found = sorted(self.workdir.rglob(name))
        assert found, f"{name} not in {sorted(p.name for p in self.workdir.rglob('*'))}"
        return json.loads(found[0].read_text())

    def last_line(self) -> str:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def spec_for(contract: Contract, workload: str, **fields: Any) -> dict[str, Any]:
    """The workload's spec as a user would write it: a small size where it takes one."""
    spec: dict[str, Any] = {"name": workload}
    if contract.workloads[workload].size_flag is not None:
        spec["iterations"] = 1
    if workload in REQUIRED_EXTRA_ARGS:
        spec["extraArgs"] = list(REQUIRED_EXTRA_ARGS[workload])
    spec.update(fields)
    return spec


def variants(contract: Contract, workload: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, spec) of every command line the operator renders for the workload."""
    found = contract.workloads[workload]
    names = {flag.name for flag in contract.flags_of(workload)}
    specs = [("default", spec_for(contract, workload))]
    if found.churn is not None:
        for churn in CHURN_VARIANTS:
            specs.append(
                (f"churn-{churn['deletionStrategy']}", spec_for(contract, workload, churn=churn))
            )
    for flags in FLAG_VARIANTS:
        if all(flag[2:].partition("=")[0] in names for flag in flags):
            extra = [*spec_for(contract, workload).get("extraArgs", []), *flags]
            specs.append((flags[0][2:], spec_for(contract, workload, extraArgs=extra)))
    return specs


def argv_for(spec: Mapping[str, Any]) -> tuple[str, ...]:
    return run_command(parse_workload(dict(spec)), uuid=UUID).argv


class StandInRunner:
    """Runs the stand-in as a ServiceAccount of one namespace, with a workload's role."""

    def __init__(self, cluster: Cluster, contract: Contract, workdir: pathlib.Path) -> None:
        self.cluster = cluster
        self.contract = contract
        self.api = cluster.api_client()
        self.workdir = workdir
        self.url = urllib.parse.urlsplit(self.api.configuration.host)

    def account(self, workload: str | None, rules: Sequence[Rule] | None = None) -> str:
        """A namespace whose kube-burner ServiceAccount has the workload's role (or ``rules``)."""
        namespace = f"kb-{(workload or 'custom')[:40]}"
        request(self.api, "POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
        bind_workload_role(self.api, self.contract, namespace, workload, rules=rules)
        return namespace

    def run(
        self,
        argv: Sequence[str],
        *,
        namespace: str,
        scenario: Scenario | None = None,
        files: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> StandInRun:
        """One run with a token minted for ``namespace``'s ServiceAccount."""
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{SERVICE_ACCOUNT}/token"
        status, body = request(self.api, "POST", path, {"spec": {"expirationSeconds": 3600}})
        assert status == 201, body
        root = pathlib.Path(tempfile.mkdtemp(prefix="root-", dir=self.workdir))
        accounts = root / SERVICE_ACCOUNT_DIR.lstrip("/")
        accounts.mkdir(parents=True)
        (accounts / "token").write_text(body["status"]["token"])
        if self.url.scheme == "https" and self.api.configuration.ssl_ca_cert:
            (accounts / "ca.crt").write_bytes(
                pathlib.Path(self.api.configuration.ssl_ca_cert).read_bytes()
            )
        for name, text in (files or {}).items():
            target = root / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        workdir = root / "kube-burner"
        workdir.mkdir()
        environment = {
            "KUBERNETES_SERVICE_HOST": self.url.hostname or "",
            "KUBERNETES_SERVICE_PORT": str(self.url.port or 443),
            ROOT_ENV: str(root),
            **scenario_env(scenario or Scenario()),
            **(env or {}),
        }
        stdout, stderr = io.StringIO(), io.StringIO()
        rc = main(list(argv), environment, workdir, stdout=stdout, stderr=stderr)
        journal_path = workdir / JOURNAL_FILE
        journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
        return StandInRun(
            argv=tuple(argv),
            rc=rc,
            stdout=stdout.getvalue(),
            stderr=stderr.getvalue(),
            workdir=workdir,
            requests=tuple(journal.get("requests") or ()),
            denied=tuple(journal.get("denied") or ()),
        )


def openshift_runner(workdir: pathlib.Path, contract: Contract) -> Iterator[StandInRunner]:
    """A runner on a fresh emulator seeded as OpenShift 4.19, or on the real cluster that
    PERFTEST_TEST_KUBECONFIG names (used as it is: it must be OpenShift)."""
    real = os.environ.get("PERFTEST_TEST_KUBECONFIG")
    if real:
        yield StandInRunner(Cluster(pathlib.Path(real), emulated=False), contract, workdir)
        return
    with EmulatorProcess(workdir=workdir / "emulator") as emulator:
        cluster = Cluster(pathlib.Path(emulator.kubeconfig), emulated=True)
        seed_openshift(cluster.api_client(), contract)
        yield StandInRunner(cluster, contract, workdir)


def seed_leftovers(runner: StandInRunner, job: str, kinds: Sequence[ObjectKind]) -> None:
    """Objects a previous run of ``job`` left behind: a namespace labelled with the job, and one
    object of each cluster-scoped or fixed-namespace kind (what the initial clean-up and the
    garbage collection list and delete), and the image preloading's namespace."""
    labels = {"kube-burner-job": job}
    ensure(runner.api, "namespaces", namespace_body(f"{job}-leftover", labels))
    ensure(runner.api, "namespaces", namespace_body(PRELOAD_NAMESPACE, {PRELOAD_LABEL: "true"}))
    for kind in kinds:
        if kind.namespaced and kind.namespace is None:
            continue
        name = object_name(kind.kind, 9, 9, 9, 9)
        body = object_body(kind.api_version, kind.kind, f"leftover-{name}", labels, kind.namespace)
        ensure(runner.api, kind.resource, body)


def skip_unless_emulated(cluster: Cluster) -> None:
    if not cluster.emulated:
        pytest.skip("changes cluster-scoped objects and RBAC: emulated clusters only")
