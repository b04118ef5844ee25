"""docs/operations.md's settings table against the code: the variables `load_settings` reads,
the Helm value the chart passes for each, and the default each row names."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator, Mapping

import pytest

from perftest_operator.api.settings import load_settings

REPO = pathlib.Path(__file__).resolve().parents[2]
OPERATIONS = REPO / "docs" / "operations.md"
DEPLOYMENT_TEMPLATE = REPO / "charts" / "perftest-operator" / "templates" / "deployment.yaml"
NO_HELM_VALUE = "—"


class RecordingEnvironment(Mapping[str, str]):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def settings_table() -> dict[str, tuple[str, str]]:
    """Variable -> (Helm value cell, default cell) of the table under '## Settings'."""
    section = OPERATIONS.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = _cells(line) if line.startswith("|") else []
        found = re.fullmatch(r"`(PERFTEST_[A-Z_]+)`", cells[0]) if cells else None
        if found:
            assert found.group(1) not in rows, f"{found.group(1)} is listed twice"
            rows[found.group(1)] = (cells[1], cells[2])
    return rows


def chart_values_by_variable() -> dict[str, set[str]]:
    """Variable -> the `.Values` paths its env entry in the chart's Deployment is made of."""
    entries = re.findall(
        r"- name: (PERFTEST_[A-Z_]+)\s*\n\s*value: (.*)", DEPLOYMENT_TEMPLATE.read_text()
    )
    return {name: set(re.findall(r"\.Values\.([\w.]+)", value)) for name, value in entries}


def test_the_table_lists_exactly_the_variables_load_settings_reads() -> None:
    environment = RecordingEnvironment()
    load_settings(environment)

    assert environment.asked, "load_settings read no variable through its mapping"
    assert set(settings_table()) == environment.asked


def test_each_helm_value_is_the_one_the_chart_passes() -> None:
    chart = chart_values_by_variable()

    for variable, (helm, _) in settings_table().items():
        documented = set(re.findall(r"`([\w.]+)`", helm))
        if helm == NO_HELM_VALUE:
            assert variable not in chart, f"{variable}: the chart sets it from {chart[variable]}"
        else:
            assert documented == chart.get(variable), variable


@pytest.mark.parametrize("variable", sorted(settings_table()))
def test_the_documented_default_is_the_default(variable: str) -> None:
    default = settings_table()[variable][1]
    # A literal default is written first in backticks; "empty" or "none" mean unset.
    literal = re.match(r"`([^`]*)`", default)
    value = literal.group(1) if literal else ""

    assert load_settings({variable: value}) == load_settings({}), default
