"""Server-side `meta.k8s.io/v1` Tables for `kubectl get`, with printer columns; pure.

`now` is always passed in, so that ages are computed from one clock reading per response.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although"
    " some resources may allow a client to request the generation of an appropriate name"
    " automatically."
)
_AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)
_SEGMENT = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_$-]+)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<all>\*)\]"""
    r"""|\[['"](?P<quoted>[^'"]+)['"]\]"""
    r"""|\[\?\(@(?P<filter_path>(\.[A-Za-z0-9_-]+)+)\s*(?P<filter_op>==|!=)\s*"""
    r"""(?P<filter_value>"[^"]*"|'[^']*'|[^)\s]+)\s*\)\]"""
)


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: what kubectl prints as a header, and how the cell is computed."""

    name: str
    type: str  # string, integer, number, boolean, date
    json_path: str = ""
    description: str = ""
    priority: int = 0
    format: str = ""
    cell: Callable[[Mapping[str, Any], datetime.datetime], Any] | None = None

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }

    def render(self, obj: Mapping[str, Any], now: datetime.datetime) -> Any:
        if self.cell is not None:
            return self.cell(obj, now)
        results = evaluate_json_path(obj, self.json_path)
        if not results or results[0] is None:
            return None
        value = results[0]
        if self.type == "date":
            moment = parse_time(value)
            return human_duration(now - moment) if moment else None
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        return value


def evaluate_json_path(obj: Any, path: str) -> list[Any]:
    """The values at a simple JSONPath as used by printer columns.

    Supports `.a.b`, `.a[0]`, `.a[*].b`, `.a['b.c']` and filters like
    `.status.conditions[?(@.type=="Ready")].status`; `{...}` braces are optional.
    """
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    text = text.removeprefix("$")
    if text and not text.startswith((".", "[")):
        text = "." + text
    values: list[Any] = [obj]
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            return []
        position = match.end()
        values = [found for value in values for found in _step(value, match)]
    return values


def _step(value: Any, segment: re.Match[str]) -> list[Any]:
    if (key := segment["field"] or segment["quoted"]) is not None:
        return [value[key]] if isinstance(value, Mapping) and key in value else []
    if segment["index"] is not None:
        index = int(segment["index"])
        return (
            [value[index]] if isinstance(value, list) and -len(value) <= index < len(value) else []
        )
    if segment["all"] is not None:
        if isinstance(value, list):
            return list(value)
        return list(value.values()) if isinstance(value, Mapping) else []
    expected = segment["filter_value"].strip("\"'")
    negated = segment["filter_op"] == "!="
    items = value if isinstance(value, list) else []
    return [
        item
        for item in items
        if (_scalar_text(evaluate_json_path(item, segment["filter_path"])) == expected) != negated
    ]


def _scalar_text(values: Sequence[Any]) -> str | None:
    if not values:
        return None
    value = values[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_time(value: Any) -> datetime.datetime | None:
    """An RFC 3339 timestamp (`Z` or an offset, with or without fractions), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def human_duration(delta: datetime.timedelta) -> str:
    """An age as kubectl shows it (k8s.io/apimachinery's duration.HumanDuration)."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{hours // 24 // 365}y"


NAME_COLUMN = Column(
    name="Name",
    type="string",
    format="name",
    description=_NAME_DESCRIPTION,
    json_path=".metadata.name",
)
AGE_COLUMN = Column(
    name="Age", type="date", description=_AGE_DESCRIPTION, json_path=".metadata.creationTimestamp"
)


def printer_columns(additional: Sequence[Mapping[str, Any]]) -> tuple[Column, ...]:
    """A CRD version's columns: NAME, its `additionalPrinterColumns`, AGE if none is a date."""
    columns = [
        Column(
            name=str(spec.get("name", "")),
            type=str(spec.get("type", "string")),
            json_path=str(spec.get("jsonPath", "")),
            description=str(spec.get("description", "")),
            priority=int(spec.get("priority", 0)),
            format=str(spec.get("format", "")),
        )
        for spec in additional
    ]
    if not any(column.type == "date" for column in columns):
        columns.append(AGE_COLUMN)
    return (NAME_COLUMN, *columns)


def _event_last_seen(event: Mapping[str, Any], now: datetime.datetime) -> str:
    for field in ("lastTimestamp", "eventTime", "firstTimestamp"):
        moment = parse_time(event.get(field))
        if moment is not None:
            return human_duration(now - moment)
    series_time = parse_time((event.get("series") or {}).get("lastObservedTime"))
    if series_time is not None:
        return human_duration(now - series_time)
    return "<unknown>"


def _event_object(event: Mapping[str, Any], now: datetime.datetime) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_source(event: Mapping[str, Any], now: datetime.datetime) -> str:
    source = event.get("source") or {}
    return str(source.get("component") or event.get("reportingComponent") or "")


EVENT_COLUMNS = (
    Column(name="Last Seen", type="string", cell=_event_last_seen),
    Column(name="Type", type="string", json_path=".type"),
    Column(name="Reason", type="string", json_path=".reason"),
    Column(name="Object", type="string", cell=_event_object),
    Column(name="Subobject", type="string", priority=1, json_path=".involvedObject.fieldPath"),
    Column(name="Source", type="string", priority=1, cell=_event_source),
    Column(name="Message", type="string", json_path=".message"),
    Column(name="First Seen", type="date", priority=1, json_path=".firstTimestamp"),
    Column(name="Count", type="integer", priority=1, json_path=".count"),
    Column(
        name="Name",
        type="string",
        priority=1,
        format="name",
        json_path=".metadata.name",
        description=_NAME_DESCRIPTION,
    ),
)
DEFAULT_COLUMNS = (NAME_COLUMN, AGE_COLUMN)


def _condition_true(obj: Mapping[str, Any], kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def _job_status(job: Mapping[str, Any], now: datetime.datetime) -> str:
    for kind, shown in (("Complete", "Complete"), ("Failed", "Failed"), ("Suspended", "Suspended")):
        if _condition_true(job, kind):
            return shown
    return "Running"


def _job_completions(job: Mapping[str, Any], now: datetime.datetime) -> str:
    succeeded = (job.get("status") or {}).get("succeeded") or 0
    return f"{succeeded}/{(job.get('spec') or {}).get('completions') or 1}"


def _job_duration(job: Mapping[str, Any], now: datetime.datetime) -> str:
    status = job.get("status") or {}
    start = parse_time(status.get("startTime"))
    end = parse_time(status.get("completionTime")) or now
    return human_duration(end - start) if start else ""


def _pod_ready(pod: Mapping[str, Any], now: datetime.datetime) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for c in statuses if c.get('ready'))}/{len(containers)}"


def _pod_status(pod: Mapping[str, Any], now: datetime.datetime) -> str:
    """As kubectl's pod printer: a container's waiting/terminated reason wins over the phase."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    reason = str(status.get("reason") or status.get("phase") or "Pending")
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting.get("reason"):
            reason = str(waiting["reason"])
        elif terminated.get("reason"):
            reason = str(terminated["reason"])
        elif terminated:
            reason = f"ExitCode:{terminated.get('exitCode', 0)}"
    return reason


def _pod_restarts(pod: Mapping[str, Any], now: datetime.datetime) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(c.get("restartCount") or 0) for c in statuses)


JOB_COLUMNS = (
    NAME_COLUMN,
    Column(name="Status", type="string", cell=_job_status),
    Column(name="Completions", type="string", cell=_job_completions),
    Column(name="Duration", type="string", cell=_job_duration),
    AGE_COLUMN,
)
POD_COLUMNS = (
    NAME_COLUMN,
    Column(name="Ready", type="string", cell=_pod_ready),
    Column(name="Status", type="string", cell=_pod_status),
    Column(name="Restarts", type="integer", cell=_pod_restarts),
    AGE_COLUMN,
    Column(name="IP", type="string", priority=1, json_path=".status.podIP"),
    Column(name="Node", type="string", priority=1, json_path=".spec.nodeName"),
)
NAMESPACE_COLUMNS = (
    NAME_COLUMN,
    Column(name="Status", type="string", json_path=".status.phase"),
    AGE_COLUMN,
)


def _row_object(obj: Mapping[str, Any], include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def build_table(
    objects: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    now: datetime.datetime,
    list_metadata: Mapping[str, Any],
    include_object: str = "Metadata",
) -> dict[str, Any]:
    """A `Table` with one row per object (`include_object`: None, Metadata or Object)."""
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [column.render(obj, now) for column in columns]}
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_metadata),
        "columnDefinitions": [column.definition() for column in columns],
        "rows": rows,
    }


def build_metadata_list(
    objects: Sequence[Mapping[str, Any]], *, list_metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """A `PartialObjectMetadataList`: each object's metadata only (names, labels, owners)."""
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_metadata),
        "items": [_row_object(obj, "Metadata") for obj in objects],
    }


def _asks_for(accept: str, kind: str) -> bool:
    """Whether an Accept header asks for `as=<kind>` of meta.k8s.io."""
    for media_range in accept.split(","):
        parameters = {
            key.strip(): value.strip()
            for part in media_range.split(";")[1:]
            if "=" in part
            for key, value in [part.split("=", 1)]
        }
        if parameters.get("as") == kind and parameters.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for `as=Table` (as `kubectl get` does)."""
    return _asks_for(accept, "Table")


def wants_metadata_list(accept: str) -> bool:
    """Whether an Accept header asks for `as=PartialObjectMetadataList` (metadata-only lists)."""
    return _asks_for(accept, "PartialObjectMetadataList")
