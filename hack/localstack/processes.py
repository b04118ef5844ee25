"""Child processes of the local stack: one way to stop them."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes] | None, *, grace_seconds: float = 15.0) -> None:
    """SIGTERM, wait up to `grace_seconds`, then SIGKILL; a process that already ended is left as is."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
