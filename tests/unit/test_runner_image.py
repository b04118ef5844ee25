"""The runner image (Containerfile.runner, read, not built: no container runtime here) and its
download helper, run for real against archives served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from containerfiles import copied_sources, final_stage, ignore_patterns, ignored, instructions
from local_server import serving
from shipping import REPO

from perftest_operator.contract.load import PINNED_VERSION, load_contract
from perftest_operator.runner.command import ENTRYPOINT

RUNNER = REPO / "Containerfile.runner"
FETCH = REPO / "hack" / "runner" / "fetch_release.py"
CONTRACT = load_contract()


def args_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for keyword, rest in steps:
        if keyword == "ARG":
            name, _, value = rest.partition("=")
            found[name] = value
    return found


def test_the_runner_carries_the_pinned_versions_of_the_contract() -> None:
    declared = args_of(instructions(RUNNER))
    assert declared["KUBE_BURNER_OCP_VERSION"] == PINNED_VERSION == CONTRACT.version
    # kube-burner for custom configurations: the library kube-burner-ocp embeds (go.mod).
    assert declared["KUBE_BURNER_VERSION"] == CONTRACT.library_version == CONTRACT.custom.version
    # No checksum is pinned in the file: the build must be given them.
    assert declared["KUBE_BURNER_OCP_SHA256"] == "" and declared["KUBE_BURNER_SHA256"] == ""
    assert declared["PYTHON_IMAGE"] == args_of(instructions())["PYTHON_IMAGE"]


def test_the_runner_runs_the_entry_point_as_a_non_root_user() -> None:
    stage = final_stage(RUNNER)
    (user,) = [rest for keyword, rest in stage if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit()  # numeric: runAsNonRoot checks it
    (entrypoint,) = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == list(ENTRYPOINT)  # what the Job's command names
    (workdir,) = [rest for keyword, rest in stage if keyword == "WORKDIR"]
    assert workdir == "/kube-burner"  # the Job's writable emptyDir


def test_the_build_context_holds_what_the_runner_copies() -> None:
    patterns = ignore_patterns()
    sources = copied_sources(RUNNER)
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored(source.rstrip("/"), patterns), source


def test_the_entry_point_needs_nothing_but_what_the_image_copies(tmp_path: Path) -> None:
    """Only perftest_operator/__init__.py and burnerjob/ are in the image: with them alone and
    no site-packages, the entry point imports and runs."""
    package = REPO / "operator" / "perftest_operator"
    image = tmp_path / "opt" / "perftest_operator"
    image.mkdir(parents=True)
    shutil.copy(package / "__init__.py", image / "__init__.py")
    shutil.copytree(package / "burnerjob", image / "burnerjob")
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c",
         f"import sys; sys.path.insert(0, {str(tmp_path / 'opt')!r}); "
         "sys.argv = ['x', '/bin/true']; from perftest_operator.burnerjob.entrypoint import main; "
         "sys.exit(main())"],
        capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path,
        env={"PERFTEST_TERMINATION_LOG": str(tmp_path / "termination-log")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "termination-log").read_text())["exitCode"] == 0


# --- fetch_release.py: the download, checked ------------------------------------------------------


def archive(binary: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in ((binary, content), ("LICENSE", b"Apache-2.0")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@contextlib.contextmanager
def release_server(files: dict[str, bytes]) -> Iterator[str]:
    """GitHub's release downloads, played on 127.0.0.1: /<version>/<file>."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            body = files.get(name)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_: object) -> None:
            pass

    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        yield f"http://127.0.0.1:{server.server_port}/{{version}}"


@functools.cache
def released() -> tuple[str, bytes, str]:
    """kube-burner-ocp's archive as GoReleaser names it (the contract's release), and its sha."""
    name = CONTRACT.release.archive.format(arch="x86_64")
    data = archive(CONTRACT.release.binary, b"#!/bin/sh\necho kube-burner-ocp\n")
    return name, data, hashlib.sha256(data).hexdigest()


def fetch(tmp_path: Path, base: str, sha: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FETCH), "kube-burner-ocp", CONTRACT.version, sha,
         "--base-url", base, "--arch", "x86_64", "--into", str(tmp_path / "bin")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_the_archive_name_is_goreleasers() -> None:
    name, _, _ = released()
    assert name == "kube-burner-ocp-V1.7.3-linux-x86_64.tar.gz"  # {{ title .Tag }} of v1.7.3


def test_a_release_with_the_pinned_sha_is_installed(tmp_path: Path) -> None:
    name, data, sha = released()
    checksums = f"{sha}  {name}\n{'0' * 64}  other.tar.gz\n".encode()
    with release_server({name: data, CONTRACT.release.checksums: checksums}) as base:
        done = fetch(tmp_path, base, sha)
    assert done.returncode == 0, done.stderr
    binary = tmp_path / "bin" / CONTRACT.release.binary
    assert binary.read_bytes().startswith(b"#!/bin/sh") and binary.stat().st_mode & 0o111


@pytest.mark.parametrize(
    ("pinned", "listed", "words"),
    [
        ("f" * 64, None, "is not the pinned"),  # the archive is not the one pinned
        (None, "e" * 64, "checksums file lists"),  # the release disagrees with the pin
        ("abc", None, "must be 64 hex digits"),  # no pin at all, or a typo
    ],
)
def test_a_release_that_does_not_match_is_refused(
    tmp_path: Path, pinned: str | None, listed: str | None, words: str
) -> None:
    name, data, sha = released()
    checksums = f"{listed or sha}  {name}\n".encode()
    with release_server({name: data, CONTRACT.release.checksums: checksums}) as base:
        done = fetch(tmp_path, base, pinned or sha)
    assert done.returncode == 1
    assert words in done.stderr
    assert not (tmp_path / "bin").exists()


def test_one_runner_image_reference_for_makefile_manifests_and_chart() -> None:
    import yaml

    from perftest_operator.api.settings import DEFAULT_RUNNER_IMAGE

    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    (make_image,) = re.findall(r"^RUNNER_IMAGE \?= (\S+)$", makefile, flags=re.MULTILINE)
    deployment = yaml.safe_load((REPO / "manifests" / "base" / "deployment.yaml").read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    values = yaml.safe_load((REPO / "charts" / "perftest-operator" / "values.yaml").read_text())
    runner = values["runner"]["image"]
    assert (
        make_image
        == DEFAULT_RUNNER_IMAGE
        == env["PERFTEST_RUNNER_IMAGE"]
        == f"{runner['repository']}:{runner['tag']}"
    )
