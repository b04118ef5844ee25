"""Kubernetes Events about PerfTests and PerfRuns: a pure builder and the call that posts (I/O edge)."""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import format_time
from perftest_operator.kube.api import KubeApi

COMPONENT = "perftest-operator"
NORMAL = "Normal"
WARNING = "Warning"
MAX_MESSAGE = 1024

logger = logging.getLogger(__name__)


def build_event(
    involved: Mapping[str, Any], type_: str, reason: str, message: str, *, now: datetime.datetime
) -> dict[str, Any]:
    """A core/v1 Event about the object; a purely computational function with no side effects."""
    meta = involved["metadata"]
    stamp = format_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{secrets.token_hex(8)}",
            "namespace": meta["namespace"],
        },
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", ""),
            "kind": involved.get("kind", ""),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid", ""),
        },
        "type": type_,
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def post_event(
    api: KubeApi, involved: Mapping[str, Any], type_: str, reason: str, message: str
) -> None:
    """Post an Event; a failure to post is logged, never fatal to the run."""
    body = build_event(involved, type_, reason, message, now=datetime.datetime.now(datetime.UTC))
    try:
        api.create_event(body)
    except Exception as exc:
        logger.warning(
            "could not post event %s on %s: %s",
            reason,
            involved["metadata"]["name"],
            type(exc).__name__,
        )
