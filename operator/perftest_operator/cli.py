"""The `perftest` command: run the operator, render a PerfTest's manifests, analyze histories."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import yaml

from perftest_operator import __name__ as package_name
from perftest_operator.api.errors import SpecError
from perftest_operator.api.kpi import DEFAULT_THRESHOLD_PERCENT, Direction
from perftest_operator.api.settings import (
    DEFAULT_JOB_SERVICE_ACCOUNT,
    DEFAULT_RUNNER_IMAGE,
    load_settings,
)
from perftest_operator.api.spec import parse_perftest_spec
from perftest_operator.telemetry.address import parse_listen_address

logger = logging.getLogger(package_name)


def _fail(message: str) -> int:
    print(f"perftest: {message}", file=sys.stderr)
    return 1


def command_run(args: argparse.Namespace) -> int:
    """Run the operator against the current kubeconfig (or in-cluster credentials)."""
    try:
        settings = load_settings(os.environ)
    except SpecError as exc:
        return _fail(f"bad setting {exc}")
    if args.kubeconfig:
        if not os.path.isfile(args.kubeconfig):
            return _fail(f"kubeconfig {args.kubeconfig} does not exist")
        # Before importing kopf and kubernetes: the client reads $KUBECONFIG once, at import.
        os.environ["KUBECONFIG"] = args.kubeconfig

    import kopf

    from perftest_operator.controller.context import Context
    from perftest_operator.handlers.registration import register_handlers
    from perftest_operator.kube.api import ClusterApi
    from perftest_operator.kube.api_client import from_environment
    from perftest_operator.telemetry.metrics import OperatorMetrics
    from perftest_operator.telemetry.server import serve_metrics
    from perftest_operator.workarounds import tune_garbage_collection

    namespaces = tuple(args.namespace or ()) or settings.namespaces
    if args.priority is not None and not args.peering:
        return _fail("--priority needs --peering")
    kopf.configure(verbose=args.verbose, debug=args.debug)
    # Connection-level chatter of the API client says nothing about runs.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    try:
        hub = from_environment(args.kubeconfig, connections=settings.workers)
    except Exception as exc:
        # The loader's messages may quote the kubeconfig; say only what kind of problem it was.
        return _fail(f"cannot load Kubernetes credentials ({type(exc).__name__})")
    # Decided once: inside, the hub's Prometheus is reached as a pod reaches it (Service, own
    # token); outside, through its Route with a minted token (target.endpoints).
    settings = dataclasses.replace(settings, in_cluster=hub.in_cluster)
    logger.info(
        "credentials: %s",
        "the pod's service account (inside the cluster)"
        if hub.in_cluster
        else "a kubeconfig (outside the cluster)",
    )
    telemetry = OperatorMetrics()
    if args.metrics_address is not None:
        try:
            server = serve_metrics(telemetry, *args.metrics_address)
        except OSError as exc:
            host, port = args.metrics_address
            return _fail(f"cannot serve metrics on {host}:{port}: {exc.strerror}")
        logger.info("operator metrics on http://%s:%d/metrics", server.host, server.port)
    registry = kopf.OperatorRegistry()
    api = ClusterApi(hub.api_client)
    register_handlers(registry, Context(api=api, settings=settings, telemetry=telemetry))
    tune_garbage_collection()  # workarounds 4: what is loaded by now is frozen
    kopf.run(
        registry=registry,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=args.liveness,
        **peering_options(args.peering, args.priority, started_ns=time.time_ns()),
    )
    return 0


# Peering priorities from start times stay below 2**53, so they survive any JSON reader intact.
_PRIORITY_CEILING = 2**53


def startup_priority(started_ns: int) -> int:
    """The peering priority of an operator started at `started_ns` (ns since the epoch): the
    earlier it started, the higher. Replicas of one Deployment then never tie (kopf pauses every
    operator on a tie) and a replica that starts later stands by instead of taking over.

    A purely computational function with no side effects.
    """
    return _PRIORITY_CEILING - started_ns // 1000


def peering_options(
    peering: str | None, priority: int | None, *, started_ns: int
) -> dict[str, Any]:
    """kopf.run's peering arguments: standalone without a peering name; with one, peering is
    mandatory (kopf waits, serving nothing, until the peering object exists).

    A purely computational function with no side effects.
    """
    if not peering:
        return {"standalone": True}
    return {
        "standalone": False,
        "peering_name": peering,
        "priority": startup_priority(started_ns) if priority is None else priority,
    }


def command_render(args: argparse.Namespace) -> int:
    """Print the ConfigMap and Job that a run of the PerfTest in FILE would create."""
    from perftest_operator.runner.command import contract_of
    from perftest_operator.runner.manifests import RunRef, build_config_map, build_job
    from perftest_operator.runner.rbac import build_cluster_role, cluster_role_name, role_rules

    try:
        with open(args.file, encoding="utf-8") as handle:
            documents = [doc for doc in yaml.safe_load_all(handle) if doc]
    except (OSError, yaml.YAMLError) as exc:
        return _fail(f"{args.file}: {exc}")
    tests = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == "PerfTest"]
    if not tests:
        return _fail(f"{args.file}: no PerfTest in the file")
    custom_files: dict[str, str] = {}
    for item in args.custom_file or []:
        key, equals, path = item.partition("=")
        if not equals or not key:
            return _fail(f"--custom-file {item}: give KEY=FILE")
        try:
            with open(path, encoding="utf-8") as handle:
                custom_files[key] = handle.read()
        except OSError as exc:
            return _fail(f"{path}: {exc}")
    custom_config: str | None = None
    if args.custom_config:
        try:
            with open(args.custom_config, encoding="utf-8") as handle:
                custom_config = handle.read()
        except OSError as exc:
            return _fail(f"{args.custom_config}: {exc}")
    output: list[dict[str, Any]] = []
    for test in tests:
        meta = test.get("metadata") or {}
        try:
            spec = parse_perftest_spec(test.get("spec") or {})
        except SpecError as exc:
            return _fail(f"{args.file}: PerfTest {meta.get('name')}: {exc}")
        if spec.workload.is_custom and custom_config is None:
            return _fail(
                f"{args.file}: PerfTest {meta.get('name')} uses a custom config: pass --custom-config FILE"
            )
        name = meta.get("name", "perftest")
        namespace = spec.target.namespace or meta.get("namespace") or "default"
        run = RunRef(
            test=name,
            run=f"{name}-{args.run_number}",
            uid="00000000-0000-0000-0000-000000000000",
            namespace=namespace,
        )
        image = spec.workload.image or args.runner_image
        ref = spec.workload.config_map_ref
        files = None
        if ref is not None and custom_config is not None:
            files = {**custom_files, ref.key: custom_config}
        try:
            output.append(build_config_map(spec, run, image=image, custom_files=files, owner=None))
            # The account the operator gives the Job: PERFTEST_JOB_SERVICE_ACCOUNT's default on
            # the hub, the one it creates on a remote target; both perftest-kube-burner.
            output.append(
                build_job(
                    spec,
                    run,
                    image=image,
                    owner=None,
                    service_account=DEFAULT_JOB_SERVICE_ACCOUNT,
                    schedulable_nodes=args.schedulable_nodes,
                )
            )
            workload = spec.workload.name
            role = cluster_role_name(workload)
            rules = role_rules(contract_of(spec.workload), workload)
        except SpecError as exc:
            return _fail(f"{args.file}: PerfTest {meta.get('name')}: {exc}")
        if role not in {obj["metadata"]["name"] for obj in output}:
            output.append(build_cluster_role(role, rules))
    yaml.safe_dump_all(output, sys.stdout, sort_keys=False)
    return 0


def command_rbac(args: argparse.Namespace) -> int:
    """Print the ClusterRoles kube-burner's ServiceAccount needs, from the contract's calls."""
    from perftest_operator.contract.load import load_contract
    from perftest_operator.runner.rbac import (
        build_cluster_role,
        cluster_role_name,
        role_rules,
        shipped_cluster_roles,
    )

    try:
        contract = load_contract(args.version)
    except ValueError as exc:
        return _fail(str(exc))
    if args.confinement:
        from perftest_operator.runner.confinement import (
            build_admission_policy,
            build_admission_policy_binding,
        )

        sys.stdout.write(
            "# The admission policy that keeps kube-burner's account inside its benchmark, "
            f"for kube-burner-ocp {contract.version},\n# generated from the contract by "
            "`perftest rbac --confinement`; do not edit by hand.\n"
        )
        policy = [build_admission_policy(contract), build_admission_policy_binding()]
        yaml.safe_dump_all(policy, sys.stdout, sort_keys=False, width=100)
        return 0
    if args.workload is None:
        roles = shipped_cluster_roles(contract)
    else:
        found = contract.workload(args.workload)
        if found is None or found.refused is not None:
            why = "unknown" if found is None else f"not run by the operator: {found.refused}"
            return _fail(f"{args.workload}: {why}")
        roles = [
            build_cluster_role(cluster_role_name(found.name), role_rules(contract, found.name))
        ]
    header = (
        f"# kube-burner's ClusterRoles for kube-burner-ocp {contract.version}, generated from the "
        "contract\n# (perftest_operator/contract) by `perftest rbac`; do not edit by hand.\n"
    )
    sys.stdout.write(header)
    yaml.safe_dump_all(roles, sys.stdout, sort_keys=False)
    return 0


def command_analyze(args: argparse.Namespace) -> int:
    """Find change points in KPI history files; exit 0 (none worse), 2 (regression), 1 (bad input)."""
    from perftest_operator.report.analyze import AnalyzeOptions
    from perftest_operator.report.analyze_cli import AnalyzeRequest, OutputFormat, run_analyze

    request = AnalyzeRequest(
        files=tuple(args.files),
        metrics=tuple(dict.fromkeys(args.metric or ())),
        options=AnalyzeOptions(
            direction=_DIRECTIONS[args.direction], threshold_percent=args.threshold
        ),
        output=OutputFormat(args.format),
        plot=args.plot,
    )
    return run_analyze(request)


_DIRECTIONS = {
    "lower-is-better": Direction.LOWER_IS_BETTER,
    "higher-is-better": Direction.HIGHER_IS_BETTER,
}

ANALYZE_DESCRIPTION = """\
Find the change points in KPI histories, with the same detector and numbers as the operator.
Each FILE is a CSV with a header: `time` (ISO 8601), an optional `uuid`, and one or more
numeric metric columns (all analysed unless --metric names some; other columns are labels).
One row per run, oldest first. Empty or NaN cells are missing values: those runs are skipped
for that metric with a warning; an infinite value is an error. A change point is reported at
the first run after the change (`index`: its 0-based row), with the levels (medians) before and
after, the change in percent and the confidence (1 - p-value).
Exit code: 0 no regression, 2 a regression in some file and metric, 1 bad input (one line on
stderr naming the file and the problem)."""


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"must be a percentage of at least 0, got {text!r}")
    return value


def _listen_address(text: str) -> tuple[str, int]:
    try:
        return parse_listen_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_analyze(commands: Any) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="find change points in KPI history CSV files",
        description=ANALYZE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument("files", nargs="+", metavar="FILE", help="KPI history CSV file")
    analyze.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="analyse only this column (repeatable; every file must have it)",
    )
    analyze.add_argument(
        "--direction",
        choices=sorted(_DIRECTIONS),
        default="lower-is-better",
        help="which way is worse for the metrics: lower-is-better (default; latencies, a "
        "rise is a regression) or higher-is-better (throughputs, a fall is a regression)",
    )
    analyze.add_argument(
        "--threshold",
        type=_threshold,
        default=DEFAULT_THRESHOLD_PERCENT,
        metavar="PCT",
        help="smallest change of the level (segment median), in percent, that counts "
        f"(default: {DEFAULT_THRESHOLD_PERCENT:g}, the operator's default for a PerfTest "
        "metric, so that the command and the operator give the same verdict on the same "
        "history; smaller changes are within the run-to-run noise of typical cluster KPIs)",
    )
    analyze.add_argument(
        "--format",
        choices=["text", "json", "junit"],
        default="text",
        help="text: a table per file and metric with the change points marked (default); "
        "json: for machines; junit: JUnit XML, one testcase per file and metric, failing on "
        "a regression",
    )
    analyze.add_argument(
        "--plot",
        metavar="PNG",
        help="also write one PNG for all series: a panel per file and metric, three per row "
        "(values by run, segment levels, change points: red regression, green improvement)",
    )
    analyze.set_defaults(handler=command_analyze)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with 1 (bad input), not argparse's 2: 2 means `analyze` found a regression."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perftest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator")
    run.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)")
    run.add_argument(
        "--namespace", "-n", action="append", help="watch only this namespace (repeatable)"
    )
    run.add_argument(
        "--liveness", help="serve kopf's health endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    run.add_argument(
        "--metrics-address",
        type=_listen_address,
        metavar="HOST:PORT",
        help="serve the operator's Prometheus metrics on http://HOST:PORT/metrics, e.g. "
        "0.0.0.0:8081 (default: not served)",
    )
    run.add_argument(
        "--peering",
        metavar="NAME",
        help="run as one of several replicas: kopf peering through the ClusterKopfPeering NAME "
        "(cluster-wide) or the KopfPeering NAME in each watched namespace; the replica with the "
        "highest priority works, the others stand by. Default: standalone, one replica only",
    )
    run.add_argument(
        "--priority",
        type=int,
        help="peering priority (with --peering; default: from the start time, so that the "
        "oldest replica stays active and replicas never tie)",
    )
    run.add_argument("--verbose", action="store_true")
    run.add_argument("--debug", action="store_true")
    run.set_defaults(handler=command_run)

    render = commands.add_parser(
        "render", help="print the ConfigMap, Job and ClusterRole a run would create"
    )
    render.add_argument("-f", "--file", required=True, help="YAML file with one or more PerfTests")
    render.add_argument(
        "--custom-config", help="kube-burner config file, for a PerfTest with configMapRef"
    )
    render.add_argument(
        "--custom-file",
        action="append",
        metavar="KEY=FILE",
        help="another file of the custom workload's ConfigMap, e.g. an object template (repeatable)",
    )
    render.add_argument("--run-number", type=int, default=1)
    render.add_argument(
        "--schedulable-nodes",
        type=int,
        default=3,
        metavar="N",
        help="for a workload sized per node (k8s-node-density): the schedulable nodes the "
        "operator would count on the target (default 3)",
    )
    rbac = commands.add_parser(
        "rbac", help="print the ClusterRoles kube-burner needs, per workload, from the contract"
    )
    rbac.add_argument("--workload", help="only this workload's (default: every runnable one)")
    rbac.add_argument("--version", default="v1.7.3", help="kube-burner-ocp version")
    rbac.add_argument(
        "--confinement",
        action="store_true",
        help="print the ValidatingAdmissionPolicy and its binding that keep kube-burner's account "
        "inside its benchmark's namespaces, instead of the roles",
    )
    rbac.set_defaults(handler=command_rbac)
    render.add_argument(
        "--runner-image",
        default=os.environ.get("PERFTEST_RUNNER_IMAGE") or DEFAULT_RUNNER_IMAGE,
        help="the image of the Job when the PerfTest names none (default: $PERFTEST_RUNNER_IMAGE)",
    )
    render.set_defaults(handler=command_render)

    _add_analyze(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
