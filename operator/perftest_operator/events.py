"""Kubernetes Events about PerfTests and PerfRuns: a pure builder and the call that posts (I/O edge)."""

from __future__ import annotations

import datetime
import enum
import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perftest_operator.api.conditions import format_time
from perftest_operator.kube.protocol import KubeApi

COMPONENT = "perftest-operator"
NORMAL = "Normal"
WARNING = "Warning"
MAX_MESSAGE = 1024

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventText:
    """What an Event says (type, reason, message; the wording lives in controller.announce),
    and `once`: what it is about, when it must be posted once only (see `event_name`)."""

    type: str
    reason: str  # a plain str in the Event, also when given as an api.status.Reason
    message: str
    once: str | None = None

    def __post_init__(self) -> None:
        reason = self.reason
        object.__setattr__(
            self, "reason", reason.value if isinstance(reason, enum.Enum) else reason
        )


def event_name(involved: Mapping[str, Any], reason: str, once: str | None) -> str:
    """The Event's name: random, or derived from (object, reason, `once`) so it is posted once.

    A pure function. Kubernetes refuses a second Event of the same name (409), so an Event
    about one happening (a run that succeeded, a change point found) that is posted again after
    an operator restart is not duplicated.
    """
    meta = involved["metadata"]
    if once is None:
        suffix = secrets.token_hex(8)
    else:
        key = f"{involved.get('kind', '')}/{meta['name']}/{reason}/{once}"
        suffix = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{meta['name'][:200]}.{suffix}"


def build_event(
    involved: Mapping[str, Any],
    type_: str,
    reason: str,
    message: str,
    *,
    now: datetime.datetime,
    once: str | None = None,
) -> dict[str, Any]:
    """A core/v1 Event about the object; a purely computational function with no side effects."""
    meta = involved["metadata"]
    stamp = format_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": event_name(involved, reason, once),
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


def post_event(api: KubeApi, involved: Mapping[str, Any], event: EventText) -> None:
    """Post an Event; a failure to post is logged, never fatal to the run.

    With `event.once` (what the Event is about, e.g. a run or a metric at a run), posting it
    again — a step repeated after a restart — does nothing.
    """
    once = event.once
    body = build_event(
        involved,
        event.type,
        event.reason,
        event.message,
        now=datetime.datetime.now(datetime.UTC),
        once=once,
    )
    try:
        api.create_event(body)
    except Exception as exc:
        if once is not None and getattr(exc, "status", None) == 409:
            return  # posted before the restart

        logger.warning(
            "could not post event %s on %s: %s",
            event.reason,
            involved["metadata"]["name"],
            type(exc).__name__,
        )
