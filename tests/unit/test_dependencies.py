"""pyproject.toml names what the code imports, and nothing else: each third-party import of the
package is a runtime dependency (or, imported inside a function, one of the user-facing extras),
each runtime dependency is imported, and the tests and tools import only declared distributions."""

from __future__ import annotations

import ast
import functools
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "operator" / "perftest_operator"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEVELOPER_EXTRAS = ("test", "lint")

# Runtime dependencies that nothing imports, and why they are there.
NOT_IMPORTED = {"tzdata": "time zone data that zoneinfo reads where the system has none"}
# Imports of scripts that run in virtual environments of their own (Makefile, `make bench`).
OWN_ENVIRONMENTS = {
    "otava": "hack/bench/detect_otava.py, .venv-bench-otava",
    "signal_processing_algorithms": "hack/bench/detect_edivisive.py, .venv-bench-spa",
}


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(text).name) for text in requirements}


RUNTIME = names(PROJECT["dependencies"])
EXTRAS = {extra: names(reqs) for extra, reqs in PROJECT["optional-dependencies"].items()}
USER_EXTRAS = set().union(*(d for e, d in EXTRAS.items() if e not in DEVELOPER_EXTRAS))
ALL_DECLARED = RUNTIME.union(*EXTRAS.values())


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(top-level name, imported inside a function) of each absolute import in `path`."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.partition(".")[0], in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.partition(".")[0], in_function
            yield from walk(
                child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            )

    yield from walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)


def local_modules(*roots: Path) -> set[str]:
    """Module names the roots provide themselves (pytest's and pyproject's pythonpath)."""
    return {
        path.stem if path.is_file() else path.name
        for root in roots
        for path in root.rglob("*")
        if path.suffix == ".py" or (path.is_dir() and any(path.glob("*.py")))
    }


def third_party(roots: list[Path], local: set[str]) -> dict[tuple[str, bool], set[str]]:
    """(import name, inside a function) -> the files importing it, for imports that are neither
    the standard library, the package itself nor a module of the roots."""
    found: dict[tuple[str, bool], set[str]] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for name, lazy in imports(path):
                if name in sys.stdlib_module_names or name in local | {"__future__"}:
                    continue
                found.setdefault((name, lazy), set()).add(str(path.relative_to(REPO)))
    return found


@functools.cache
def _import_names() -> dict[str, list[str]]:
    return packages_distributions()


def distributions(name: str) -> set[str]:
    """The installed distributions providing import name `name` (empty: none installed)."""
    return {canonicalize_name(dist) for dist in _import_names().get(name, [])}


def test_import_scan_sees_module_level_and_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os.path\nfrom numpy import typing\nif True:\n    import yaml\n"
        "from . import sibling\n"
        "def f():\n    import matplotlib.pyplot\n    class C:\n        import orjson\n"
        "class K:\n    async def g(self):\n        from kopf import on\n"
    )
    assert list(imports(module)) == [
        ("os", False),
        ("numpy", False),
        ("yaml", False),
        ("matplotlib", True),
        ("orjson", True),
        ("kopf", True),
    ]


def test_every_import_of_the_package_is_declared_for_its_users() -> None:
    found = third_party([PACKAGE], {"perftest_operator"})
    assert found, "the scan found no third-party import at all"
    undeclared = []
    for (name, lazy), files in sorted(found.items()):
        provided = distributions(name)
        allowed = RUNTIME | USER_EXTRAS if lazy else RUNTIME
        if not provided & allowed:
            where = "a runtime dependency or a user extra" if lazy else "a runtime dependency"
            undeclared.append(
                f"{name} ({sorted(provided) or 'not installed'}), not {where}: {sorted(files)}"
            )
    assert undeclared == []


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    imported = {
        dist
        for name, _ in third_party([PACKAGE], {"perftest_operator"})
        for dist in distributions(name)
    }
    assert set(NOT_IMPORTED) <= RUNTIME, "an exemption for a dependency that is gone"
    assert sorted(RUNTIME - imported - set(NOT_IMPORTED)) == []


def test_every_user_extra_is_imported_only_inside_functions() -> None:
    """A user extra may be absent: the package must import without it."""
    found = third_party([PACKAGE], {"perftest_operator"})
    eager = {name for name, lazy in found if not lazy}
    lazy = {name for name, lazy in found if lazy}
    for extra, dists in EXTRAS.items():
        if extra in DEVELOPER_EXTRAS:
            continue
        for dist in dists - RUNTIME:
            importing = {name for name in eager | lazy if dist in distributions(name)}
            assert importing, f"extra {extra}: {dist} is imported nowhere"
            assert not importing & eager, f"extra {extra}: {dist} imported at module level"


def test_tests_and_tools_import_only_declared_distributions() -> None:
    roots = [REPO / "tests", REPO / "hack"]
    found = third_party(roots, local_modules(*roots) | {"perftest_operator"})
    assert found, "the scan found no third-party import at all"
    undeclared = sorted(
        f"{name} ({sorted(distributions(name)) or 'not installed'}): {sorted(files)[:3]}"
        for (name, _), files in found.items()
        if name not in OWN_ENVIRONMENTS and not distributions(name) & ALL_DECLARED
    )
    assert undeclared == []
