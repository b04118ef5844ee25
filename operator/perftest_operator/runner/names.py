"""Kubernetes-safe names and label values derived deterministically from object names (pure)."""

from __future__ import annotations

import hashlib
import re

MAX_LABEL_LENGTH = 63
HASH_LENGTH = 10  # hex digits of sha256: 40 bits, plenty for the names of one namespace

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_NOT_DNS_LABEL_CHARS = re.compile(r"[^a-z0-9-]+")
_NOT_LABEL_VALUE_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def run_resource_name(run_name: str, suffix: str = "") -> str:
    """A DNS-1123 label (at most 63 characters) for the Job and ConfigMap of a PerfRun.

    A purely computational function with no side effects: the same run name always gives the
    same resource name, so an operator restart finds the Job it created instead of launching a
    second one. A name that is already a valid label (with ``-suffix`` appended) is used as it
    is; any other name is lower-cased, stripped of invalid characters, truncated, and given a
    short hash of the full original, so that distinct run names keep distinct resource names.
    """
    if not run_name:
        raise ValueError("run_name must not be empty")
    if suffix and (len(suffix) > 20 or not _DNS_LABEL.fullmatch(suffix)):
        raise ValueError(f"suffix {suffix!r} must be a short DNS label")
    tail = f"-{suffix}" if suffix else ""
    candidate = f"{run_name}{tail}"
    if len(candidate) <= MAX_LABEL_LENGTH and _DNS_LABEL.fullmatch(candidate):
        return candidate
    room = MAX_LABEL_LENGTH - len(tail) - HASH_LENGTH - 1
    base = _NOT_DNS_LABEL_CHARS.sub("-", run_name.lower()).strip("-")[:room].rstrip("-")
    return "-".join(part for part in (base, _digest(candidate)) if part) + tail


def label_value(text: str) -> str:
    """``text`` as a valid label value (at most 63 characters), unchanged if it already is one.

    A purely computational function with no side effects. Object names can be up to 253
    characters but label values only 63: longer or invalid values are truncated and end in a
    short hash of the full text, so selecting by ``label_value(name)`` stays exact in practice.
    """
    if len(text) <= MAX_LABEL_LENGTH and _LABEL_VALUE.fullmatch(text):
        return text
    room = MAX_LABEL_LENGTH - HASH_LENGTH - 1
    base = _NOT_LABEL_VALUE_CHARS.sub("-", text)[:room]
    base = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", base)
    return "-".join(part for part in (base, _digest(text)) if part)
