"""The runner image's entry point, run as a process: output passed through, summary left, exit code kept."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

from perftest_operator.burnerjob.summary import decode_summary

# Writes what kube-burner's local indexer writes (see burnerjob.summary), prints a log line in
# kube-burner's logrus text format, and exits with the code it is given.
FAKE_KUBE_BURNER = textwrap.dedent(
    """
    import json, os, sys
    uuid = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--uuid="))
    code = int(next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--exit=")))
    out = f"collected-metrics-{uuid}"
    os.makedirs(out)
    job = {"timestamp": "2025-01-15T02:00:00Z", "endTimestamp": "2025-01-15T02:10:00Z",
           "jobConfig": {"name": "node-density"}, "passed": code == 0, "metricName": "jobSummary"}
    with open(f"{out}/jobSummary.json", "w") as f:
        json.dump([job], f)
    ready = {"quantileName": "Ready", "P99": 1500, "P95": 1200, "P50": 700, "min": 300,
             "max": 1900, "avg": 800, "jobName": "node-density",
             "metricName": "podLatencyQuantilesMeasurement"}
    with open(f"{out}/podLatencyQuantilesMeasurement-node-density.json", "w") as f:
        json.dump([ready], f)
    print('time="2025-01-15 02:10:00" level=info msg="kube-burner run completed with rc %d"' % code)
    sys.exit(code)
    """
)


def run_entrypoint(
    tmp_path: pathlib.Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], pathlib.Path]:
    script = tmp_path / "fake_kube_burner.py"
    script.write_text(FAKE_KUBE_BURNER)
    message = tmp_path / "termination-log"
    env = {**os.environ, "PERFTEST_TERMINATION_LOG": str(message)}
    done = subprocess.run(
        [sys.executable, "-m", "perftest_operator.burnerjob", sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, message


def test_the_summary_is_left_and_the_exit_code_kept(tmp_path: pathlib.Path) -> None:
    done, message = run_entrypoint(tmp_path, "--uuid=run-1", "--exit=4")
    assert done.returncode == 4
    assert "kube-burner run completed with rc 4" in done.stdout  # passed through
    summary = decode_summary(message.read_text())
    assert summary is not None
    assert summary.exit_code == 4
    assert summary.benchmark_completed
    assert summary.quantile("podLatency", "Ready", "P99") == 1500
    assert [job.name for job in summary.jobs] == ["node-density"]


def test_a_binary_that_cannot_start_is_exit_127_with_a_summary(tmp_path: pathlib.Path) -> None:
    message = tmp_path / "termination-log"
    done = subprocess.run(
        [sys.executable, "-m", "perftest_operator.burnerjob", str(tmp_path / "missing")],
        cwd=tmp_path,
        env={**os.environ, "PERFTEST_TERMINATION_LOG": str(message)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 127
    summary = decode_summary(message.read_text())
    assert summary is not None and summary.window is None
    assert "cannot start" in summary.last_log_line


def test_sigterm_reaches_kube_burner(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text(
        textwrap.dedent(
            """
            import signal, sys, time
            def stop(number, frame):
                print("stopping: cleaning up", flush=True)
                sys.exit(2)
            signal.signal(signal.SIGTERM, stop)
            print("ready", flush=True)
            time.sleep(60)
            """
        )
    )
    message = tmp_path / "termination-log"
    process = subprocess.Popen(
        [sys.executable, "-m", "perftest_operator.burnerjob", sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "PERFTEST_TERMINATION_LOG": str(message)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    rest = process.stdout.read()
    assert process.wait(timeout=30) == 2  # kube-burner's own exit code, after its clean-up
    assert "stopping: cleaning up" in rest
    assert json.loads(message.read_text())["exitCode"] == 2
