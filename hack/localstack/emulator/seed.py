"""Bulk seeding of an emulator from a JSON-lines file before it serves; file I/O.

One object per line, in an order the API server would accept (CRDs and namespaces before the
objects in them). Each object goes through `ClusterState.seed`: stored in one commit with its
status, keeping a given `metadata.uid` so that owner references between seeded objects hold.
Only the first object of each kind is checked against its schema (pruned, defaulted,
validated): seed files hold clones, and checking 100,000 of them took minutes (measured: 2 ms
per PerfRun). Creating 100,000 objects over HTTP takes far longer still.

    python -m localstack.emulator --kubeconfig k --seed objects.jsonl
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localstack.emulator.state import ClusterState


class SeedError(ValueError):
    """A line of the seed file that is not an object the emulator can store."""


def load_seed(state: ClusterState, path: Path) -> tuple[int, float]:
    """Store every object of the JSON-lines file `path`; (objects stored, seconds taken)."""
    started = time.monotonic()
    count = 0
    checked: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                body = json.loads(line)
                kind = (body["apiVersion"], body["kind"])
                served = state.served_kind(*kind)
                state.seed(served, body, check_schema=kind not in checked)
                checked.add(kind)
            except Exception as exc:
                raise SeedError(f"{path}:{number}: {exc}") from exc
            count += 1
    return count, time.monotonic() - started
