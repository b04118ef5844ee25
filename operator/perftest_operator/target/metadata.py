"""What a target was during a run (versions, nodes, kernels) and what changed between runs (pure).

``summarize_target`` builds the PerfRun's ``status.target`` block from objects the caller read
off the target; ``what_changed`` compares two such blocks line by line, so that a regression
verdict can say what differs between the last good and the first bad run; ``describe_changes``
adds the PerfTest's own spec (its fingerprint) to that, from two PerfRun statuses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.api.fields import dig, labels, mapping, text
from perftest_operator.api.spec import Platform
from perftest_operator.target.platform import DetectedPlatform

ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
NO_ROLE = "<none>"  # what kubectl shows for a node without a role label
UNKNOWN = "unknown"

# status.nodeInfo fields recorded per run; summarised to one value when every node agrees.
NODE_INFO_FIELDS = ("kernelVersion", "osImage", "kubeletVersion", "containerRuntimeVersion")

# Fields compared by what_changed, in the order people read them.
_COMPARED = ("platform", "hostedControlPlane", "version", "kubernetesVersion", *NODE_INFO_FIELDS)


def _roles(node: Mapping[str, Any]) -> list[str]:
    roles = [
        key[len(ROLE_LABEL_PREFIX) :]
        for key in labels(node)
        if isinstance(key, str) and key.startswith(ROLE_LABEL_PREFIX) and key != ROLE_LABEL_PREFIX
    ]
    return sorted(roles) or [NO_ROLE]


def _summarize_values(values: Sequence[str]) -> str | dict[str, int]:
    """One value when all agree, else how many nodes have each value."""
    counts = Counter(values)
    if len(counts) == 1:
        return values[0]
    return dict(sorted(counts.items()))


def product_version(
    cluster_version: Mapping[str, Any] | None, version_info: Mapping[str, Any] | None
) -> str:
    """ClusterVersion ``status.desired.version`` (OpenShift), else ``GET /version``'s gitVersion (pure)."""
    desired = text(dig(cluster_version, "status", "desired", "version"))
    return desired or text(mapping(version_info).get("gitVersion")) or UNKNOWN


def summarize_target(
    *,
    cluster_version: Mapping[str, Any] | None,
    version_info: Mapping[str, Any] | None,
    nodes: Sequence[Mapping[str, Any]],
    platform: DetectedPlatform,
) -> dict[str, Any]:
    """The PerfRun's ``status.target`` block: platform, versions, nodes by role, node software.

    ``version`` is ClusterVersion ``status.desired.version`` where there is one (OpenShift),
    else the API server's ``gitVersion`` (``version_info`` is the body of ``GET /version``).
    A node with several roles counts under each; one without any under ``<none>``. Each
    ``status.nodeInfo`` field is one string when all nodes agree, else a count per value.
    A purely computational function with no side effects.
    """
    kubernetes = text(mapping(version_info).get("gitVersion"))
    by_role: Counter[str] = Counter()
    for node in nodes:
        by_role.update(_roles(node))
    summary: dict[str, Any] = {
        "platform": platform.platform.value,
        "openshift": platform.openshift,
        "hostedControlPlane": platform.hosted_control_plane,
        "managed": platform.managed,
        "version": product_version(cluster_version, version_info),
        "kubernetesVersion": kubernetes or UNKNOWN,
        "nodes": {"total": len(nodes), "byRole": dict(sorted(by_role.items()))},
    }
    for field in NODE_INFO_FIELDS:
        values = [text(dig(node, "status", "nodeInfo", field)) or UNKNOWN for node in nodes]
        if values:
            summary[field] = _summarize_values(values)
    return summary


def _render(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    if isinstance(value, Mapping):
        return ", ".join(
            f"{key} ({count} node{'' if count == 1 else 's'})" for key, count in value.items()
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def what_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Lines naming each target field that differs, ``"<field> <before> → <after>"``.

    Compares the blocks that ``summarize_target`` makes: platform, versions, node software
    and node counts per role. Equal blocks give no lines. A purely computational function with
    no side effects.
    """
    lines = [
        f"{field} {_render(before.get(field))} → {_render(after.get(field))}"
        for field in _COMPARED
        if before.get(field) != after.get(field)
    ]
    old_roles = mapping(dig(before, "nodes", "byRole"))
    new_roles = mapping(dig(after, "nodes", "byRole"))
    for role in sorted(set(old_roles) | set(new_roles)):
        old, new = old_roles.get(role, 0), new_roles.get(role, 0)
        if old != new:
            lines.append(f"{role} nodes {old} → {new}")
    return lines


def platform_from_summary(summary: Mapping[str, Any] | None) -> DetectedPlatform | None:
    """The platform a `summarize_target` block recorded; None when it recorded none (pure)."""
    if not summary:
        return None
    try:
        platform = Platform(summary.get("platform"))
    except ValueError:
        return None
    return DetectedPlatform(
        platform=platform,
        openshift=summary.get("openshift") is True,
        hosted_control_plane=summary.get("hostedControlPlane") is True,
        managed=summary.get("managed") is True,
        evidence=str(summary.get("platformEvidence") or ""),
    )


# How many hex digits of a spec fingerprint describe_changes shows.
SHORT_FINGERPRINT = 8


def describe_changes(last_good: Mapping[str, Any], first_bad: Mapping[str, Any]) -> list[str]:
    """What differs between two PerfRun statuses: the target, then the PerfTest's own spec.

    The target lines are ``what_changed`` of their ``target`` blocks; a spec line, e.g.
    ``"spec fingerprint 1a2b3c4d… → 5e6f7a8b… (generation 3 → 4)"``, is added when both runs
    recorded ``specFingerprint`` and the two differ (a run that recorded none says nothing
    about its spec). A purely computational function with no side effects.
    """
    lines = what_changed(mapping(last_good.get("target")), mapping(first_bad.get("target")))
    old, new = text(last_good.get("specFingerprint")), text(first_bad.get("specFingerprint"))
    if old is not None and new is not None and old != new:
        line = f"spec fingerprint {old[:SHORT_FINGERPRINT]}… → {new[:SHORT_FINGERPRINT]}…"
        old_generation = last_good.get("testGeneration")
        new_generation = first_bad.get("testGeneration")
        if old_generation is not None and new_generation is not None:
            line += f" (generation {old_generation} → {new_generation})"
        lines.append(line)
    return lines
