"""`make demo`: the product on the local default stack, shown as a user sees it with kubectl.

Starts the Kubernetes API emulator, a real Prometheus holding 15 replayed nightly runs (the
kernel regression of DESIGN.md), the simulated Job controller and the real operator; applies the
CRDs and a sample PerfTest with kubectl; triggers one run per night with the run-now annotation;
then shows `kubectl get perftests,perfruns`, the verdict and the events. Everything it started
is stopped when it ends or is interrupted.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from localstack.cluster import Cluster  # noqa: E402
from localstack.emulator.process import EmulatorProcess  # noqa: E402
from localstack.jobs import SimulatedJobController  # noqa: E402
from localstack.objects import Kube, wait_for  # noqa: E402
from localstack.openshift_seed import seed_openshift  # noqa: E402
from localstack.operator_process import OperatorProcess  # noqa: E402
from localstack.prometheus import replayed_prometheus  # noqa: E402
from localstack.story import READ_ONLY_LATENCY, replay_script, story_runs  # noqa: E402
from perftest_operator.contract.load import load_contract  # noqa: E402
from perftest_operator.runner.rbac import SERVICE_ACCOUNT, cluster_role_name  # noqa: E402

NAMESPACE = "perftest-demo"
# Where the sample's Jobs run (its spec.target.namespace), as manifests/kube-burner ships it.
RUN_NAMESPACE = "perftest-runs"
TEST = "api-latency"
SAMPLE = REPO / "manifests" / "samples" / "perftest-api-latency.yaml"
WORKDIR = REPO / ".demo"
# Two of the six default KPIs (the story's read-only p99, namespace scope): its peak, its mean.
SHOWN_KPIS = ("max-ro-apicalls-latency-namespace", "avg-ro-apicalls-latency-namespace")


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def kubectl(kubeconfig: pathlib.Path, *args: str, show: bool = True) -> str:
    """Run kubectl as a user would, echoing the command and its output."""
    command = ["kubectl", "--kubeconfig", str(kubeconfig), *args]
    if show:
        print(f"$ kubectl {' '.join(args)}", flush=True)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if show:
        print((result.stdout + result.stderr).rstrip(), flush=True)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def sample_perftest(prometheus_url: str) -> str:
    """The sample PerfTest, pointed at the local Prometheus."""
    import yaml

    body: dict[str, Any] = yaml.safe_load(SAMPLE.read_text())
    body["metadata"] = {"name": TEST, "namespace": NAMESPACE}
    body["spec"]["prometheus"] = {
        **body["spec"].get("prometheus", {}),
        "url": prometheus_url,
        "step": "15s",
    }
    return yaml.safe_dump(body, sort_keys=False)


def main() -> int:
    if shutil.which("kubectl") is None:
        print("demo: kubectl is needed (it is how a user looks at the operator)", file=sys.stderr)
        return 1
    # SIGTERM ends the demo like Ctrl-C: the ExitStack below stops everything it started.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    now = datetime.datetime.now(datetime.UTC)
    runs = story_runs(now=now)
    try:
        with contextlib.ExitStack() as stack:
            say("Starting the Kubernetes API emulator")
            emulator = stack.enter_context(EmulatorProcess(workdir=WORKDIR / "emulator"))
            kubeconfig = pathlib.Path(emulator.kubeconfig)
            print(
                f"kubeconfig: {kubeconfig}  (try: KUBECONFIG={kubeconfig} kubectl get perftests -A)"
            )

            say("Installing the CRDs")
            kubectl(kubeconfig, "apply", "-f", str(REPO / "crds" / "perftests.perftest.dev.yaml"))
            kubectl(kubeconfig, "apply", "-f", str(REPO / "crds" / "perfruns.perftest.dev.yaml"))
            kubectl(kubeconfig, "create", "namespace", NAMESPACE)
            say(
                "Installing the account the hub's kube-burner Jobs run as (run namespace perftest-runs)"
            )
            kubectl(kubeconfig, "apply", "-k", str(REPO / "manifests" / "kube-burner"))
            # The sample runs cluster-density-v2, whose role reads every Secret: an admin binds
            # it only where PERFTEST_SECRET_READING_WORKLOADS is on (docs/security.md), as here.
            role = cluster_role_name("cluster-density-v2")
            kubectl(
                kubeconfig,
                "create",
                "clusterrolebinding",
                f"{role}-{RUN_NAMESPACE}",
                f"--clusterrole={role}",
                f"--serviceaccount={RUN_NAMESPACE}:{SERVICE_ACCOUNT}",
            )

            say(
                f"Starting Prometheus with {len(runs)} nightly runs of kube-apiserver latency history"
            )
            prometheus = stack.enter_context(replayed_prometheus(runs, WORKDIR / "prometheus"))
            print(f"Prometheus: {prometheus.url}")

            cluster = Cluster(kubeconfig=kubeconfig, emulated=True)
            kube = Kube(cluster.api_client(), NAMESPACE)
            # Each nightly Job runs the stand-in for kube-burner-ocp as kube-burner's
            # ServiceAccount (manifests/kube-burner, above), against an emulator that looks
            # like OpenShift to it and to the operator's prerequisite checks.
            say("Making the emulator look like OpenShift 4.19 on AWS")
            seed_openshift(kube.api_client, load_contract())
            stack.enter_context(
                SimulatedJobController(
                    kube.api_client, replay_script(runs), namespace=RUN_NAMESPACE
                )
            )

            say("Starting the operator (perftest run)")
            operator = OperatorProcess(
                kubeconfig,
                WORKDIR / "operator.log",
                namespaces=[NAMESPACE],
                env={
                    "PERFTEST_POLL_INTERVAL": "0.3",
                    "PERFTEST_COLLECT_BACKOFF": "1",
                    "PERFTEST_JOB_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
                    # The demo's PerfTests run on the emulated cluster the operator watches.
                    "PERFTEST_LOCAL_RUNS": "true",
                    # Its sample is cluster-density-v2, whose Job account reads every Secret.
                    "PERFTEST_SECRET_READING_WORKLOADS": "true",
                },
            )
            stack.enter_context(operator)
            print(f"operator log: {operator.log_path}")

            say("Applying the sample PerfTest")
            manifest = WORKDIR / "perftest.yaml"
            manifest.write_text(sample_perftest(prometheus.url))
            print(manifest.read_text().rstrip())
            kubectl(kubeconfig, "apply", "-f", str(manifest))

            say("Replaying the nightly runs (one run-now annotation per night)")
            for number in range(1, len(READ_ONLY_LATENCY) + 1):
                name = f"{TEST}-{number}"
                if number > 1:
                    kubectl(
                        kubeconfig,
                        "annotate",
                        f"perftest/{TEST}",
                        "-n",
                        NAMESPACE,
                        f"perftest.dev/run-now=night-{number}",
                        "--overwrite",
                        show=False,
                    )
                run = wait_for(
                    lambda name=name: (
                        (r := kube.get("perfruns", name))
                        and (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")
                        and r
                    ),
                    timeout=60,
                    what=f"{name} to finish",
                )
                status = run["status"]
                values = status.get("values") or {}
                verdict = (status.get("verdict") or {}).get("result", status.get("reason"))
                shown = "  ".join(
                    f"{kpi} {values[kpi]:7.3f} s" if isinstance(values.get(kpi), float) else kpi
                    for kpi in SHOWN_KPIS
                )
                print(f"  {name:<16} {status['startTime']}  {shown}  verdict {verdict}")

            say("What a user sees")
            kubectl(kubeconfig, "get", "perftests", "-n", NAMESPACE)
            kubectl(kubeconfig, "get", "perfruns", "-n", NAMESPACE, "--sort-by=.status.startTime")
            test = json.loads(
                kubectl(
                    kubeconfig, "get", "perftest", TEST, "-n", NAMESPACE, "-o", "json", show=False
                )
            )
            print(f"$ kubectl get perftest {TEST} -n {NAMESPACE} -o json | jq .status.verdict")
            print(json.dumps(test["status"]["verdict"], indent=2, ensure_ascii=False))
            kubectl(
                kubeconfig, "get", "events", "-n", NAMESPACE, "--field-selector", "type=Warning"
            )
            say("Done: everything the demo started is being stopped")
    except KeyboardInterrupt:
        print("\ninterrupted: stopped everything the demo started", file=sys.stderr)
        return 130
    except (AssertionError, RuntimeError) as exc:
        print(f"\ndemo failed: {exc}\nlogs: {WORKDIR}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
