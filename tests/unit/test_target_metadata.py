"""The PerfRun's record of what the target was, and the lines saying what changed between two runs."""

from __future__ import annotations

from typing import Any

from localstack.target_objects import CLUSTER_VERSION, cluster_nodes, node
from perftest_operator.api.spec import Platform
from perftest_operator.target.metadata import describe_changes, summarize_target, what_changed
from perftest_operator.target.platform import DetectedPlatform

ROSA = DetectedPlatform(Platform.ROSA, True, False, True, "test")
PLAIN = DetectedPlatform(Platform.BARE_METAL, False, False, False, "test")
VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0+a1b2c3d",
    "platform": "linux/amd64",
}
OLD_KERNEL = "5.14.0-427.50.1.el9_4.x86_64"
NEW_KERNEL = "5.14.0-570.1.1.el9_6.x86_64"


def summary(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "cluster_version": CLUSTER_VERSION,
        "version_info": VERSION_INFO,
        "nodes": cluster_nodes("aws:///z/i-"),
        "platform": ROSA,
    }
    arguments.update(changes)
    return summarize_target(**arguments)


def test_uniform_nodes_are_summarised_to_one_value_each() -> None:
    assert summary() == {
        "platform": "ROSA",
        "openshift": True,
        "hostedControlPlane": False,
        "managed": True,
        "version": "4.19.0-0.nightly-2025-01-14-010203",
        "kubernetesVersion": "v1.32.0+a1b2c3d",
        "nodes": {"total": 8, "byRole": {"control-plane": 3, "infra": 2, "master": 3, "worker": 5}},
        "kernelVersion": OLD_KERNEL,
        "osImage": "Red Hat Enterprise Linux CoreOS 419.94.202501140000-0",
        "kubeletVersion": "v1.32.0",
        "containerRuntimeVersion": "cri-o://1.32.0",
    }


def test_mixed_values_are_counted_per_distinct_value() -> None:
    nodes = [
        node("a", kernel=NEW_KERNEL),
        node("b", kernel=OLD_KERNEL),
        node("c", kernel=NEW_KERNEL),
    ]
    result = summary(nodes=nodes)
    assert result["kernelVersion"] == {OLD_KERNEL: 1, NEW_KERNEL: 2}
    assert result["kubeletVersion"] == "v1.32.0"


def test_without_a_cluster_version_the_kubernetes_version_is_the_product_version() -> None:
    result = summary(cluster_version=None, platform=PLAIN)
    assert result["version"] == "v1.32.0+a1b2c3d"
    assert result["platform"] == "BareMetal"
    assert result["openshift"] is False


def test_a_cluster_version_without_desired_falls_back_to_kubernetes() -> None:
    assert summary(cluster_version={"status": {}})["version"] == "v1.32.0+a1b2c3d"


def test_nodes_without_a_role_or_node_info_are_still_counted() -> None:
    bare = {"metadata": {"name": "x", "labels": {"kubernetes.io/os": "linux"}}}
    result = summary(nodes=[bare, node("w")], version_info=None, cluster_version=None)
    assert result["nodes"] == {"total": 2, "byRole": {"<none>": 1, "worker": 1}}
    assert result["kernelVersion"] == {OLD_KERNEL: 1, "unknown": 1}
    assert result["version"] == "unknown"
    assert result["kubernetesVersion"] == "unknown"


def test_no_nodes_gives_counts_and_no_node_software() -> None:
    result = summary(nodes=[])
    assert result["nodes"] == {"total": 0, "byRole": {}}
    assert "kernelVersion" not in result


def test_what_changed_names_the_kernel_and_version_between_good_and_bad_runs() -> None:
    good = summary()
    bad_version = {"status": {"desired": {"version": "4.19.0-0.nightly-2025-01-15-020304"}}}
    bad_nodes = cluster_nodes("aws:///z/i-")
    for each in bad_nodes:
        each["status"]["nodeInfo"]["kernelVersion"] = NEW_KERNEL
    bad = summary(cluster_version=bad_version, nodes=bad_nodes)
    assert what_changed(good, bad) == [
        "version 4.19.0-0.nightly-2025-01-14-010203 → 4.19.0-0.nightly-2025-01-15-020304",
        f"kernelVersion {OLD_KERNEL} → {NEW_KERNEL}",
    ]


def test_what_changed_is_empty_for_the_same_target() -> None:
    assert what_changed(summary(), summary()) == []


def test_what_changed_renders_mixed_values_node_counts_and_missing_fields() -> None:
    before = summary(nodes=[node("a"), node("b")])
    after = summary(nodes=[node("a"), node("b", kernel=NEW_KERNEL), node("c", roles=("infra",))])
    assert what_changed(before, after) == [
        f"kernelVersion {OLD_KERNEL} → {OLD_KERNEL} (2 nodes), {NEW_KERNEL} (1 node)",
        "infra nodes 0 → 1",
    ]
    assert what_changed({}, {"osImage": "RHCOS 9.6"}) == ["osImage (not recorded) → RHCOS 9.6"]
    assert what_changed({"hostedControlPlane": False}, {"hostedControlPlane": True}) == [
        "hostedControlPlane false → true"
    ]


# --- describe_changes: two PerfRun statuses -----------------------------------------------------

GOOD_PRINT, BAD_PRINT = "a1b2c3d4e5f60718", "c3d4e5f60718293a"


def run_status(target: dict[str, Any], fingerprint: str | None, generation: int) -> dict[str, Any]:
    status: dict[str, Any] = {"target": target, "testGeneration": generation}
    if fingerprint is not None:
        status["specFingerprint"] = fingerprint
    return status


def kernel_upgrade() -> tuple[dict[str, Any], dict[str, Any]]:
    bad_nodes = cluster_nodes("aws:///z/i-")
    for each in bad_nodes:
        each["status"]["nodeInfo"]["kernelVersion"] = NEW_KERNEL
    return summary(), summary(nodes=bad_nodes)


def test_describe_changes_names_the_kernel_when_the_spec_is_the_same() -> None:
    good, bad = kernel_upgrade()
    assert describe_changes(run_status(good, GOOD_PRINT, 3), run_status(bad, GOOD_PRINT, 3)) == [
        f"kernelVersion {OLD_KERNEL} → {NEW_KERNEL}"
    ]


def test_describe_changes_adds_the_spec_after_the_target() -> None:
    good, bad = kernel_upgrade()
    assert describe_changes(run_status(good, GOOD_PRINT, 3), run_status(bad, BAD_PRINT, 4)) == [
        f"kernelVersion {OLD_KERNEL} → {NEW_KERNEL}",
        "spec fingerprint a1b2c3d4… → c3d4e5f6… (generation 3 → 4)",
    ]


def test_only_the_spec_changed() -> None:
    same = summary()
    good = run_status(same, GOOD_PRINT, 3)
    bad = run_status(same, BAD_PRINT, 5)
    del good["testGeneration"]
    assert describe_changes(good, bad) == ["spec fingerprint a1b2c3d4… → c3d4e5f6…"]


def test_a_run_that_recorded_no_fingerprint_says_nothing_about_the_spec() -> None:
    same = summary()
    assert describe_changes(run_status(same, None, 3), run_status(same, BAD_PRINT, 4)) == []
    assert describe_changes(run_status(same, GOOD_PRINT, 3), run_status(same, None, 4)) == []


def test_statuses_without_a_target_block_give_no_target_lines() -> None:
    assert describe_changes({}, {}) == []
    assert describe_changes({"target": None}, {"target": {"osImage": "RHCOS 9.6"}}) == [
        "osImage (not recorded) → RHCOS 9.6"
    ]
