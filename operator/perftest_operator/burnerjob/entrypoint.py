"""The runner image's entry point: runs kube-burner(-ocp), then leaves its run summary (I/O).

``python -m perftest_operator.burnerjob BINARY ARGS...`` runs BINARY ARGS in the working
directory, passes its output through (``kubectl logs`` shows kube-burner's log as usual),
forwards SIGTERM and SIGINT to it (the Job's deadline and a deleted pod stop kube-burner, which
then cleans up), and when it has ended reads what it wrote with its local indexer (see
``burnerjob.summary``) and writes the summary to the container's termination message file.
It exits with kube-burner's exit code (128 + the signal when kube-burner was killed), so the
Job fails or succeeds exactly as kube-burner did.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from perftest_operator.burnerjob.summary import (
    GC_TIMEOUT_TEXT,
    JOB_SUMMARY_METRIC,
    QUANTILES_SUFFIX,
    THRESHOLD_TEXT,
    RunSummary,
    encode_summary,
    summarize_run,
)

# Where the kubelet reads the termination message (the container's terminationMessagePath; the
# Job sets it explicitly). Tests and local runs point PERFTEST_TERMINATION_LOG elsewhere.
TERMINATION_LOG = "/dev/termination-log"
TERMINATION_LOG_ENV = "PERFTEST_TERMINATION_LOG"
# kube-burner-ocp's workloads write to collected-metrics-<uuid> (burnerjob.summary); a custom
# kube-burner config with a local indexer keeps kube-burner's default, collected-metrics.
METRICS_DIRECTORIES = ("collected-metrics-{uuid}", "collected-metrics")
KEPT_LINES = 20  # log lines kept for the summary: the last ones and every marker line
_MARKERS = (GC_TIMEOUT_TEXT, THRESHOLD_TEXT, "timeout reached")
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def uuid_of(argv: Sequence[str]) -> str | None:
    """The run's UUID from ``--uuid=...`` or ``--uuid ...`` (the operator always passes one)."""
    for index, arg in enumerate(argv):
        if arg.startswith("--uuid="):
            return arg.partition("=")[2]
        if arg == "--uuid" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def metrics_directory(workdir: pathlib.Path, uuid: str | None) -> pathlib.Path | None:
    """The local indexer's directory of this run, if kube-burner wrote one."""
    for pattern in METRICS_DIRECTORIES:
        if "{uuid}" in pattern and uuid is None:
            continue
        candidate = workdir / pattern.format(uuid=uuid)
        if candidate.is_dir():
            return candidate
    return None


def _documents(path: pathlib.Path) -> list[dict[str, Any]]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [item for item in loaded if isinstance(item, dict)] if isinstance(loaded, list) else []


def read_outputs(
    directory: pathlib.Path | None,
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """(jobSummary documents, quantile files by stem) from the local indexer's directory."""
    if directory is None:
        return [], {}
    summaries = _documents(directory / f"{JOB_SUMMARY_METRIC}.json")
    quantiles = {
        path.stem: _documents(path)
        for path in sorted(directory.glob(f"*{QUANTILES_SUFFIX}-*.json"))
    }
    return summaries, quantiles


class LogKeeper:
    """Passes output lines through and keeps the last ones and those that tell what went wrong."""

    def __init__(self, sink: TextIO) -> None:
        self.sink = sink
        self.last: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self.marked: list[str] = []

    def feed(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.sink.write(line)
            self.sink.flush()
            text = line.rstrip("\n")
            self.last.append(text)
            if any(marker in text for marker in _MARKERS) and len(self.marked) < KEPT_LINES:
                self.marked.append(text)

    @property
    def lines(self) -> list[str]:
        return [*self.marked, *(line for line in self.last if line not in self.marked)]


def run(argv: Sequence[str], *, workdir: pathlib.Path, sink: TextIO) -> RunSummary:
    """Run ``argv`` to its end and summarize it; signals are forwarded while it runs."""
    keeper = LogKeeper(sink)
    try:
        child = subprocess.Popen(
            list(argv),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        keeper.feed([f"perftest-kube-burner: cannot start {argv[0]}: {exc}\n"])
        return summarize_run(127, job_summaries=[], quantile_files={}, log_lines=keeper.lines)
    previous = {
        sig: signal.signal(sig, lambda number, _: child.send_signal(number)) for sig in _SIGNALS
    }
    try:
        assert child.stdout is not None
        keeper.feed(child.stdout)
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    exit_code = 128 - code if code < 0 else code  # killed by a signal: as a shell reports it
    summaries, quantiles = read_outputs(metrics_directory(workdir, uuid_of(argv)))
    return summarize_run(
        exit_code, job_summaries=summaries, quantile_files=quantiles, log_lines=keeper.lines
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m perftest_operator.burnerjob BINARY [ARGS...]", file=sys.stderr)
        return 2
    summary = run(args, workdir=pathlib.Path.cwd(), sink=sys.stdout)
    path = pathlib.Path(os.environ.get(TERMINATION_LOG_ENV) or TERMINATION_LOG)
    try:
        path.write_text(encode_summary(summary), encoding="utf-8")
    except OSError as exc:  # the summary is lost, kube-burner's result is not
        print(f"perftest-kube-burner: cannot write {path}: {exc}", file=sys.stderr)
    return summary.exit_code
