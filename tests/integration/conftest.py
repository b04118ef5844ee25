"""Fixtures the integration modules share; each module gives its own `api` (the emulator it
starts, or the `cluster` fixture's API, which may be a real cluster)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException


@pytest.fixture()
def ns(api: kubernetes.client.ApiClient) -> Iterator[str]:
    """A fresh namespace, deleted afterwards (a test may have deleted it itself)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)
