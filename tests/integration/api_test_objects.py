"""Objects and helpers shared by the API conformance tests (`test_api_conformance`) and the
emulator's own tests (`test_emulator`): two CRDs of their own shapes, kubectl, raw GETs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
GROUP, VERSION = "example.dev", "v1alpha1"


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.dev"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
            "categories": ["example"],
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Platform", "type": "string", "jsonPath": ".spec.target.platform"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {
                        "name": "Result",
                        "type": "string",
                        "jsonPath": ".status.verdict.result",
                        "priority": 1,
                    },
                    {
                        "name": "Ready",
                        "type": "string",
                        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                    },
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["workload"],
                                "properties": {
                                    "target": {
                                        "type": "object",
                                        "default": {},
                                        "properties": {
                                            "platform": {
                                                "type": "string",
                                                "enum": ["Auto", "AWS", "GCP"],
                                                "default": "Auto",
                                            },
                                            "namespace": {
                                                "type": "string",
                                                "default": "perftest-runs",
                                                "maxLength": 20,
                                                "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                                            },
                                        },
                                    },
                                    "workload": {
                                        "type": "object",
                                        "required": ["name"],
                                        "properties": {
                                            "name": {"type": "string", "minLength": 1},
                                            "iterations": {
                                                "type": "integer",
                                                "minimum": 1,
                                                "maximum": 1000,
                                                "default": 10,
                                            },
                                            "extraArgs": {
                                                "type": "array",
                                                "maxItems": 2,
                                                "items": {"type": "string"},
                                            },
                                            "timeout": {"x-kubernetes-int-or-string": True},
                                        },
                                    },
                                    "metrics": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "direction": {
                                                    "type": "string",
                                                    "default": "LowerIsBetter",
                                                },
                                            },
                                        },
                                    },
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                    "note": {"type": "string", "nullable": True},
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}

# Cluster-scoped, no status subresource, no printer columns: the other shape of a CRD.
GADGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.tools.example.dev"},
    "spec": {
        "group": "tools.example.dev",
        "scope": "Cluster",
        "names": {
            "plural": "gadgets",
            "singular": "gadget",
            "kind": "Gadget",
            "shortNames": ["gd"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def kubectl_runner(kubeconfig: Path, home: Path) -> Kubectl:
    """kubectl with this kubeconfig and its discovery cache in `home` (not the user's)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(kubeconfig)}

    def run(
        *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [KUBECTL, *args], input=input, capture_output=True, text=True, env=env, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run


def get_json(api: kubernetes.client.ApiClient, path: str, accept: str = "application/json") -> Any:
    """A GET of any path with the client's credentials; ApiException on an error status."""
    request = api.param_serialize(
        "GET", path, header_params={"Accept": accept}, auth_settings=["BearerToken"]
    )
    response = api.call_api(*request)
    response.read()
    if not 200 <= response.status < 300:
        raise ApiException(http_resp=response)
    return json.loads(response.data)


def error_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def table_rows(output: str) -> list[list[str]]:
    """kubectl's table output as rows of cells (columns are separated by 2+ spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"workload": {"name": "cluster-density-v2"}, **spec},
    }
