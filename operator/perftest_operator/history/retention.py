"""Retention of a test's history: which finished PerfRuns spec.history.keep prunes (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.api.fields import mapping
from perftest_operator.api.status import derive_run_phase, newest_first


def runs_to_prune(runs: Sequence[Mapping[str, Any]], keep: int) -> list[Mapping[str, Any]]:
    """The finished PerfRuns beyond the newest `keep` finished ones, oldest first.

    Runs are ordered by their run-number label, then creationTimestamp, then name. Active runs
    (Pending, Running, Collecting, Analyzing) are never pruned and do not count towards `keep`.
    A purely computational function with no side effects.
    """
    if keep < 0:
        raise ValueError(f"keep must not be negative, got {keep}")
    finished = [
        run
        for run in newest_first(runs)
        if derive_run_phase(mapping(run.get("status"))).is_terminal
    ]
    return list(reversed(finished[keep:]))
