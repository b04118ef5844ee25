"""The kube-burner command line of a run, rendered from its version's contract, and its timers (pure).

A named workload runs ``kube-burner-ocp <workload>`` with, always and explicitly:

- ``--uuid`` (the PerfRun's uid), ``--timeout``, ``--qps``/``--burst`` when the spec sets them,
  ``--gc=true`` (kube-burner deletes what it created);
- ``--alerting=false``: alerting is on by default and makes kube-burner-ocp look up the
  openshift-monitoring/prometheus-k8s Route and mint a token for that ServiceAccount before it
  starts (go-commons ``ocp-metadata/ocp-metadata.go:181-205`` at v2.1.1, kube-burner-ocp
  ``common.go:77-82`` at v1.7.3); the operator reads Prometheus itself;
- ``--local-indexing``: kube-burner writes its job summaries and measurement quantiles into the
  working directory, where the Job's entry point reads them (``burnerjob``); with alerting off
  it makes no Prometheus request at all (kube-burner ``pkg/workloads/helpers.go:87-91`` at
  v1.17.2);
- the size flag of the workload (``--iterations``, ``--pods-per-node``, ...) from
  ``spec.workload.iterations``, and churn as ``spec.workload.churn`` says, every churn flag
  spelled out (``--churn=false`` without it), so that a run does not depend on the binary's
  defaults.

``spec.workload.extraArgs`` come last. Each must be a flag of that version (an unknown one is a
SpecError worded as pflag words it, instead of an exit 1 on the cluster an hour later), and not
one of the flags above, which the spec's own fields set. A custom configuration runs plain
kube-burner: ``kube-burner init --config=<file> --uuid=... --timeout=...``, with ``UUID``,
``QPS``, ``BURST`` and ``ITERATIONS`` in the environment for its templates. So does one of this
project's configurations for any Kubernetes (``k8s-node-density``, ...: the contract's
``kubernetes_workloads``), whose files the run's ConfigMap carries; its environment always holds
all four, the workload's defaults filling what the spec leaves out, and ``ITERATIONS`` of a
per-node workload is the spec's count times the target's schedulable nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perftest_operator.api.durations import format_duration, parse_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.spec import Workload
from perftest_operator.contract.calls import FlagError, flag_of
from perftest_operator.contract.load import (
    CONFIG_FILE,
    PINNED_VERSION,
    SUPPORTED_VERSIONS,
    load_contract,
)
from perftest_operator.contract.model import Contract, Flag, FlagType, KubernetesConfig
from perftest_operator.contract.model import Workload as WorkloadContract

CONFIG_MOUNT_PATH = "/etc/kube-burner"
# The runner image's entry point runs the binary and leaves the run's summary (burnerjob).
ENTRYPOINT = ("python3", "-m", "perftest_operator.burnerjob")
# How long kube-burner may take to create a workload's objects when the spec gives no timeout.
CREATION_SECONDS = 3600.0
# With churn, kube-burner stops only at the first cycle boundary after churnDuration, so the
# cycle in progress (deletion, re-creation, waiting) runs on (kube-burner pkg/burner/
# create.go:311-327 at v1.17.2): allowed for on top of the duration and the delay.
CHURN_CYCLE_SECONDS = 15 * 60.0
# The Job's deadline: kube-burner's own timers must fire first, so that its exit code (2, with
# partial results) is seen rather than a killed pod. Outside --timeout come kube-burner-ocp's
# health check and metadata, scheduling and pulling the image, and after it the wait for
# garbage collection (gcTimeout, which no kube-burner-ocp flag changes) and indexing.
DEADLINE_FIXED_MARGIN_SECONDS = 15 * 60
DEADLINE_PROPORTIONAL_MARGIN = 0.10


@dataclass(frozen=True)
class RunCommand:
    """What a run's container executes, and the timers that bound it."""

    argv: tuple[str, ...]  # the binary and its arguments (the entry point's arguments)
    timeout_seconds: float  # kube-burner's --timeout
    deadline_seconds: int  # the Job's activeDeadlineSeconds
    version: str  # kube-burner-ocp's


def contract_of(workload: Workload) -> Contract:
    """The contract of the kube-burner-ocp version the workload runs with; SpecError if unknown."""
    version = workload.version or PINNED_VERSION
    if version not in SUPPORTED_VERSIONS:
        raise SpecError(
            "spec.workload.version",
            f"kube-burner-ocp {version} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    return load_contract(version)


def _workload_contract(workload: Workload, contract: Contract) -> WorkloadContract:
    assert workload.name is not None
    found = contract.workload(workload.name)
    if found is None:
        raise SpecError(
            "spec.workload.name",
            f"unknown workload {workload.name!r} for kube-burner-ocp {contract.version}; "
            f"known: {', '.join(sorted(contract.runnable()))}",
        )
    if found.refused is not None:
        raise SpecError(
            "spec.workload.name",
            f"{workload.name} cannot run at kube-burner-ocp {contract.version}: {found.refused} "
            f"({found.refused_source})",
        )
    return found


def _operator_flags(found: WorkloadContract | None) -> dict[str, str]:
    """Flags the operator sets, each with the spec field to use instead."""
    if found is None or found.config is not None:
        custom = ("config", "configmap", "metrics-endpoint", "kubeconfig", "kube-context")
        return {"uuid": "", "timeout": "spec.workload.timeout"} | dict.fromkeys(custom, "")
    owned = {
        "uuid": "",
        "timeout": "spec.workload.timeout",
        "qps": "spec.workload.qps",
        "burst": "spec.workload.burst",
        "alerting": "",
        "local-indexing": "",
        "metrics-endpoint": "",
        "extract": "",
    }
    if found.size_flag is not None:
        owned[found.size_flag] = "spec.workload.iterations"
    if found.churn is not None:
        churn = found.churn
        for flag in (churn.enabled, churn.duration, churn.cycles, churn.delay, churn.percent):
            owned[flag] = "spec.workload.churn"
        owned[churn.deletion_strategy] = "spec.workload.churn"
    return owned


# Flags of the version that the operator does not run with, and why.
REFUSED_FLAGS = {
    "pprof": "it execs into the OVN pods, which kube-burner's generated role does not allow",
}


def check_extra_args(
    workload: Workload, contract: Contract, found: WorkloadContract | None
) -> None:
    """Each extraArg is a flag of this version that the spec's fields do not own: SpecError if not."""
    owned = _operator_flags(found)
    name = None if found is None else found.name
    plain = found is None or found.config is not None
    tool = "kube-burner" if plain else f"kube-burner-ocp {contract.version}"
    waiting: Flag | None = None  # a flag given as `--flag value`, whose value comes next
    for index, arg in enumerate(workload.extra_args):
        field = f"spec.workload.extraArgs[{index}]"
        if waiting is not None:
            waiting = None
            continue
        if not arg.startswith("-"):
            raise SpecError(field, f"{arg!r} is not a flag; {tool} would ignore or refuse it")
        try:
            flag, value = flag_of(contract, name, arg)
        except FlagError as exc:
            raise SpecError(field, f"{tool} refuses it: {exc}") from None
        if not plain and flag.name in REFUSED_FLAGS:
            raise SpecError(field, f"--{flag.name} is not supported: {REFUSED_FLAGS[flag.name]}")
        if flag.name in owned:
            instead = owned[flag.name]
            raise SpecError(
                field,
                f"--{flag.name} is set by the operator"
                + (f"; use {instead}" if instead else " (the run's identity and how it is read)"),
            )
        if value is None and flag.type is FlagType.BOOL and index + 1 < len(workload.extra_args):
            following = workload.extra_args[index + 1]
            if following in ("true", "false"):
                raise SpecError(
                    f"spec.workload.extraArgs[{index + 1}]",
                    f"write --{flag.name}={following}: a bool flag never takes the next word",
                )
        if value is None and flag.type is not FlagType.BOOL:
            waiting = flag
    if waiting is not None:
        raise SpecError("spec.workload.extraArgs", f"--{waiting.name} needs a value")


def check_scale(workload: Workload, found: WorkloadContract) -> None:
    """``iterations`` must be given where the version requires it, and refused where it has no flag."""
    if found.size_flag is None:
        if workload.iterations is not None:
            raise SpecError(
                "spec.workload.iterations",
                f"{found.name} takes no iteration count; size it with extraArgs instead",
            )
        return
    flag = found.flag(found.size_flag)
    if flag is not None and flag.required and workload.iterations is None:
        raise SpecError(
            "spec.workload.iterations",
            f"{found.name} needs a count (kube-burner-ocp requires --{found.size_flag}); "
            "set iterations",
        )
    if flag is not None and flag.default == "0" and workload.iterations is None:
        # Not marked required, but a job of 0 iterations is fatal (kube-burner
        # pkg/config/config.go:202-204 at v1.17.2: "Job ... has < 1 iterations").
        raise SpecError(
            "spec.workload.iterations",
            f"{found.name} creates nothing without a count (--{found.size_flag} defaults to 0); "
            "set iterations",
        )


def check_required_flags(workload: Workload, contract: Contract, found: WorkloadContract) -> None:
    """Flags the subcommand marks required, other than its size, must be among extraArgs."""
    given = set()
    for arg in workload.extra_args:
        if arg.startswith("-"):
            flag, _ = flag_of(contract, found.name, arg)
            given.add(flag.name)
    for flag in found.flags:
        if flag.required and flag.name != found.size_flag and flag.name not in given:
            raise SpecError(
                "spec.workload.extraArgs",
                f"{found.name} needs --{flag.name} (kube-burner-ocp marks it required: "
                f"{flag.source}); add it to extraArgs",
            )


def _churn_flags(workload: Workload, found: WorkloadContract) -> list[str]:
    churn = workload.churn
    if found.churn is None:
        if churn is not None:
            raise SpecError("spec.workload.churn", f"{found.name} has no churn")
        return []
    names = found.churn
    if churn is None:
        return [f"--{names.enabled}=false"]

    def default(name: str) -> str:
        flag = found.flag(name)
        assert flag is not None, name
        return flag.default

    def duration(value: float | None, name: str) -> str:
        return default(name) if value is None else format_duration(value)

    return [
        f"--{names.enabled}=true",
        f"--{names.duration}={duration(churn.duration_seconds, names.duration)}",
        f"--{names.cycles}={default(names.cycles) if churn.cycles is None else churn.cycles}",
        f"--{names.percent}={default(names.percent) if churn.percent is None else churn.percent}",
        f"--{names.delay}={duration(churn.delay_seconds, names.delay)}",
        f"--{names.deletion_strategy}="
        + (
            default(names.deletion_strategy)
            if churn.deletion_strategy is None
            else churn.deletion_strategy.value
        ),
    ]


def _churn_seconds(argv: list[str]) -> float:
    """How long churn may last by the rendered flags: duration, delay and one cycle on top."""
    values = dict(arg[2:].partition("=")[::2] for arg in argv if arg.startswith("--churn"))
    if values.get("churn") != "true":
        return 0.0
    duration = parse_duration(values.get("churn-duration") or "0s")
    delay = parse_duration(values.get("churn-delay") or "0s")
    return duration + delay + CHURN_CYCLE_SECONDS


def _timeout(workload: Workload, churn_seconds: float) -> float:
    if workload.timeout_seconds is None:
        return CREATION_SECONDS + churn_seconds
    if churn_seconds and workload.timeout_seconds <= churn_seconds:
        raise SpecError(
            "spec.workload.timeout",
            f"{format_duration(workload.timeout_seconds)} does not cover churn "
            f"({format_duration(churn_seconds)} with its delay and the cycle in progress) plus "
            "the creation before it: kube-burner would exit 2 on every run",
        )
    return workload.timeout_seconds


def job_deadline_seconds(timeout_seconds: float, contract: Contract) -> int:
    """The Job's activeDeadlineSeconds for a kube-burner ``--timeout`` of ``timeout_seconds``."""
    margin = DEADLINE_FIXED_MARGIN_SECONDS + DEADLINE_PROPORTIONAL_MARGIN * timeout_seconds
    return math.ceil(timeout_seconds + contract.timers.gc_timeout_seconds + margin)


def custom_config_path(workload: Workload) -> str:
    """Where the Job mounts a custom configuration (the key of the user's ConfigMap)."""
    if workload.config_map_ref is None:
        raise ValueError("not a custom workload")
    return f"{CONFIG_MOUNT_PATH}/{workload.config_map_ref.key}"


def kubernetes_config(workload: Workload) -> KubernetesConfig | None:
    """The project's configuration the workload names (k8s-node-density, ...), else None."""
    if workload.name is None:
        return None
    found = contract_of(workload).kubernetes_workloads.get(workload.name)
    return None if found is None else found.config


def _plain_command(
    contract: Contract, workload: Workload, config_path: str, uuid: str, timeout: float
) -> list[str]:
    return [
        contract.custom.release.binary,
        contract.custom.subcommand,
        f"--config={config_path}",
        f"--uuid={uuid}",
        f"--timeout={format_duration(timeout)}",
        *workload.extra_args,
    ]


def run_command(workload: Workload, *, uuid: str) -> RunCommand:
    """The run's argv and timers; SpecError naming the field when the contract refuses the spec.

    A purely computational function with no side effects.
    """
    contract = contract_of(workload)
    if workload.is_custom:
        check_extra_args(workload, contract, None)
        timeout = workload.timeout_seconds or CREATION_SECONDS
        argv = _plain_command(contract, workload, custom_config_path(workload), uuid, timeout)
    elif kubernetes_config(workload) is not None:
        check_extra_args(workload, contract, contract.workload(str(workload.name)))
        if workload.churn is not None:
            raise SpecError(
                "spec.workload.churn", f"{workload.name} has no churn (its configuration has none)"
            )
        timeout = workload.timeout_seconds or CREATION_SECONDS
        path = f"{CONFIG_MOUNT_PATH}/{CONFIG_FILE}"
        argv = _plain_command(contract, workload, path, uuid, timeout)
    else:
        found = _workload_contract(workload, contract)
        check_scale(workload, found)
        check_extra_args(workload, contract, found)
        check_required_flags(workload, contract, found)
        argv = [contract.release.binary, found.name]
        if found.size_flag is not None and workload.iterations is not None:
            argv.append(f"--{found.size_flag}={workload.iterations}")
        if workload.qps is not None:
            argv.append(f"--qps={workload.qps}")
        if workload.burst is not None:
            argv.append(f"--burst={workload.burst}")
        churn = _churn_flags(workload, found)
        timeout = _timeout(workload, _churn_seconds(churn))
        argv += [
            f"--timeout={format_duration(timeout)}",
            f"--uuid={uuid}",
            "--gc=true",
            "--alerting=false",
            "--local-indexing=true",
            *churn,
            *workload.extra_args,
        ]
    return RunCommand(
        argv=tuple(argv),
        timeout_seconds=timeout,
        deadline_seconds=job_deadline_seconds(timeout, contract),
        version=contract.version,
    )


def check_workload(workload: Workload) -> None:
    """Raise the SpecError a run of this workload would meet, before any run starts."""
    run_command(workload, uuid="00000000-0000-0000-0000-000000000000")


def kube_burner_environment(
    workload: Workload, *, uuid: str, schedulable_nodes: int | None = None
) -> dict[str, str]:
    """Environment variables a configuration templates on; none for kube-burner-ocp.

    ``schedulable_nodes`` is what the target has (``target.prerequisites.schedulable_nodes``);
    a per-node configuration needs it.
    """
    config = kubernetes_config(workload)
    if config is not None:
        iterations = workload.iterations or config.iterations
        if config.per_node:
            if schedulable_nodes is None:
                raise ValueError(f"{workload.name} is sized per node: give schedulable_nodes")
            iterations *= schedulable_nodes
        return {
            "UUID": uuid,
            "ITERATIONS": str(iterations),
            "QPS": str(workload.qps or config.qps),
            "BURST": str(workload.burst or config.burst),
        }
    if not workload.is_custom:
        return {}
    env = {"UUID": uuid}
    for name, value in (
        ("QPS", workload.qps),
        ("BURST", workload.burst),
        ("ITERATIONS", workload.iterations),
    ):
        if value is not None:
            env[name] = str(value)
    return env
