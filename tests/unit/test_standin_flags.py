"""The kube-burner stand-in reads its command line as cobra and pflag do, and words refusals alike.

The expected texts are cobra v1.8.1's and pflag d5e0c0615ace's (the versions kube-burner-ocp
v1.7.3 builds with), as /work/research/flags.yaml ``cobra`` quotes them from their sources, and
Go's strconv and time errors; the exit codes are kube-burner-ocp's (KBO cmd/ocp.go:148-151).
Refusals at parse time come before any API request, so these runs need no API.
"""

from __future__ import annotations

import io
import pathlib

import pytest

from localstack.kube_burner_standin import main
from localstack.openshift_seed import REQUIRED_EXTRA_ARGS
from localstack.standin_flags import command_of, format_go_duration, parse_command_line
from perftest_operator.api.spec import parse_workload
from perftest_operator.contract.calls import resolve_flags
from perftest_operator.contract.load import load_contract
from perftest_operator.contract.model import FlagType
from perftest_operator.runner.command import run_command

CONTRACT = load_contract()


def run(*argv: str, tmp_path: pathlib.Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), {}, tmp_path, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def values(*args: str, tool: str = "kube-burner-ocp") -> dict[str, str]:
    command, rest = command_of(CONTRACT, tool, args)
    return dict(parse_command_line(command, rest, CONTRACT.messages).values)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--no-such-flag"], "unknown flag: --no-such-flag"),
        (["--no-such-flag=1"], "unknown flag: --no-such-flag"),
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["-qx"], "unknown shorthand flag: 'q' in -qx"),
        (["---x"], "bad flag syntax: ---x"),
        (["--timeout"], "flag needs an argument: --timeout"),
        (["--qps=abc"], 'invalid argument "abc" for "--qps" flag: strconv.ParseInt: parsing "abc": invalid syntax'),
        (["--qps=08"], 'invalid argument "08" for "--qps" flag: strconv.ParseInt: parsing "08": invalid syntax'),
        (["--churn=maybe"], 'invalid argument "maybe" for "--churn" flag: strconv.ParseBool: parsing "maybe": invalid syntax'),
        (["--timeout=10"], 'invalid argument "10" for "--timeout" flag: time: missing unit in duration "10"'),
        (["--timeout=3x"], 'invalid argument "3x" for "--timeout" flag: time: unknown unit "x" in duration "3x"'),
        (["--timeout=soon"], 'invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"'),
    ],
)  # fmt: skip
def test_a_refused_argument_exits_1_with_cobras_error_line(
    args: list[str], message: str, tmp_path: pathlib.Path
) -> None:
    code, stdout, stderr = run("kube-burner-ocp", "node-density", *args, tmp_path=tmp_path)
    # node-density has SilenceUsage (KBO node-density.go): the error line and nothing else.
    assert (code, stdout, stderr) == (1, "", f"Error: {message}\n")
    assert list(tmp_path.iterdir()) == [], "refused before any log file or request"


def test_a_command_without_silence_usage_prints_its_usage_after_the_error(
    tmp_path: pathlib.Path,
) -> None:
    code, _, stderr = run("kube-burner-ocp", "cluster-density-v2", "--churn=no", tmp_path=tmp_path)
    assert code == 1
    first, usage = stderr.split("\n", 1)
    assert (
        first
        == 'Error: invalid argument "no" for "--churn" flag: strconv.ParseBool: parsing "no": invalid syntax'
    )
    assert usage.startswith("Usage:\n  kube-burner-ocp cluster-density-v2 [flags]\n\nFlags:\n")
    assert "\n\nGlobal Flags:\n" in usage and usage.endswith("\n\n")  # c.Println: one more line
    lines = usage.splitlines()
    assert "  -h, --help                            help for cluster-density-v2" in lines
    # pflag: type names after the flag, defaults unless zero, strings quoted, columns aligned.
    assert "      --churn-duration duration         Churn duration (default 1h0m0s)" in lines
    assert (
        '      --churn-deletion-strategy string  Churn deletion strategy to use (default "default")'
        in lines
    )
    assert "      --iterations int                  cluster-density-v2 iterations" in lines
    assert (
        "      --metrics-profile strings         Comma separated list of metrics profiles to use (default [metrics-aggregated.yml])"
        in lines
    )
    assert "      --timeout duration         Benchmark timeout (default 4h0m0s)" in lines


def test_every_subcommand_prints_its_usage_exactly_when_it_does_not_silence_it(
    tmp_path: pathlib.Path,
) -> None:
    for name, workload in CONTRACT.workloads.items():
        code, _, stderr = run("kube-burner-ocp", name, "--x", tmp_path=tmp_path)
        assert code == 1 and stderr.startswith("Error: unknown flag: --x\n"), name
        assert ("Usage:" in stderr) is not workload.silence_usage, name


def test_an_unknown_subcommand_is_cobras_unknown_command(tmp_path: pathlib.Path) -> None:
    code, _, stderr = run("kube-burner-ocp", "cluster-density-v9", tmp_path=tmp_path)
    assert code == 1
    assert stderr == (
        'Error: unknown command "cluster-density-v9" for "kube-burner-ocp"\n'
        "Run 'kube-burner-ocp --help' for usage.\n"
    )


def test_help_prints_the_usage_and_exits_0(tmp_path: pathlib.Path) -> None:
    code, stdout, stderr = run("kube-burner-ocp", "node-density", "--help", tmp_path=tmp_path)
    assert (code, stderr) == (0, "")
    assert stdout.startswith("Usage:\n  kube-burner-ocp node-density [flags]\n")


def test_values_with_a_space_shorthands_and_bools_that_take_no_word() -> None:
    found = values(
        "node-density", "--timeout", "90m", "--qps=0x10", "--burst", "010", "--churn", "false"
    )
    # A bool never takes the next word (pflag NoOptDefVal): --churn false is --churn, "false" is
    # a positional word that kube-burner-ocp ignores.
    assert found["churn"] == "true"
    assert (found["timeout"], found["qps"], found["burst"]) == ("1h30m0s", "16", "8")
    init = values(
        "init", "-c", "/etc/kube-burner/config.yml", "-n=perf", "--timeout=45m", tool="kube-burner"
    )
    assert (init["config"], init["namespace"], init["timeout"]) == (
        "/etc/kube-burner/config.yml",
        "perf",
        "45m0s",
    )
    assert values("init", "-c/x", tool="kube-burner")["config"] == "/x"


def test_a_repeated_list_flag_replaces_the_default_then_appends() -> None:
    found = values("node-density", "--metrics-profile=a.yml", "--metrics-profile=b.yml,c.yml")
    assert found["metrics-profile"] == "[a.yml,b.yml,c.yml]"


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [(0, "0s"), (1_500_000_000, "1.5s"), (300_000_000, "300ms"), (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (2_500, "2.5µs")],
)  # fmt: skip
def test_durations_print_as_gos_duration_string(nanoseconds: int, text: str) -> None:
    assert format_go_duration(nanoseconds) == text


def test_every_command_line_the_operator_renders_reads_the_same_as_the_operator_reads_it() -> None:
    """Two independent readings of the rendered argv (the operator's resolve_flags, the stand-in's
    parser) agree on every flag: what the operator meant is what kube-burner-ocp gets."""
    for name, workload in CONTRACT.workloads.items():
        if workload.refused is not None:
            continue
        spec = {
            "name": name,
            "iterations": 3,
            "churn": {"deletionStrategy": "gvr"} if workload.churn else None,
            "extraArgs": REQUIRED_EXTRA_ARGS.get(name),
        }
        spec = {k: v for k, v in spec.items() if v is not None}
        if workload.size_flag is None:
            spec.pop("iterations")
        argv = run_command(parse_workload(spec), uuid="u-1").argv
        operator = resolve_flags(CONTRACT, name, argv[2:])
        standin = values(*argv[1:])
        for flag in CONTRACT.flags_of(name):
            mine, theirs = standin[flag.name], operator[flag.name]
            if flag.type is FlagType.DURATION:
                assert values(name, f"--{flag.name}={theirs}")[flag.name] == mine, (name, flag.name)
            else:
                assert mine == theirs, (name, flag.name, mine, theirs)
