"""Download a kube-burner(-ocp) release binary and check it: used by Containerfile.runner (I/O).

    python3 fetch_release.py PROJECT VERSION SHA256 [--base-url URL] [--arch ARCH] [--into DIR]

kube-burner and kube-burner-ocp publish GoReleaser archives named
``<project>-<Title of the tag>-linux-<arch>.tar.gz`` (the tag v1.7.3 gives V1.7.3; amd64 is
x86_64) with a ``<project>-checksums.txt`` beside them (kube-burner/kube-burner-ocp
``.goreleaser.yml`` at v1.7.3 3ae6efe, kube-burner/kube-burner ``.goreleaser.yml`` at v1.17.2
2d99d9b). The archive must have the SHA256 the build was given, which pins the binary; the
release's own checksums file must agree too, so a typo in the pinned value cannot go unnoticed.
Standard library only: the build stage has Python and nothing else.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import pathlib
import platform
import re
import sys
import tarfile
import urllib.request

RELEASES = "https://github.com/kube-burner/{project}/releases/download/{version}"
_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class FetchError(Exception):
    pass


def archive_name(project: str, version: str, arch: str) -> str:
    """GoReleaser's name: ``{{ .ProjectName }}-{{ title .Tag }}-{{ .Os }}-<arch>.tar.gz``."""
    return f"{project}-{version[:1].upper()}{version[1:]}-linux-{arch}.tar.gz"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        data: bytes = response.read()
        return data


def check_archive(data: bytes, name: str, expected: str, checksums: str) -> None:
    """Raise FetchError unless ``data`` has the pinned SHA256 and the release lists the same."""
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise FetchError(f"the pinned SHA256 of {name} must be 64 hex digits, got {expected!r}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise FetchError(f"{name}: SHA256 {actual} is not the pinned {expected}")
    listed = {
        parts[1].lstrip("*"): parts[0]
        for parts in (line.split() for line in checksums.splitlines())
        if len(parts) == 2
    }
    if listed.get(name) != actual:
        raise FetchError(f"{name}: the release's checksums file lists {listed.get(name)!r}")


def extract_binary(data: bytes, project: str, into: pathlib.Path) -> pathlib.Path:
    """The executable ``project`` from the archive's top level, written into ``into``."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = next((m for m in archive.getmembers() if m.name == project and m.isfile()), None)
        if member is None:
            raise FetchError(f"the archive has no file {project!r} at its top level")
        source = archive.extractfile(member)
        assert source is not None
        into.mkdir(parents=True, exist_ok=True)
        target = into / project
        target.write_bytes(source.read())
    target.chmod(0o755)
    return target


def fetch(
    project: str, version: str, expected: str, *, base_url: str, arch: str, into: pathlib.Path
) -> pathlib.Path:
    base = base_url.format(project=project, version=version).rstrip("/")
    name = archive_name(project, version, arch)
    data = _get(f"{base}/{name}")
    checksums = _get(f"{base}/{project}-checksums.txt").decode("utf-8", "replace")
    check_archive(data, name, expected, checksums)
    return extract_binary(data, project, into)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", choices=["kube-burner", "kube-burner-ocp"])
    parser.add_argument("version")
    parser.add_argument("sha256")
    parser.add_argument("--base-url", default=RELEASES)
    parser.add_argument("--arch", default=platform.machine())
    parser.add_argument("--into", type=pathlib.Path, default=pathlib.Path("bin"))
    args = parser.parse_args(argv)
    arch = _ARCHES.get(args.arch)
    if arch is None:
        print(f"fetch_release: no release for architecture {args.arch}", file=sys.stderr)
        return 1
    try:
        path = fetch(
            args.project,
            args.version,
            args.sha256.strip().lower(),
            base_url=args.base_url,
            arch=arch,
            into=args.into,
        )
    except (FetchError, OSError) as exc:
        print(f"fetch_release: {exc}", file=sys.stderr)
        return 1
    print(f"fetch_release: {path} ({args.project} {args.version}, {arch}) verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
