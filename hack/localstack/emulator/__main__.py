"""`python -m localstack.emulator`: serve the API emulator until SIGTERM or SIGINT; I/O.

It writes a kubeconfig (`--kubeconfig`), the URL to `--ready-file` once serving, prints
`emulator ready at URL`, and logs to `--log-file` (warnings to stderr without one). Tests start
it through `localstack.emulator.process.EmulatorProcess`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from localstack.emulator.kubeconfig import write_atomically, write_kubeconfig
from localstack.emulator.server import serve
from perftest_operator.workarounds import tune_garbage_collection

logger = logging.getLogger("localstack.emulator")


async def _run(args: argparse.Namespace) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    seed = Path(args.seed) if args.seed else None
    # A stand-in for the API server must not stop the world: with Python's default thresholds
    # the cyclic collector walked the whole store (a seeded 100,000 PerfRuns) every few
    # seconds, pausing every request for up to 2 s. Stored objects are acyclic JSON that
    # reference counting frees; what is stored at start-up is frozen, never walked again.
    gc.disable()
    async with serve(host=args.host, port=args.port, seed=seed) as serving:
        tune_garbage_collection()  # the operator's own tuning (perftest_operator.workarounds)
        gc.enable()
        write_kubeconfig(Path(args.kubeconfig), serving.url, name=args.name)
        if args.ready_file:
            write_atomically(Path(args.ready_file), serving.url + "\n")
        print(f"emulator ready at {serving.url}", flush=True)
        logger.info("Serving at %s; kubeconfig at %s", serving.url, args.kubeconfig)
        await stopped.wait()
        logger.info("Stopping.")


def _configure_logging(log_file: str | None, *, log_requests: bool = True) -> None:
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file)
        level = logging.INFO if log_requests else logging.WARNING
    else:
        handler = logging.StreamHandler(sys.stderr)
        level = logging.WARNING
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localstack.emulator",
        description="Serve an emulated Kubernetes API on 127.0.0.1 until SIGTERM/SIGINT.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--kubeconfig", required=True, help="where to write a kubeconfig for it")
    parser.add_argument("--ready-file", help="file to write the URL to once serving")
    parser.add_argument(
        "--log-file", help="file for the emulator's logs (default: stderr, warnings)"
    )
    parser.add_argument(
        "--name", default="emulator", help="cluster/user/context name in the kubeconfig"
    )
    parser.add_argument(
        "--seed",
        help="JSON-lines file of objects to store before serving (CRDs first; kept uids)",
    )
    parser.add_argument(
        "--no-request-log",
        action="store_true",
        help="leave each request out of --log-file (a line per request is a tenth of the"
        " emulator's work under a benchmark's load)",
    )
    args = parser.parse_args(argv)
    _configure_logging(args.log_file, log_requests=not args.no_request_log)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
