"""The operator's kopf handlers on a registry of their own, with default settings (no server)."""

from __future__ import annotations

import kopf
import kubernetes

from perftest_operator.api.settings import load_settings
from perftest_operator.controller.context import Context
from perftest_operator.handlers.registration import register_handlers
from perftest_operator.kube.api import ClusterApi


def registered_handlers() -> kopf.OperatorRegistry:
    """A registry holding every handler the operator registers (its client is never called)."""
    registry = kopf.OperatorRegistry()
    api = ClusterApi(kubernetes.client.ApiClient(kubernetes.client.Configuration()))
    register_handlers(registry, Context(api=api, settings=load_settings({})))
    return registry
