"""The kube-burner command line of a run: subcommand, scale flag, rates, timeout, UUID (pure).

What kube-burner-ocp accepts (checked against its sources, ``pkg/workloads/*.go``):

- ``--qps``, ``--burst``, ``--timeout``, ``--uuid`` and ``--gc`` are global flags of every
  workload subcommand (defaults 20, 20, 4h, a random UUID, true).
- The size of a run is *not* always ``--iterations``: the node-density family takes
  ``--pods-per-node`` (pods per worker node, default 245), virt-density ``--vms-per-node``,
  virt-capacity-benchmark ``--max-iterations`` (0 = until failure), and the web-burner
  workloads have no count at all (they are sized with ``--scale``/``--limitcount``).
  ``spec.workload.iterations`` is mapped to the flag of the workload (``SCALE_FLAGS``).
- kube-burner-ocp finds the cluster like client-go: ``$KUBECONFIG``, then ``$HOME/.kube/config``,
  then the in-cluster service account. The Job sets neither a kubeconfig nor a ``HOME`` that
  has one, so kube-burner always talks to the cluster it runs in, with the pod's service
  account, and no credential is ever passed on the command line.
- A custom configuration runs with plain kube-burner: ``kube-burner init --config=<file>``.
  kube-burner renders its configuration as a Go template over the environment, so the run's
  ``UUID``, ``QPS``, ``BURST`` and ``ITERATIONS`` are set as environment variables for it.

``spec.workload.extraArgs`` come last, in the user's order: for a flag given twice, the last
value wins, so extraArgs can override the operator's tuning flags (e.g. ``--gc=false``), but
never what makes the run what it is: ``--uuid``, ``--kubeconfig``, ``--kube-context``,
``--timeout`` and a custom workload's ``--config`` are refused when the spec is parsed, as are
files outside the mounted config and the work directory (``api.spec.RESERVED_FLAGS``). The
argv goes to the container as it is: no shell ever reads it, so shell metacharacters are
plain characters of an argument.
"""

from __future__ import annotations

from perftest_operator.api.durations import format_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.profiles import SCALE_FLAGS, ScaleFlag
from perftest_operator.api.spec import Workload

KUBE_BURNER_OCP_BINARY = "kube-burner-ocp"
KUBE_BURNER_BINARY = "kube-burner"
CONFIG_MOUNT_PATH = "/etc/kube-burner"


def scale_flag(workload_name: str) -> ScaleFlag:
    """The flag that sizes ``workload_name``; ``--iterations`` for a workload not listed."""
    return SCALE_FLAGS.get(workload_name, ScaleFlag("--iterations"))


def _has_flag(args: tuple[str, ...], flag: str) -> bool:
    return any(arg == flag or arg.startswith(f"{flag}=") for arg in args)


def check_scale(workload: Workload) -> None:
    """Raise a SpecError when ``iterations`` cannot be passed to, or is missing for, the workload.

    A purely computational function with no side effects; a no-op for custom configurations.
    """
    if workload.is_custom or workload.name is None:
        return
    scale = scale_flag(workload.name)
    if scale.flag is None:
        if workload.iterations is not None:
            raise SpecError(
                "spec.workload.iterations",
                f"{workload.name} takes no iteration count; size it with extraArgs instead",
            )
        return
    if (
        scale.required
        and workload.iterations is None
        and not _has_flag(workload.extra_args, scale.flag)
    ):
        raise SpecError(
            "spec.workload.iterations",
            f"{workload.name} needs a count (kube-burner-ocp {scale.flag}); set iterations",
        )


def timeout_flag_value(workload: Workload) -> str:
    """kube-burner's ``--timeout`` for the workload, as a Go duration of whole seconds."""
    return format_duration(max(1.0, workload.timeout_seconds))


def custom_config_path(workload: Workload) -> str:
    """Where the Job mounts a custom configuration (the key of the user's ConfigMap)."""
    if workload.config_map_ref is None:
        raise ValueError("not a custom workload")
    return f"{CONFIG_MOUNT_PATH}/{workload.config_map_ref.key}"


def kube_burner_command(workload: Workload, *, uuid: str) -> list[str]:
    """The full argv (binary first) that runs ``workload`` with kube-burner's UUID ``uuid``.

    A purely computational function with no side effects; raises SpecError (see check_scale).
    """
    check_scale(workload)
    timeout = f"--timeout={timeout_flag_value(workload)}"
    if workload.is_custom:
        return [
            KUBE_BURNER_BINARY,
            "init",
            f"--config={custom_config_path(workload)}",
            f"--uuid={uuid}",
            timeout,
            *workload.extra_args,
        ]
    assert workload.name is not None
    argv = [KUBE_BURNER_OCP_BINARY, workload.name]
    scale = scale_flag(workload.name)
    if scale.flag is not None and workload.iterations is not None:
        argv.append(f"{scale.flag}={workload.iterations}")
    if workload.qps is not None:
        argv.append(f"--qps={workload.qps}")
    if workload.burst is not None:
        argv.append(f"--burst={workload.burst}")
    argv += [timeout, f"--uuid={uuid}", "--gc=true", *workload.extra_args]
    return argv


def kube_burner_environment(workload: Workload, *, uuid: str) -> dict[str, str]:
    """Environment variables a custom configuration can template on; none for kube-burner-ocp."""
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
