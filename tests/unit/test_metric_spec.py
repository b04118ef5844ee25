"""spec.metrics[]: overTime, aggregation and labels as the operator reads them, and SpecErrors."""

from __future__ import annotations

from typing import Any

import pytest

from perftest_operator.api.errors import SpecError
from perftest_operator.api.kpi import Aggregation, OverTime
from perftest_operator.api.spec import parse_metric

PATH = "spec.metrics[2]"


def metric(**fields: Any) -> dict[str, Any]:
    return {"name": "kpi", "query": "up", **fields}


@pytest.mark.parametrize(
    ("fields", "over_time", "aggregation"),
    [
        # without overTime: the aggregation's value, so older specs keep their meaning
        ({}, OverTime.MAX, Aggregation.MAX),
        ({"aggregation": "max"}, OverTime.MAX, Aggregation.MAX),
        ({"aggregation": "min"}, OverTime.MIN, Aggregation.MIN),
        ({"aggregation": "avg"}, OverTime.AVG, Aggregation.AVG),
        ({"aggregation": "p95"}, OverTime.P95, Aggregation.P95),
        # last: each series' newest sample, then the largest of them, as before overTime
        ({"aggregation": "last"}, OverTime.LAST, Aggregation.MAX),
        ({"aggregation": "last", "overTime": "last"}, OverTime.LAST, Aggregation.MAX),
        # both given
        ({"overTime": "avg", "aggregation": "avg"}, OverTime.AVG, Aggregation.AVG),
        ({"overTime": "max", "aggregation": "avg"}, OverTime.MAX, Aggregation.AVG),
        ({"overTime": "last", "aggregation": "p50"}, OverTime.LAST, Aggregation.P50),
        # overTime alone: across series the default, max
        ({"overTime": "p99"}, OverTime.P99, Aggregation.MAX),
    ],
)
def test_over_time_and_aggregation(
    fields: dict[str, Any], over_time: OverTime, aggregation: Aggregation
) -> None:
    parsed = parse_metric(metric(**fields), PATH)
    assert (parsed.over_time, parsed.aggregation) == (over_time, aggregation)


def test_labels_are_kept_sorted_so_that_equal_kpis_compare_equal() -> None:
    one = parse_metric(metric(labels={"scope": "namespace", "verb": "GET"}), PATH)
    other = parse_metric(metric(labels={"verb": "GET", "scope": "namespace"}), PATH)
    assert one.labels == (("scope", "namespace"), ("verb", "GET"))
    assert one == other
    assert parse_metric(metric(), PATH).labels == ()
    assert parse_metric(metric(labels={}), PATH).labels == ()
    assert parse_metric(metric(labels={"scope": ""}), PATH).labels == (("scope", ""),)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"aggregation": "median"}, f"{PATH}.aggregation", "max, avg, min, p50, p95, p99, last"),
        ({"aggregation": 3}, f"{PATH}.aggregation", "got 3"),
        ({"overTime": "median"}, f"{PATH}.overTime", "max, avg, min, p50, p95, p99, last"),
        ({"overTime": None}, f"{PATH}.overTime", "got None"),
        # last already says what happens over time; another overTime contradicts it
        ({"aggregation": "last", "overTime": "avg"}, f"{PATH}.overTime", "aggregation last"),
        ({"direction": "Up"}, f"{PATH}.direction", "LowerIsBetter, HigherIsBetter"),
        ({"labels": ["scope"]}, f"{PATH}.labels", "must be an object"),
        ({"labels": "scope=namespace"}, f"{PATH}.labels", "must be an object"),
        ({"labels": {"api-scope": "cluster"}}, f"{PATH}.labels", "not a Prometheus label name"),
        ({"labels": {"": "cluster"}}, f"{PATH}.labels", "not a Prometheus label name"),
        ({"labels": {"scope": 1}}, f"{PATH}.labels.scope", "must be a string"),
        ({"labels": {"scope": None}}, f"{PATH}.labels.scope", "must be a string"),
    ],
)
def test_what_the_operator_cannot_use_names_the_field(
    fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_metric(metric(**fields), PATH)
    assert caught.value.field == field
    assert words in caught.value.problem
