"""A run's command line by the contract of its kube-burner-ocp version: what it always says,
what extraArgs may add, and the timers the Job's deadline must outlast."""

from __future__ import annotations

from typing import Any

import pytest

from localstack.openshift_seed import REQUIRED_EXTRA_ARGS
from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import parse_workload
from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.load import load_contract
from perftest_operator.runner.command import check_workload, run_command

UUID = "0d6c3c53-uuid"
CONTRACT = load_contract()


def command(**workload: Any) -> tuple[str, ...]:
    return run_command(parse_workload(workload), uuid=UUID).argv


def refused(**workload: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        check_workload(parse_workload(workload))
    return caught.value


def test_every_runnable_workload_renders_a_command_line_its_version_parses() -> None:
    for name, found in CONTRACT.workloads.items():
        if found.refused is not None:
            continue
        extra = REQUIRED_EXTRA_ARGS.get(name, [])
        sized = {"iterations": 3} if found.size_flag else {}
        argv = command(name=name, extraArgs=extra, **sized)
        assert argv[:2] == ("kube-burner-ocp", name)
        flags = resolve_flags(CONTRACT, name, argv[2:])  # raises on a flag it does not have
        assert (flags["alerting"], flags["local-indexing"], flags["gc"]) == (
            "false",
            "true",
            "true",
        )
        assert flags["uuid"] == UUID
        if found.churn is not None:
            assert flags[found.churn.enabled] == "false"  # explicit, whatever the default


def test_churn_is_spelled_out_with_the_versions_defaults() -> None:
    argv = command(name="node-density", churn={"duration": "20m", "percent": 30})
    flags = resolve_flags(CONTRACT, "node-density", argv[2:])
    assert flags["churn"] == "true" and flags["churn-duration"] == "20m"
    assert flags["churn-percent"] == "30"
    # node-density's own defaults (kube-burner-ocp node-density.go:72-77), not cluster-density's
    assert flags["churn-deletion-strategy"] == "gvr" and flags["churn-delay"] == "2m0s"
    assert sum(arg.startswith("--churn") for arg in argv) == 6


def test_the_default_timeout_covers_creation_and_churn() -> None:
    plain = run_command(parse_workload({"name": "node-density"}), uuid=UUID)
    assert plain.timeout_seconds == 3600
    churned = run_command(
        parse_workload({"name": "cluster-density-v2", "iterations": 9, "churn": {}}), uuid=UUID
    )
    # 1h creation + 1h churn (its default) + 2m delay + 15m for the cycle in progress
    assert churned.timeout_seconds == 3600 + 3600 + 120 + 900
    assert "--timeout=2h17m" in churned.argv


def test_a_timeout_that_churn_outlasts_is_refused() -> None:
    error = refused(name="cluster-density-v2", iterations=9, timeout="1h", churn={})
    assert error.field == "spec.workload.timeout"
    assert "exit 2 on every run" in str(error)
    ok = command(name="cluster-density-v2", iterations=9, timeout="3h", churn={"duration": "1h"})
    assert "--timeout=3h" in ok


def test_the_deadline_outlasts_the_timeout_and_the_garbage_collection() -> None:
    run = run_command(parse_workload({"name": "node-density", "timeout": "2h"}), uuid=UUID)
    assert run.deadline_seconds == 7200 + 3600 + 900 + 720  # + gcTimeout 1h + 15 min + 10 %


@pytest.mark.parametrize(
    ("extra", "index", "words"),
    [
        (["--churnn=true"], 0, "kube-burner-ocp v1.7.3 refuses it: unknown flag: --churnn"),
        (["--container-image=x"], 0, "unknown flag: --container-image"),
        (["--alerting=true"], 0, "--alerting is set by the operator"),
        (["--local-indexing=false"], 0, "--local-indexing is set by the operator"),
        (["--churn-duration=5m"], 0, "use spec.workload.churn"),
        (["--iterations=4"], 0, "use spec.workload.iterations"),
        (["--qps=100"], 0, "use spec.workload.qps"),
        (["--pprof"], 0, "execs into the OVN pods"),
        (["--service-latency", "false"], 1, "write --service-latency=false"),
        (["sideways"], 0, "is not a flag"),
    ],
)
def test_extra_args_the_version_or_the_operator_refuse(
    extra: list[str], index: int, words: str
) -> None:
    error = refused(name="cluster-density-v2", iterations=9, extraArgs=extra)
    assert error.field == f"spec.workload.extraArgs[{index}]"
    assert words in str(error)


def test_extra_args_the_version_has_are_passed_last() -> None:
    argv = command(
        name="cluster-density-v2",
        iterations=9,
        extraArgs=["--pod-ready-threshold", "90s", "--check-health=false", "--log-level=debug"],
    )
    assert argv[-4:] == (
        "--pod-ready-threshold",
        "90s",
        "--check-health=false",
        "--log-level=debug",
    )


def test_a_flag_without_its_value_is_refused() -> None:
    error = refused(name="cluster-density-v2", iterations=9, extraArgs=["--pod-ready-threshold"])
    assert "needs a value" in str(error)


@pytest.mark.parametrize(
    ("workload", "field", "words"),
    [
        ({"name": "cluster-density-v9"}, "spec.workload.name", "unknown workload"),
        ({"name": "web-burner-init"}, "spec.workload.name", "does not render"),
        ({"name": "udn-bgp", "iterations": 3}, "spec.workload.name", "network-admin"),
        ({"name": "cluster-density-v2"}, "spec.workload.iterations", "needs a count"),
        # Not required, but 0 iterations is fatal (kube-burner: "has < 1 iterations").
        ({"name": "pvc-density"}, "spec.workload.iterations", "creates nothing"),
        ({"name": "crd-scale", "iterations": 2, "churn": {}}, "spec.workload.churn", "no churn"),
        ({"name": "egressip", "iterations": 2}, "spec.workload.extraArgs", "--external-server-ip"),
        ({"name": "node-density", "version": "v1.9.0"}, "spec.workload.version", "not supported"),
    ],
)
def test_what_the_contract_refuses_before_any_run(
    workload: dict[str, Any], field: str, words: str
) -> None:
    error = refused(**workload)
    assert error.field == field and words in str(error)


def test_a_custom_configuration_runs_plain_kube_burner_init() -> None:
    ref = {"name": "cfg", "key": "config.yml"}
    argv = command(configMapRef=ref, timeout="30m", extraArgs=["--log-level=debug"])
    assert argv == (
        "kube-burner",
        "init",
        "--config=/etc/kube-burner/config.yml",
        f"--uuid={UUID}",
        "--timeout=30m",
        "--log-level=debug",
    )
    error = refused(configMapRef=ref, extraArgs=["--check-health=false"])
    assert "kube-burner refuses it: unknown flag: --check-health" in str(error)
    error = refused(configMapRef=ref, extraArgs=["-e", "endpoints.yml"])
    assert "--metrics-endpoint is set by the operator" in str(error)
