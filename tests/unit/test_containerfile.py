"""The Containerfile (read, not built: CI has no container runtime) and the one image reference."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from typing import Any

from containerfiles import copied_sources, final_stage, ignore_patterns, ignored, instructions
from shipping import CHART, MANIFESTS, REPO, kustomize, the_one

from perftest_operator.cli import build_parser


def test_final_stage_runs_perftest_run_as_a_non_root_user() -> None:
    stage = final_stage()
    (user,) = [rest for keyword, rest in stage if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid == "65532" and gid == "65532"  # numeric, so runAsNonRoot can check it
    (entrypoint,) = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    argv = json.loads(entrypoint)  # exec form: signals reach the operator (kopf stops on SIGTERM)
    assert (
        argv[0]
        in tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "scripts"
        ]
    )
    assert argv[:2] == ["perftest", "run"]
    assert build_parser().parse_args(argv[1:]).command == "run"


def test_image_is_slim_and_installs_the_package_from_the_repository() -> None:
    steps = instructions()
    (arg,) = [
        rest for keyword, rest in steps if keyword == "ARG" and rest.startswith("PYTHON_IMAGE=")
    ]
    base = arg.partition("=")[2]
    assert re.fullmatch(r"[\w./-]+/python:3\.1[1-9]-slim(-\w+)?", base), base
    # The package without extras, at the versions CI tested (tests/unit/test_constraints.py).
    assert any(
        keyword == "RUN" and "pip install --no-cache-dir -c constraints.txt ./" in rest
        for keyword, rest in steps
    )
    python = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert python["requires-python"] == ">=3.11"


def test_build_context_holds_what_the_copies_and_the_package_need() -> None:
    patterns = ignore_patterns()
    sources = copied_sources()
    assert sources == ["pyproject.toml", "README.md", "constraints.txt", "operator"]
    assert [s for s in sources if ignored(s, patterns)] == []
    # pyproject's readme is part of the build; the tests and the virtual environment are not.
    assert (
        tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["readme"]
        in sources
    )
    assert ignored(".venv", patterns) and ignored("tests", patterns) and ignored(".git", patterns)


def image_env() -> dict[str, str]:
    (env,) = [rest for keyword, rest in final_stage() if keyword == "ENV"]
    return dict(re.findall(r"(\w+)=(\S+)", env))


def test_kopf_can_name_itself_under_a_uid_without_a_passwd_entry() -> None:
    """kopf names itself with getpass.getuser(), which fails for a UID that /etc/passwd lacks
    (65532 here, any UID on OpenShift) unless USER (or LOGNAME) is set, as the image does."""
    probe = (
        "import os, pwd\n"
        "def missing(uid): raise KeyError(uid)\n"
        "pwd.getpwuid = missing\n"
        "from kopf._core.engines.peering import detect_own_id\n"
        "print(detect_own_id(manual=False))\n"
    )
    base_env = {"PATH": "/usr/bin:/bin"}

    def identity(env: dict[str, str]) -> Any:
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
        )

    without = identity(base_env)
    assert without.returncode != 0 and "KeyError" in without.stderr
    with_image_env = identity({**base_env, "USER": image_env()["USER"]})
    assert with_image_env.returncode == 0, with_image_env.stderr
    assert with_image_env.stdout.startswith(image_env()["USER"] + "@")


def test_one_image_reference_for_makefile_manifests_and_chart() -> None:
    import yaml

    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    (make_image,) = re.findall(r"^IMAGE \?= (\S+)$", makefile, flags=re.MULTILINE)
    kustomization = yaml.safe_load((MANIFESTS / "base" / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))["image"]
    assert f"{image['newName']}:{image['newTag']}" == make_image
    assert f"{values['repository']}:{values['tag']}" == make_image
    (container,) = the_one(kustomize(MANIFESTS / "base"), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["image"] == make_image
