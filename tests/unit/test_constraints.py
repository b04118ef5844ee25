"""constraints.txt pins every distribution pyproject.toml names, within pyproject's ranges; the
developer environment, CI (through make) and the operator image install with it, so the tests
run against the versions the image ships. `make constraints` regenerates it."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pins(text: str) -> dict[str, Version]:
    """name -> version of each `name==version` line; anything else is an error."""
    result: dict[str, Version] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==" and not requirement.extras, f"not a pin: {line}"
        name = canonicalize_name(requirement.name)
        assert name not in result, f"pinned twice: {name}"
        result[name] = Version(specifier.version)
    return result


PINS = pins(CONSTRAINTS.read_text(encoding="utf-8"))
REQUIREMENTS = [
    Requirement(text)
    for text in PROJECT["dependencies"]
    + [text for extra in PROJECT["optional-dependencies"].values() for text in extra]
]


def test_pins_reads_exact_pins_only() -> None:
    assert pins("# header\nPyYAML==6.0.4\ncloudcoil.models.prometheus_operator==0.80.1.0\n") == {
        "pyyaml": Version("6.0.4"),
        "cloudcoil-models-prometheus-operator": Version("0.80.1.0"),
    }
    with pytest.raises(AssertionError, match="not a pin"):
        pins("numpy>=2\n")
    with pytest.raises(AssertionError, match="pinned twice"):
        pins("numpy==2.0\nNumPy==2.1\n")


def test_every_declared_distribution_is_pinned_within_its_range() -> None:
    assert REQUIREMENTS
    unpinned = [str(r) for r in REQUIREMENTS if canonicalize_name(r.name) not in PINS]
    assert unpinned == [], "make constraints"
    outside = [
        f"{r}: pinned {PINS[canonicalize_name(r.name)]}"
        for r in REQUIREMENTS
        if not r.specifier.contains(PINS[canonicalize_name(r.name)], prereleases=True)
    ]
    assert outside == [], "make constraints"


def test_the_project_itself_is_not_pinned() -> None:
    assert canonicalize_name(PROJECT["name"]) not in PINS


def test_this_environment_has_the_pinned_versions() -> None:
    """What the tests run with is what constraints.txt says (make install uses it)."""
    differing = []
    for requirement in REQUIREMENTS:
        name = canonicalize_name(requirement.name)
        if name not in PINS:
            continue  # test_every_declared_distribution_is_pinned_within_its_range says so
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            differing.append(f"{name}: not installed, pinned {PINS[name]}")
            continue
        if installed != PINS[name]:
            differing.append(f"{name}: {installed} installed, pinned {PINS[name]}")
    assert differing == [], "make install"
