"""Applies merge, strategic-merge, JSON and apply patches to object bodies; pure."""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer


class PatchError(ValueError):
    """A patch that cannot be applied to the object (the API answers 422)."""


class PatchType(str, enum.Enum):
    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY_YAML = "application/apply-patch+yaml"
    APPLY_CBOR = "application/apply-patch+cbor"


def patch_type(content_type: str) -> PatchType | None:
    """The patch type of a Content-Type header (parameters like `charset` ignored)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    for kind in PatchType:
        if kind.value == media_type:
            return kind
    return None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, the rest replaces.

    Keys starting with `$` are strategic-merge directives (`$setElementOrder/...`,
    `$retainKeys`, `$patch`); strategic merge is treated as a plain merge, so they are dropped.
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[str, Any] = dict(copy.deepcopy(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Mapping[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 JSON patch (add/remove/replace/move/copy/test)."""
    if not isinstance(operations, Sequence) or isinstance(operations, str | bytes):
        raise PatchError("a JSON patch must be a list of operations")
    try:
        patched = jsonpatch.apply_patch(copy.deepcopy(dict(target)), list(operations))
    except jsonpatch.JsonPatchTestFailed as exc:
        detail = re.sub(r" \(<class '[^']+'>\)", "", str(exc))  # jsonpatch shows Python types
        raise PatchError(f"the test operation failed: {detail}") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(str(exc)) from exc
    except (TypeError, KeyError, IndexError) as exc:
        raise PatchError(f"invalid JSON patch: {exc}") from exc
    if not isinstance(patched, dict):
        raise PatchError("a JSON patch must leave an object")
    return patched


def apply_patch(target: Mapping[str, Any], patch: Any, kind: PatchType) -> dict[str, Any]:
    """The object after the patch; `target` is not modified.

    Server-side apply is approximated as a merge patch (no field ownership is tracked).
    """
    if kind is PatchType.JSON:
        return json_patch(target, patch)
    if not isinstance(patch, Mapping):
        raise PatchError("a merge patch must be a JSON object")
    patched = merge_patch(target, patch)
    assert isinstance(patched, dict)
    return patched
