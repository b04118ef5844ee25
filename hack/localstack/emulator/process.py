"""Starts the API emulator for tests, as a subprocess or in this event loop; I/O, not pure.

    with EmulatorProcess(tmp_path) as cluster:          # a separate process
        kubernetes.config.load_kube_config(str(cluster.kubeconfig))

    async with running_emulator(tmp_path) as cluster:   # in this event loop
        cluster.emulator.objects[...]                   # kmock's views, for assertions

The emulator's logs go to `<workdir>/<name>.log`, never to the test output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType

from localstack.emulator.kubeconfig import write_kubeconfig
from localstack.emulator.server import ClusterEmulator, serve
from localstack.processes import stop_process

# The directory that holds the `localstack` package (`hack/`), for the child's PYTHONPATH.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class RunningEmulator:
    """Where a started emulator serves, and how clients reach it."""

    url: str
    kubeconfig: Path
    log_file: Path
    pid: int | None = None  # the emulator process (for /proc readings in benchmarks)


@dataclasses.dataclass(frozen=True)
class InProcessEmulator:
    """An emulator served by this event loop; `emulator` is the live handler (its logs go to
    the `localstack.emulator` logger, which pytest captures)."""

    url: str
    kubeconfig: Path
    emulator: ClusterEmulator


class EmulatorStartError(RuntimeError):
    """The emulator process exited or did not get ready in time (see its log file)."""


class EmulatorProcess:
    """A context manager running `python -m localstack.emulator` until the block exits."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        name: str = "emulator",
        port: int = 0,
        startup_timeout: float = 30.0,
        seed: Path | None = None,
        log_requests: bool = True,
    ) -> None:
        """`seed`: a JSON-lines file of objects to store before serving (`seed`);
        `log_requests`: a line per request in the log (off for benchmarks)."""
        self.name = name
        self.log_requests = log_requests
        self.port = port
        self.startup_timeout = startup_timeout
        self.seed = seed
        self._workdir = workdir
        self._own_workdir = False
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RunningEmulator:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="emulator-"))
            self._own_workdir = True
        self._workdir.mkdir(parents=True, exist_ok=True)
        kubeconfig = self._workdir / f"{self.name}.kubeconfig"
        ready_file = self._workdir / f"{self.name}.ready"
        log_file = self._workdir / f"{self.name}.log"
        ready_file.unlink(missing_ok=True)
        pythonpath = os.pathsep.join(
            filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")])
        )
        command = [
            sys.executable, "-m", "localstack.emulator",
            "--port", str(self.port),
            "--kubeconfig", str(kubeconfig),
            "--ready-file", str(ready_file),
            "--log-file", str(log_file),
            "--name", self.name,
        ]  # fmt: skip
        if self.seed is not None:
            command += ["--seed", str(self.seed)]
        if not self.log_requests:
            command.append("--no-request-log")
        with log_file.open("ab") as output:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env={**os.environ, "PYTHONPATH": pythonpath},
            )
        deadline = time.monotonic() + self.startup_timeout
        while not ready_file.exists():
            if self._process.poll() is not None:
                self._stop()
                raise EmulatorStartError(f"the emulator exited at start-up; see {log_file}")
            if time.monotonic() > deadline:
                self._stop()
                raise EmulatorStartError(f"the emulator is not ready in time; see {log_file}")
            time.sleep(0.05)
        url = ready_file.read_text().strip()
        return RunningEmulator(
            url=url, kubeconfig=kubeconfig, log_file=log_file, pid=self._process.pid
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace_seconds=10)


@contextlib.asynccontextmanager
async def running_emulator(
    workdir: Path,
    *,
    name: str = "emulator",
    watch_history: int = 10_000,
    clock: Callable[[], datetime.datetime] | None = None,
) -> AsyncIterator[InProcessEmulator]:
    """Serve an emulator in the running event loop, with a kubeconfig in `workdir`.

    Only for async clients (kopf, aiohttp): a synchronous client called from the same event
    loop would block the emulator that has to answer it.
    """
    async with serve(watch_history=watch_history, clock=clock) as serving:
        kubeconfig = write_kubeconfig(workdir / f"{name}.kubeconfig", serving.url, name=name)
        yield InProcessEmulator(url=serving.url, kubeconfig=kubeconfig, emulator=serving.emulator)
