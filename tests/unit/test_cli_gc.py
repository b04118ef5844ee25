"""The running operator's garbage collector: loaded objects frozen, collections far apart."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from perftest_operator.cli import OPERATOR_GC_THRESHOLDS, tune_garbage_collection


@pytest.fixture()
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_loaded_objects_are_frozen_and_young_collections_far_apart(restored_gc: None) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0

    tune_garbage_collection()

    assert gc.get_freeze_count() > 10_000, "modules and classes loaded so far are frozen"
    assert gc.get_threshold() == OPERATOR_GC_THRESHOLDS
