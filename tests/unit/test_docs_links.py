"""The docs point at what exists: repository paths in backticks, relative links and their
anchors; the README's PerfTest parses and its test command is the one CI runs."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from perftest_operator.api.spec import parse_perftest_spec

REPO = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = REPO / "operator" / "perftest_operator"
README = REPO / "README.md"
DOCS = sorted(
    [README, REPO / "CONTRIBUTING.md", REPO / "CHANGELOG.md", *(REPO / "docs").glob("*.md")]
)
# Paths in backticks that start with one of these are this repository's: the top-level folders,
# and the package's subpackages (written relative to the package, as the docs do).
ROOTS = {".ci", "charts", "crds", "docs", "hack", "manifests", "operator", "tests"}
SUBPACKAGES = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
# A path, optionally with a glob; placeholders such as <name> are not paths.
PATH = re.compile(r"[\w.-]+(/[\w.*-]+)+/?")
# A module named alone (`tail.py`, as analysis.md names them) is one of this repository's.
MODULE = re.compile(r"\w+\.py")
MODULE_FOLDERS = ("operator", "hack", "tests")


def _code_spans(text: str) -> list[str]:
    """Inline code spans outside fenced blocks."""
    prose = re.sub(r"(?ms)^```.*?^```", "", text)
    return re.findall(r"`([^`\n]+)`", prose)


def _resolves(path: str) -> bool:
    if MODULE.fullmatch(path):
        return any(any((REPO / folder).rglob(path)) for folder in MODULE_FOLDERS)
    first = path.split("/", 1)[0]
    base = REPO if first in ROOTS else PACKAGE
    return any(base.glob(path.rstrip("/"))) if "*" in path else (base / path).exists()


def repository_paths(doc: pathlib.Path) -> list[str]:
    spans = [span.split()[0] for span in _code_spans(doc.read_text()) if span.split()]
    return [
        span
        for span in spans
        if (PATH.fullmatch(span) and span.split("/", 1)[0] in ROOTS | SUBPACKAGES)
        or MODULE.fullmatch(span)
    ]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(doc: pathlib.Path) -> set[str]:
    prose = re.sub(r"(?ms)^```.*?^```", "", doc.read_text())
    return {anchor(h) for h in re.findall(r"(?m)^#+ (.+)$", prose)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_repository_path_named_in_a_doc_exists(doc: pathlib.Path) -> None:
    missing = [path for path in repository_paths(doc) if not _resolves(path)]

    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_relative_link_and_anchor_exists(doc: pathlib.Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        file, _, fragment = target.partition("#")
        linked = (doc.parent / file).resolve() if file else doc
        if not linked.exists() or (fragment and fragment not in anchors(linked)):
            broken.append(target)

    assert broken == []


def test_the_readme_perftest_is_one_the_operator_accepts() -> None:
    blocks = re.findall(r"(?ms)^```yaml\n(.*?)^```", README.read_text())
    perftests = [doc for doc in map(yaml.safe_load, blocks) if doc.get("kind") == "PerfTest"]

    assert len(perftests) == 1
    spec = parse_perftest_spec(perftests[0]["spec"])
    assert spec.workload.name == "cluster-density-v2"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    commands = re.findall(r"(?m)^(make \w+)\s+#", README.read_text())
    ci = (REPO / ".ci" / "run").read_text().split()

    assert commands == ["make demo", "make test"]
    assert ci[-2:] == ["make", "test"]
