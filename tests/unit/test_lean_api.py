"""KubeApi's client groups: plain dict bodies go out unchecked, every call with its timeout."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from perftest_operator.kube.api import _LeanApi


class Group:
    """Shaped like a generated client group: methods checked by pydantic's validate_call."""

    version = "v1"

    @pydantic.validate_call
    def create_thing(self, namespace: str, body: int, _request_timeout: Any = None) -> Any:
        return namespace, body, _request_timeout


def test_a_dict_body_reaches_the_method_unchecked_with_the_timeout() -> None:
    with pytest.raises(pydantic.ValidationError):
        Group().create_thing("ns", {"kind": "Thing"})  # what the checked method does with it

    lean = _LeanApi(Group(), (5.0, 30.0))

    assert lean.create_thing("ns", {"kind": "Thing"}) == ("ns", {"kind": "Thing"}, (5.0, 30.0))
    assert lean.version == "v1"


def test_without_a_timeout_the_call_is_left_as_it_is() -> None:
    assert _LeanApi(Group(), None).create_thing("ns", {"a": 1}) == ("ns", {"a": 1}, None)
