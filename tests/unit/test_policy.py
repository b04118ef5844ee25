"""The admin's policy: which images, own configurations, local runs and workloads that read
every Secret of their target a PerfTest may have."""

from __future__ import annotations

from typing import Any

import pytest

from perftest_operator.api.errors import NotAllowed, SpecError
from perftest_operator.api.policy import RunPolicy, check_policy, image_allowed
from perftest_operator.api.settings import load_settings
from perftest_operator.api.spec import parse_perftest_spec
from perftest_operator.api.status import Reason, not_ready_reason

RUNNER = "registry.example.com/perf/perftest-runner:v1.7.3"
REMOTE = {"kubeconfigSecretRef": {"name": "target", "key": "kubeconfig"}}


def spec(workload: dict[str, Any], target: dict[str, Any] | None = None) -> Any:
    return parse_perftest_spec(
        {
            "target": {"namespace": "perftest-runs", **(REMOTE if target is None else target)},
            "workload": workload,
            "prometheus": {"url": "http://prometheus:9090"},
        }
    )


def refusal(test: Any, policy: RunPolicy, namespace: str = "team-a") -> NotAllowed:
    with pytest.raises(NotAllowed) as caught:
        check_policy(test, namespace, policy, runner_image=RUNNER)
    return caught.value


def test_by_default_only_the_runner_image_on_a_remote_target_with_a_named_workload() -> None:
    check_policy(spec({"name": "node-density"}), "team-a", RunPolicy(), runner_image=RUNNER)
    check_policy(
        spec({"name": "node-density", "image": RUNNER}), "team-a", RunPolicy(), runner_image=RUNNER
    )
    refused = refusal(spec({"name": "node-density", "image": "evil.example/x:1"}), RunPolicy())
    assert refused.field == "spec.workload.image"
    assert (
        "PERFTEST_ALLOWED_IMAGES" in refused.problem and "policy.allowedImages" in refused.problem
    )
    assert RUNNER in refused.problem  # what is allowed instead


def test_an_own_configuration_only_in_the_namespaces_the_admin_names() -> None:
    custom = spec({"configMapRef": {"name": "mine", "key": "config.yml"}})
    refused = refusal(custom, RunPolicy())
    assert refused.field == "spec.workload.configMapRef"
    assert "team-a" in refused.problem and "PERFTEST_CUSTOM_CONFIG_NAMESPACES" in refused.problem
    check_policy(custom, "perf", RunPolicy(custom_config_namespaces=("perf",)), runner_image=RUNNER)
    refusal(custom, RunPolicy(custom_config_namespaces=("perf",)))
    check_policy(custom, "team-a", RunPolicy(custom_config_namespaces=("*",)), runner_image=RUNNER)


def test_local_runs_are_the_admins_choice() -> None:
    local = spec({"name": "node-density"}, target={})
    refused = refusal(local, RunPolicy())
    assert refused.field == "spec.target.kubeconfigSecretRef"
    assert "PERFTEST_LOCAL_RUNS" in refused.problem and "policy.localRuns" in refused.problem
    check_policy(local, "team-a", RunPolicy(local_runs=True), runner_image=RUNNER)


def test_a_workload_that_reads_every_secret_only_where_the_admin_allows_it() -> None:
    cluster_density = spec({"name": "cluster-density-v2"})
    with pytest.raises(NotAllowed) as caught:
        check_policy(
            cluster_density, "team-a", RunPolicy(), runner_image=RUNNER, reads_secrets=True
        )
    refused = caught.value
    assert refused.field == "spec.workload.name"
    assert "cluster-density-v2" in refused.problem and "every Secret" in refused.problem
    assert "PERFTEST_SECRET_READING_WORKLOADS" in refused.problem
    assert "policy.secretReadingWorkloads" in refused.problem
    allowed = RunPolicy(secret_reading_workloads=True)
    check_policy(cluster_density, "team-a", allowed, runner_image=RUNNER, reads_secrets=True)
    # What decides is what the workload's role reads, not its name.
    check_policy(cluster_density, "team-a", RunPolicy(), runner_image=RUNNER, reads_secrets=False)


@pytest.mark.parametrize(
    ("image", "patterns", "allowed"),
    [
        ("quay.io/perf/runner:1", ("quay.io/perf/*",), True),
        ("quay.io/perfx/runner:1", ("quay.io/perf/*",), False),
        ("quay.io/perf/runner:1", ("quay.io/perf/runner:1",), True),
        ("quay.io/perf/runner:2", ("quay.io/perf/runner:1",), False),
        ("anything", ("*",), True),
        ("anything", (), False),
    ],
)
def test_image_patterns(image: str, patterns: tuple[str, ...], allowed: bool) -> None:
    assert image_allowed(image, patterns) is allowed


def test_settings_read_the_policy_and_refuse_a_bad_value() -> None:
    settings = load_settings(
        {
            "PERFTEST_ALLOWED_IMAGES": "quay.io/perf/*, registry.example.com/runner:1",
            "PERFTEST_CUSTOM_CONFIG_NAMESPACES": "perf,team-b",
            "PERFTEST_LOCAL_RUNS": "true",
            "PERFTEST_SECRET_READING_WORKLOADS": "True",
        }
    )
    assert settings.policy == RunPolicy(
        allowed_images=("quay.io/perf/*", "registry.example.com/runner:1"),
        custom_config_namespaces=("perf", "team-b"),
        local_runs=True,
        secret_reading_workloads=True,
    )
    assert load_settings({}).policy == RunPolicy()
    for variable in ("PERFTEST_LOCAL_RUNS", "PERFTEST_SECRET_READING_WORKLOADS"):
        with pytest.raises(SpecError, match=variable):
            load_settings({variable: "yes"})


def test_a_refusal_is_its_own_reason_and_waits_for_a_new_spec() -> None:
    refused = refusal(spec({"name": "node-density"}, target={}), RunPolicy())
    assert not_ready_reason(refused) == (Reason.NOT_ALLOWED, False)
