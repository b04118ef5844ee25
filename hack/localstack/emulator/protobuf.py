"""Decodes the protobuf bodies kubectl sends for a few core kinds into JSON objects; pure.

`kubectl create namespace|configmap|secret|serviceaccount|rolebinding|clusterrolebinding` (the
commands the operator's messages and the docs give) send their object as
`application/vnd.kubernetes.protobuf` (a `k8s\\x00`-prefixed `runtime.Unknown` envelope) and
do not fall back to JSON, so the emulator reads these kinds; field numbers are those of
k8s.io/api's generated.proto. Other kinds are refused (`ProtobufError`).
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator, Mapping
from typing import Any

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

# A message schema: field number -> (JSON name, kind). A kind is "string", "bytes" (base64 in
# JSON), "int", "bool", "time" (metav1.Time), "raw" (kept as bytes), a nested schema, or
# ("repeated", kind) / ("map", value kind) for repeated fields and string-keyed maps.
Schema = Mapping[int, tuple[str, Any]]

_TIME: Schema = {1: ("seconds", "int"), 2: ("nanos", "int")}
_OWNER_REFERENCE: Schema = {
    1: ("kind", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
_OBJECT_REFERENCE: Schema = {
    1: ("kind", "string"),
    2: ("namespace", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("resourceVersion", "string"),
    7: ("fieldPath", "string"),
}
_OBJECT_META: Schema = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "int"),
    11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", _OWNER_REFERENCE)),
    14: ("finalizers", ("repeated", "string")),
}
# rbac/v1/generated.proto of kubernetes/api v0.33.0: RoleRef, Subject, (Cluster)RoleBinding.
_ROLE_BINDING: Schema = {
    1: ("metadata", _OBJECT_META),
    2: (
        "subjects",
        (
            "repeated",
            {
                1: ("kind", "string"),
                2: ("apiGroup", "string"),
                3: ("name", "string"),
                4: ("namespace", "string"),
            },
        ),
    ),
    3: ("roleRef", {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}),
}
_KINDS: Mapping[tuple[str, str], Schema] = {
    ("v1", "ConfigMap"): {
        1: ("metadata", _OBJECT_META),
        2: ("data", ("map", "string")),
        3: ("binaryData", ("map", "bytes")),
        4: ("immutable", "bool"),
    },
    ("v1", "Secret"): {
        1: ("metadata", _OBJECT_META),
        2: ("data", ("map", "bytes")),
        3: ("type", "string"),
        4: ("stringData", ("map", "string")),
        5: ("immutable", "bool"),
    },
    ("v1", "Namespace"): {
        1: ("metadata", _OBJECT_META),
        2: ("spec", {1: ("finalizers", ("repeated", "string"))}),
    },
    ("v1", "ServiceAccount"): {
        1: ("metadata", _OBJECT_META),
        2: ("secrets", ("repeated", _OBJECT_REFERENCE)),
        3: ("imagePullSecrets", ("repeated", {1: ("name", "string")})),
        4: ("automountServiceAccountToken", "bool"),
    },
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): _ROLE_BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): _ROLE_BINDING,
}
_UNKNOWN: Schema = {
    1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}),
    2: ("raw", "raw"),
}


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf envelope, or holds a kind not decoded here."""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, position


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs: varints as ints, everything else as raw bytes."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        value: int | bytes
        if wire_type == 0:
            value, position = _varint(data, position)
        elif wire_type == 2:
            length, position = _varint(data, position)
            value, position = data[position : position + length], position + length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value, position = data[position : position + size], position + size
        else:
            raise ProtobufError(f"unsupported wire type {wire_type}")
        yield number, value


def _scalar(kind: Any, value: int | bytes) -> Any:
    if isinstance(kind, Mapping):
        return _message(_as_bytes(value), kind)
    match kind:
        case "string":
            return _as_bytes(value).decode("utf-8")
        case "bytes":
            return base64.b64encode(_as_bytes(value)).decode("ascii")
        case "raw":
            return _as_bytes(value)
        case "int":
            number = _as_int(value)
            return number - (1 << 64) if number >= 1 << 63 else number
        case "bool":
            return bool(_as_int(value))
        case "time":
            seconds = _message(_as_bytes(value), _TIME).get("seconds", 0)
            moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ProtobufError(f"unknown field kind {kind!r}")  # pragma: no cover


def _as_bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a length-delimited field")
    return value


def _as_int(value: int | bytes) -> int:
    if not isinstance(value, int):
        raise ProtobufError("expected a varint field")
    return value


def _message(data: bytes, schema: Schema) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in schema:
            continue  # fields the emulator does not keep (e.g. managedFields)
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "repeated":
            result.setdefault(name, []).append(_scalar(kind[1], value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = _message(_as_bytes(value), {1: ("key", "string"), 2: ("value", kind[1])})
            result.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "")
        else:
            result[name] = _scalar(kind, value)
    return result


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object of a supported kind."""
    if not body.startswith(_MAGIC):
        raise ProtobufError("the body lacks the Kubernetes protobuf prefix")
    envelope = _message(body[len(_MAGIC) :], _UNKNOWN)
    type_meta = envelope.get("typeMeta", {})
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    schema = _KINDS.get((api_version, kind))
    if schema is None:
        raise ProtobufError(f"{kind or 'this kind'} ({api_version}) is only accepted as JSON")
    return {"apiVersion": api_version, "kind": kind, **_message(envelope.get("raw", b""), schema)}
