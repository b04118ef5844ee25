"""The analysis results as JUnit XML for CI: one testcase per file and metric (pure).

A testcase fails when its metric has a regression; improvements pass and are listed in the
testcase's system-out. One testsuite per file, all in one testsuites element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from perftest_operator.report.analyze import FileResult, FoundChangePoint, MetricResult
from perftest_operator.report.numbers import describe

SUITES_NAME = "perftest analyze"


def _at(found: FoundChangePoint) -> str:
    run = f"run {found.uuid}" if found.uuid else "run"
    return f"{run} #{found.index} at {found.time}"


def _line(metric: MetricResult, found: FoundChangePoint) -> str:
    return f"{metric.metric} {describe(found.point)} from {_at(found)}"


def _testcase(parent: ET.Element, file: str, metric: MetricResult) -> None:
    case = ET.SubElement(parent, "testcase", classname=file, name=metric.metric)
    lines = [_line(metric, found) for found in metric.change_points]
    regressions = [_line(metric, found) for found in metric.change_points if found.point.regression]
    if regressions:
        failure = ET.SubElement(case, "failure", type="Regression", message=regressions[0])
        failure.text = "\n".join(regressions)
    out = ET.SubElement(case, "system-out")
    out.text = "\n".join(lines) if lines else f"{metric.metric}: no change point in {metric.n} runs"


def render_junit(results: Sequence[FileResult]) -> str:
    suites = ET.Element("testsuites", name=SUITES_NAME)
    total = failed = 0
    for result in results:
        failures = sum(metric.regression for metric in result.metrics)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.file,
            tests=str(len(result.metrics)),
            failures=str(failures),
            errors="0",
        )
        for metric in result.metrics:
            _testcase(suite, result.file, metric)
        total += len(result.metrics)
        failed += failures
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("errors", "0")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
