"""Operator settings from PERFTEST_* variables."""

from __future__ import annotations

import pytest

from perftest_operator.api.durations import format_duration, parse_duration
from perftest_operator.api.errors import SpecError
from perftest_operator.api.settings import Settings, load_settings


def test_defaults_without_variables() -> None:
    assert load_settings({}) == Settings()


def test_variables_are_parsed_once() -> None:
    settings = load_settings(
        {
            "PERFTEST_DEFAULT_PROMETHEUS_URL": "http://127.0.0.1:9090",
            "PERFTEST_POLL_INTERVAL": "0.5",
            "PERFTEST_COLLECT_BACKOFF": "2s",
            "PERFTEST_COLLECT_BACKOFF_MAX": "5m",
            "PERFTEST_NAMESPACES": "a, b,,",
            "PERFTEST_MISSING_METRIC_ATTEMPTS": "3",
            "PERFTEST_WORKERS": "8",
        }
    )
    assert settings.default_prometheus_url == "http://127.0.0.1:9090"
    assert (
        settings.poll_interval_seconds,
        settings.collect_backoff_seconds,
        settings.collect_backoff_max_seconds,
    ) == (0.5, 2, 300)
    assert settings.namespaces == ("a", "b")
    assert settings.missing_metric_attempts == 3
    assert settings.workers == 8
    assert load_settings({}).workers == 20


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_PROMETHEUS_URL", "prometheus"),
        ("POLL_INTERVAL", "fast"),
        ("POLL_INTERVAL", "0"),
        ("MISSING_METRIC_ATTEMPTS", "-1"),
        ("WORKERS", "0"),
        ("WORKERS", "many"),
    ],
)
def test_bad_variables_are_named(name: str, value: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_settings({f"PERFTEST_{name}": value})
    assert caught.value.field == f"PERFTEST_{name}"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("1h30m", 5400), ("2d", 172800), ("250ms", 0.25), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "h", "1h 30m", "-5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_is_the_inverse_for_whole_seconds() -> None:
    for seconds in (0, 59, 60, 61, 3600, 5400, 86399):
        assert parse_duration(format_duration(seconds)) == seconds


def test_hub_jobs_run_as_the_shipped_account_unless_told_otherwise() -> None:
    assert load_settings({}).job_service_account == "perftest-kube-burner"
    # The manifests' empty value means the default, as for every setting.
    assert load_settings({"PERFTEST_JOB_SERVICE_ACCOUNT": ""}).job_service_account == (
        "perftest-kube-burner"
    )
    named = load_settings({"PERFTEST_JOB_SERVICE_ACCOUNT": "burner"})
    assert named.job_service_account == "burner"


@pytest.mark.parametrize("value", ["Burner", "kube burner", "-burner", "a" * 254])
def test_a_job_account_that_is_no_service_account_name_is_named(value: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_settings({"PERFTEST_JOB_SERVICE_ACCOUNT": value})
    assert caught.value.field == "PERFTEST_JOB_SERVICE_ACCOUNT"


def test_where_the_operator_runs_is_no_variable() -> None:
    """Decided from the credentials loaded (KubeApi.in_cluster), not from the environment."""
    assert load_settings({"PERFTEST_IN_CLUSTER": "true"}).in_cluster is False
