"""The default KPIs are kube-burner-ocp's report-profile queries, reduced and named as Orion's configs do.

The upstream text is kept verbatim in tests/unit/upstream/ (each file names its repository,
commit, path and lines), so that this test needs no mirror of the upstream repositories.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from localstack.story import STORY_KPI, STORY_KPIS
from perftest_operator.api.default_kpis import DEFAULT_METRICS, READ_ONLY_API_CALLS_LATENCY
from perftest_operator.api.kpi import Aggregation, Direction, OverTime

UPSTREAM = Path(__file__).parent / "upstream"
REPORT_PROFILE = UPSTREAM / "kube-burner-ocp-v1.7.3-metrics-report.yml"
ORION_CONFIG = UPSTREAM / "orion-small-scale-cluster-density-report.yaml"
# avg_over_time(EXPR[{{.elapsed}}:]) > 0: the reduction over time, the expression, the filter
OVER_TIME_QUERY = re.compile(r"^(avg|max)_over_time\((?P<expr>.*)\[\{\{\.elapsed\}\}:\]\) > 0$")


def load(path: Path) -> list[dict[str, Any]]:
    documents = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(documents, list)
    return documents


def report_profile() -> dict[str, tuple[OverTime, str]]:
    """metricName -> (the reduction over time, the expression inside it)."""
    found = {}
    for entry in load(REPORT_PROFILE):
        match = OVER_TIME_QUERY.match(entry["query"])
        assert match is not None, entry["query"]
        assert entry["instant"] is True  # one value per series, at the job's end
        found[entry["metricName"]] = (OverTime(match.group(1)), match.group("expr"))
    return found


def orion_kpis() -> list[dict[str, Any]]:
    return load(ORION_CONFIG)


def default_name(orion: dict[str, Any]) -> str:
    """Orion's metricName, and its scope when it splits by one: the default KPI's name."""
    scope = orion.get("labels.scope.keyword")
    return orion["metricName.keyword"] + (f"-{scope}" if scope else "")


# The defaults read from Prometheus; the last one is kube-burner's own measurement.
QUERIED = [metric for metric in DEFAULT_METRICS if metric.kube_burner is None]
BY_NAME = {metric.name: metric for metric in QUERIED}


def test_there_is_one_default_per_orion_api_latency_kpi_and_no_other() -> None:
    assert sorted(BY_NAME) == sorted(default_name(orion) for orion in orion_kpis())
    assert len(BY_NAME) == len(QUERIED) == 6


def test_pod_ready_latency_is_kube_burners_p99_ready_as_orion_names_it() -> None:
    (measured,) = [metric for metric in DEFAULT_METRICS if metric.kube_burner is not None]
    assert measured.name == "podReadyLatency"  # orion examples/small-scale-cluster-density.yaml:20
    assert measured.kube_burner is not None
    assert (
        measured.kube_burner.metric_name,
        measured.kube_burner.quantile_name,
        measured.kube_burner.metric_of_interest,
    ) == ("podLatencyQuantilesMeasurement", "Ready", "P99")
    assert (measured.unit, measured.direction, measured.query) == (
        "ms",
        Direction.LOWER_IS_BETTER,
        "",
    )


@pytest.mark.parametrize("orion", orion_kpis(), ids=lambda orion: orion["name"])
def test_each_default_reduces_as_the_profile_and_orion_do(orion: dict[str, Any]) -> None:
    metric = BY_NAME[default_name(orion)]
    over_time, expression = report_profile()[orion["metricName.keyword"]]
    # the query is the expression inside avg_over_time / max_over_time, character for character
    assert metric.query == expression
    # each series over the window as the profile does, then across series as Orion does
    assert metric.over_time is over_time
    assert orion["metric_of_interest"] == "value"
    assert metric.aggregation is Aggregation(orion["agg"]["agg_type"])
    scope = orion.get("labels.scope.keyword")
    assert metric.labels == ((("scope", scope),) if scope else ())
    assert (metric.unit, metric.direction) == ("s", Direction.LOWER_IS_BETTER)


def test_kpis_of_one_expression_share_one_query() -> None:
    # avg and max of the same expression, both scopes: two range queries serve all six
    assert len({metric.query for metric in QUERIED}) == 2


def test_the_replayed_story_names_the_read_only_defaults() -> None:
    read_only = sorted(m.name for m in DEFAULT_METRICS if m.query == READ_ONLY_API_CALLS_LATENCY)
    assert list(STORY_KPIS) == read_only
    assert STORY_KPI in STORY_KPIS
