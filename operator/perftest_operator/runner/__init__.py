"""Runs of kube-burner: command lines, ConfigMap and Job manifests, Job outcomes (pure modules)."""

from perftest_operator.api.owner import OwnerRef
from perftest_operator.runner.manifests import build_config_map, build_job
from perftest_operator.runner.names import label_value, run_resource_name
from perftest_operator.runner.outcome import (
    JobOutcome,
    JobState,
    OutcomeReason,
    exit_code_reason,
    read_job_outcome,
)
from perftest_operator.runner.refs import RunRef

__all__ = [
    "JobOutcome",
    "JobState",
    "OutcomeReason",
    "OwnerRef",
    "RunRef",
    "build_config_map",
    "build_job",
    "exit_code_reason",
    "label_value",
    "read_job_outcome",
    "run_resource_name",
]
