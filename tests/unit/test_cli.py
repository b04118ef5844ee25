"""The `perftest` command as a user runs it: render, and clear errors with exit code 1."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import yaml

from perftest_operator.cli import main

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "manifests" / "samples" / "perftest-api-latency.yaml"


def test_render_prints_the_configmap_job_and_role_of_a_run(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["render", "-f", str(SAMPLE), "--run-number", "3"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in documents] == ["ConfigMap", "Job", "ClusterRole"]
    assert documents[2]["metadata"]["name"] == "perftest-kube-burner-cluster-density-v2"
    job = documents[1]
    assert job["metadata"]["name"] == "api-latency-3"
    # In the sample's run namespace, as the account the manifests ship there.
    assert job["metadata"]["namespace"] == "perftest-runs"
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "perftest-kube-burner"
    container = job["spec"]["template"]["spec"]["containers"][0]
    command = [*container.get("command", []), *container.get("args", [])]
    assert "cluster-density-v2" in command
    assert "--iterations=9" in command
    assert command[:3] == ["python3", "-m", "perftest_operator.burnerjob"]


def test_rbac_prints_a_workloads_role_or_refuses_one_it_does_not_run(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["rbac", "--workload", "node-density"]) == 0
    (role,) = yaml.safe_load_all(capsys.readouterr().out)
    assert role["metadata"]["name"] == "perftest-kube-burner-node-density"
    assert main(["rbac", "--workload", "web-burner-init"]) == 1
    assert "not run by the operator" in capsys.readouterr().err
    assert main(["rbac", "--version", "v0.1.0"]) == 1
    assert "not supported" in capsys.readouterr().err


def test_render_names_the_unusable_field(tmp_path: pathlib.Path, capsys) -> None:  # type: ignore[no-untyped-def]
    body = yaml.safe_load(SAMPLE.read_text())
    body["spec"]["workload"]["name"] = "cluster-density-v9"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(body))
    assert main(["render", "-f", str(bad)]) == 1
    error = capsys.readouterr().err
    assert "spec.workload.name" in error and "cluster-density-v9" in error


def test_missing_file_and_bad_settings_exit_1() -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "perftest_operator.cli", "render", "-f", "/nonexistent.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and "/nonexistent.yaml" in missing.stderr
    bad_setting = subprocess.run(
        [sys.executable, "-m", "perftest_operator.cli", "run"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PERFTEST_POLL_INTERVAL": "soon"},
    )
    assert bad_setting.returncode == 1
    assert "PERFTEST_POLL_INTERVAL" in bad_setting.stderr
