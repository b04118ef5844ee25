"""Kubeconfigs for an emulator, and atomic file writes; file I/O (document builder is pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Not a secret: the emulator accepts any token; clients just need one to be configured.
DUMMY_TOKEN = "emulator-dummy-token"


def kubeconfig_document(
    url: str, *, name: str = "emulator", namespace: str = "default"
) -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context, all called `name`; pure."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {"token": DUMMY_TOKEN}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        ],
        "current-context": name,
        "preferences": {},
    }


def write_atomically(path: Path, text: str) -> Path:
    """Write a file so that readers never see half of it (write aside, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
    return path


def write_kubeconfig(path: Path, url: str, *, name: str = "emulator") -> Path:
    """Write the emulator's kubeconfig to `path` (atomically); returns `path`."""
    return write_atomically(
        path, yaml.safe_dump(kubeconfig_document(url, name=name), sort_keys=False)
    )
