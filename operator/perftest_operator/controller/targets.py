"""What the target cluster is during a run: platform, versions, nodes (I/O orchestration)."""

from __future__ import annotations

import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from perftest_operator.controller.context import Context
from perftest_operator.target.metadata import summarize_target
from perftest_operator.target.platform import DetectedPlatform, detect_platform

logger = logging.getLogger(__name__)

OPENSHIFT_CONFIG = ("config.openshift.io", "v1")


def detect_target_platform(
    ctx: Context,
) -> tuple[DetectedPlatform, dict[str, Any] | None, dict[str, Any]]:
    """The detected platform, the ClusterVersion (OpenShift) and GET /version of the target."""
    infrastructure = ctx.api.get_cluster_object(*OPENSHIFT_CONFIG, "infrastructures", "cluster")
    cluster_version = ctx.api.get_cluster_object(*OPENSHIFT_CONFIG, "clusterversions", "version")
    aro_clusters = ctx.api.list_cluster_objects("aro.openshift.io", "v1alpha1", "clusters")
    nodes = ctx.api.list_nodes()
    detected = detect_platform(
        infrastructure=infrastructure,
        aro_clusters=aro_clusters,
        cluster_version=cluster_version,
        nodes=nodes,
    )
    return detected, cluster_version, {"nodes": nodes, "version": ctx.api.server_version()}


def describe_target(ctx: Context) -> dict[str, Any] | None:
    """The PerfRun's status.target block; None (and a log line) when the target cannot be read.

    Metadata helps to explain a verdict but never decides one: a target that hides its nodes
    or version (RBAC) does not fail the run.
    """
    try:
        detected, cluster_version, facts = detect_target_platform(ctx)
    except ApiException as exc:
        logger.warning("target metadata not recorded: API answered %s %s", exc.status, exc.reason)
        return None
    summary = summarize_target(
        cluster_version=cluster_version,
        version_info=facts["version"],
        nodes=facts["nodes"],
        platform=detected,
    )
    summary["platformEvidence"] = detected.evidence
    return summary
