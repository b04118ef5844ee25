"""The running operator's garbage collector (workarounds 4), observed on the installed CPython:
what is loaded is never walked again, young collections come far apart, and still come."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from perftest_operator import cli
from perftest_operator.workarounds import tune_garbage_collection


@pytest.fixture()
def collections() -> Iterator[list[int]]:
    """The generation of each collection that runs, with the interpreter's settings restored."""
    thresholds = gc.get_threshold()
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def young_collections_while_allocating(seen: list[int], containers: int) -> int:
    gc.collect()
    seen.clear()
    kept = [[] for _ in range(containers)]  # tracked objects, alive until counted
    count = len(seen)
    del kept
    return count


def test_what_is_loaded_is_frozen_out_of_every_collection(collections: list[int]) -> None:
    gc.unfreeze()
    assert any(obj is cli.build_parser for obj in gc.get_objects())

    tune_garbage_collection()

    # A collection walks generations 0-2 only; the permanent generation is never walked.
    assert not any(obj is cli.build_parser for obj in gc.get_objects())
    assert gc.get_freeze_count() > 10_000


def test_young_collections_come_far_apart_and_still_come(collections: list[int]) -> None:
    gc.set_threshold(700, 10, 10)  # the interpreter's default
    assert young_collections_while_allocating(collections, 20_000) >= 20

    tune_garbage_collection()

    assert young_collections_while_allocating(collections, 20_000) == 0
    assert young_collections_while_allocating(collections, 120_000) >= 1  # not switched off
