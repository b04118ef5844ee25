"""The `perftest` command: run the operator, render a PerfTest's manifests."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from perftest_operator import __name__ as package_name
from perftest_operator.api.errors import SpecError
from perftest_operator.api.settings import load_settings
from perftest_operator.api.spec import parse_perftest_spec

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
    from perftest_operator.kube.api import KubeApi

    namespaces = tuple(args.namespace or ()) or settings.namespaces
    kopf.configure(verbose=args.verbose, debug=args.debug)
    # Connection-level chatter of the API client says nothing about runs.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    try:
        api = KubeApi.from_environment(args.kubeconfig)
    except Exception as exc:
        # The loader's messages may quote the kubeconfig; say only what kind of problem it was.
        return _fail(f"cannot load Kubernetes credentials ({type(exc).__name__})")
    registry = kopf.OperatorRegistry()
    register_handlers(registry, Context(api=api, settings=settings))
    kopf.run(
        registry=registry,
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=True,
        liveness_endpoint=args.liveness,
    )
    return 0


def command_render(args: argparse.Namespace) -> int:
    """Print the ConfigMap and Job that a run of the PerfTest in FILE would create."""
    from perftest_operator.runner.manifests import RunRef, build_config_map, build_job

    try:
        with open(args.file, encoding="utf-8") as handle:
            documents = [doc for doc in yaml.safe_load_all(handle) if doc]
    except (OSError, yaml.YAMLError) as exc:
        return _fail(f"{args.file}: {exc}")
    tests = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == "PerfTest"]
    if not tests:
        return _fail(f"{args.file}: no PerfTest in the file")
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
            spec = parse_perftest_spec(
                test.get("spec") or {}, default_prometheus_url="http://prometheus:9090"
            )
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
        output.append(build_config_map(spec, run, custom_config=custom_config, owner=None))
        output.append(build_job(spec, run, owner=None))
    yaml.safe_dump_all(output, sys.stdout, sort_keys=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perftest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator")
    run.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)")
    run.add_argument(
        "--namespace", "-n", action="append", help="watch only this namespace (repeatable)"
    )
    run.add_argument(
        "--liveness", help="serve kopf's health endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    run.add_argument("--verbose", action="store_true")
    run.add_argument("--debug", action="store_true")
    run.set_defaults(handler=command_run)

    render = commands.add_parser("render", help="print the ConfigMap and Job a run would create")
    render.add_argument("-f", "--file", required=True, help="YAML file with one or more PerfTests")
    render.add_argument(
        "--custom-config", help="kube-burner config file, for a PerfTest with configMapRef"
    )
    render.add_argument("--run-number", type=int, default=1)
    render.set_defaults(handler=command_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
