"""The real operator (`perftest run`) as a child process, for tests and the demo."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from localstack.processes import stop_process
from localstack.prometheus import free_port


class OperatorProcess:
    """`python -m perftest_operator.cli run` against a kubeconfig; ready when kopf's probe answers."""

    def __init__(
        self,
        kubeconfig: pathlib.Path | str,
        log_path: pathlib.Path,
        *,
        namespaces: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        ready_timeout_seconds: float = 60.0,
        verbose: bool = True,
    ) -> None:
        """`verbose`: DEBUG logs (kopf's, with whole objects), as tests want; a benchmark runs
        the operator as deployed, without."""
        self.kubeconfig = str(kubeconfig)
        self.log_path = log_path
        self.namespaces = tuple(namespaces)
        self.env = dict(env or {})
        self.args = tuple(args)
        self.ready_timeout_seconds = ready_timeout_seconds
        self.verbose = verbose
        self.health_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/healthz"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "perftest_operator.cli",
            "run",
            "--kubeconfig",
            self.kubeconfig,
        ]
        for namespace in self.namespaces:
            command += ["--namespace", namespace]
        command += ["--liveness", self.health_url, *(["--verbose"] if self.verbose else [])]
        command += self.args
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.ready_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the operator exited with {self._process.returncode}:\n{self.log_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.health_url, timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the operator did not become ready:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def kill(self) -> None:
        """SIGKILL, as a crashed or evicted pod: no graceful shutdown."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> OperatorProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
