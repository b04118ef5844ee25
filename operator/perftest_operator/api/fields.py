"""Tolerant reads of raw API objects (plain dicts from JSON): a wrong type reads as absent (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> Sequence[Any]:
    """``value`` if it is a list (not a string), else an empty one."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    return ()


def dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def text(value: Any) -> str | None:
    """A non-empty string, stripped; None for anything else."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The labels of an object (empty when it has none)."""
    return mapping(dig(obj, "metadata", "labels"))


def generation(obj: Mapping[str, Any]) -> int:
    """metadata.generation of a PerfTest or PerfRun; 1 (a new object's) when it is not there."""
    return int(dig(obj, "metadata", "generation") or 1)
