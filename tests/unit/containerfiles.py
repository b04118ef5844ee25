"""Containerfiles as the tests read them (not built: CI has no container runtime) and the build
context .containerignore leaves; for test_containerfile (the operator's image) and
test_runner_image (the runner's)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from shipping import REPO

CONTAINERFILE = REPO / "Containerfile"


def instructions(containerfile: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", containerfile.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(containerfile: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    steps = instructions(containerfile)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves `path` out (.containerignore: the last pattern that
    matches the path or one of its folders wins)."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        for candidate in candidates:
            if fnmatch.fnmatch(candidate, body) or fnmatch.fnmatch(
                candidate, body.removeprefix("**/")
            ):
                result = not negated
                break
    return result


def ignore_patterns() -> list[str]:
    """The patterns of .containerignore, in order."""
    return [
        line.strip()
        for line in (REPO / ".containerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def copied_sources(containerfile: Path = CONTAINERFILE) -> list[str]:
    """What the Containerfile's COPY instructions take from the build context, in order."""
    return [
        source
        for keyword, rest in instructions(containerfile)
        if keyword == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
    ]
