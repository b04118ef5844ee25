"""The KubeApi protocol binds its three implementations: mypy --strict accepts ClusterApi, the
StepReads proxy and the unit tests' fake (fake_kube.py, which `make lint` does not check), and
refuses a fake or a proxy that lacks one of its methods."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from perftest_operator.kube import cached

UNIT = Path(__file__).resolve().parent
REPO = UNIT.parents[1]
FAKE = UNIT / "fake_kube.py"

IMPLEMENTATIONS = """
from perftest_operator.kube.api import ClusterApi
from perftest_operator.kube.cached import StepReads
from perftest_operator.kube.protocol import KubeApi


def hub(api: ClusterApi) -> KubeApi:
    return api


def step(api: KubeApi) -> KubeApi:
    return StepReads(api)
"""


def without_method(source: str, class_name: str, method: str) -> str:
    """`source` with `class_name.method` cut out."""
    tree = ast.parse(source)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    (function,) = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method]
    lines = source.splitlines(keepends=True)
    return "".join(lines[: function.lineno - 1] + lines[function.end_lineno or 0 :])


def mypy_errors(tmp_path: Path, files: list[Path]) -> dict[str, list[str]]:
    """mypy --strict's errors, with their notes, per file name (imports are read, their own
    errors not reported)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            *map(str, files),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    errors: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        found = re.match(r"(.+?\.py):\d+: (?:error|note): (.*)", line)
        if found:
            errors.setdefault(Path(found[1]).name, []).append(found[2])
    return errors


def test_mypy_accepts_the_implementations_and_refuses_one_that_lacks_a_method(
    tmp_path: Path,
) -> None:
    implementations = tmp_path / "implementations.py"
    implementations.write_text(IMPLEMENTATIONS, encoding="utf-8")
    fake_missing = tmp_path / "fake_missing.py"
    fake_missing.write_text(
        without_method(FAKE.read_text(encoding="utf-8"), "FakeKube", "list_nodes"),
        encoding="utf-8",
    )
    proxy_missing = tmp_path / "proxy_missing.py"
    proxy_source = Path(cached.__file__).read_text(encoding="utf-8")
    proxy_missing.write_text(
        without_method(proxy_source, "StepReads", "server_version")
        + "\n\ndef _step(api: KubeApi) -> KubeApi:\n    return StepReads(api)\n",
        encoding="utf-8",
    )

    errors = mypy_errors(tmp_path, [FAKE, implementations, fake_missing, proxy_missing])

    assert "fake_kube.py" not in errors, errors
    assert "implementations.py" not in errors, errors
    # mypy names the missing member in a note under the error.
    assert any("list_nodes" in message for message in errors.get("fake_missing.py", [])), errors
    assert any("server_version" in message for message in errors.get("proxy_missing.py", [])), (
        errors
    )
