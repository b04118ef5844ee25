"""Plays the kubelet for a Job's pod: runs its container as a local process (I/O).

``SimulatedKubelet.run`` does what the kubelet would do with the pod of a kube-burner Job, as
far as the test needs it:

- mints a token for the pod's ServiceAccount (``spec.serviceAccountName``, else ``default``)
  through the TokenRequest API, with the administrator's client, as the kubelet's projected
  service-account token; writes it, and the CA when the server speaks HTTPS, where the pod reads
  them (``/var/run/secrets/kubernetes.io/serviceaccount``);
- makes a directory stand for the container's filesystem (its path is the container's
  ``$KUBE_BURNER_STANDIN_ROOT``; a process cannot mount volumes): emptyDir volumes become
  directories, ConfigMap volumes their files;
- puts wrapper scripts on the PATH for what the runner image carries: ``kube-burner-ocp`` and
  ``kube-burner`` run the stand-in (``localstack.kube_burner_standin``), ``python3`` this
  interpreter (which has perftest_operator);
- runs the container's command and args (``python3 -m perftest_operator.burnerjob
  kube-burner-ocp ...``, the runner image's real entry point) in its working directory, with
  its environment, the API's address (``KUBERNETES_SERVICE_HOST``/``PORT``), the scenario the
  test asks for (``standin_outputs.scenario_env``) and ``PERFTEST_TERMINATION_LOG`` pointing at
  the file that stands for the termination message path;
- returns the exit code and the termination message: the file's content, or with
  ``FallbackToLogsOnError`` and a failed container the end of its output (the last 2048 bytes
  or 80 lines; Kubernetes docs, "Customizing the termination message"), and what the stand-in
  journaled (every request, the denied ones).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Mapping
from typing import Any

import kubernetes

from localstack.openshift_seed import request
from localstack.standin_client import JOURNAL_FILE, ROOT_ENV, SERVICE_ACCOUNT_DIR
from perftest_operator.burnerjob.entrypoint import TERMINATION_LOG_ENV

HACK = pathlib.Path(__file__).resolve().parent.parent  # the directory holding `localstack`
TOKEN_SECONDS = 3600
CONTAINER_SECONDS = 300.0  # a stand-in run takes a second or two; this only ends a hung one
FALLBACK_BYTES = 2048
FALLBACK_LINES = 80
_WRAPPER = '#!/bin/sh\nexec "{python}" -m localstack.kube_burner_standin {tool} "$@"\n'


@dataclasses.dataclass(frozen=True)
class ContainerResult:
    exit_code: int
    message: str  # the termination message
    output: str  # stdout and stderr, interleaved
    requests: tuple[Mapping[str, Any], ...]  # what the stand-in journaled
    denied: tuple[Mapping[str, Any], ...]


def _executable(path: pathlib.Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _fallback(output: str) -> str:
    lines = output.splitlines()[-FALLBACK_LINES:]
    return "\n".join(lines).encode()[-FALLBACK_BYTES:].decode("utf-8", "replace")


class SimulatedKubelet:
    """Runs Job pods' containers for real, against the API ``api_client`` talks to."""

    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self.api_client = api_client

    def _token(self, namespace: str, account: str) -> str:
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
        status, body = request(
            self.api_client, "POST", path, {"spec": {"expirationSeconds": TOKEN_SECONDS}}
        )
        if status != 201:
            raise RuntimeError(
                f"cannot mint a token for ServiceAccount {namespace}/{account}: {status} {body}"
            )
        return str(body["status"]["token"])

    def _volumes(self, root: pathlib.Path, namespace: str, pod: Mapping[str, Any]) -> None:
        container = pod["containers"][0]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            directory = root / mount["mountPath"].lstrip("/")
            directory.mkdir(parents=True, exist_ok=True)
            config_map = (volumes.get(mount["name"]) or {}).get("configMap")
            if config_map:
                path = f"/api/v1/namespaces/{namespace}/configmaps/{config_map['name']}"
                status, body = request(self.api_client, "GET", path)
                if status != 200:
                    raise RuntimeError(f"cannot mount ConfigMap {config_map['name']}: {status}")
                for key, value in (body.get("data") or {}).items():
                    (directory / key).write_text(value)

    def run(
        self, namespace: str, pod: Mapping[str, Any], scenario: Mapping[str, str]
    ) -> ContainerResult:
        """Run the pod's (only) container to its end; ``scenario`` joins its environment."""
        container = pod["containers"][0]
        root = pathlib.Path(tempfile.mkdtemp(prefix="pod-"))
        try:
            accounts = root / SERVICE_ACCOUNT_DIR.lstrip("/")
            accounts.mkdir(parents=True)
            account = pod.get("serviceAccountName") or "default"
            (accounts / "token").write_text(self._token(namespace, account))
            configuration = self.api_client.configuration
            server = urllib.parse.urlsplit(configuration.host)
            if server.scheme == "https" and configuration.ssl_ca_cert:
                shutil.copyfile(configuration.ssl_ca_cert, accounts / "ca.crt")
            self._volumes(root, namespace, pod)
            binaries = root / "usr" / "local" / "bin"
            binaries.mkdir(parents=True)
            for tool in ("kube-burner-ocp", "kube-burner"):
                _executable(binaries / tool, _WRAPPER.format(python=sys.executable, tool=tool))
            _executable(binaries / "python3", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
            workdir = root / (container.get("workingDir") or "/").lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
            termination = root / (
                container.get("terminationMessagePath") or "/dev/termination-log"
            ).lstrip("/")
            termination.parent.mkdir(parents=True, exist_ok=True)
            env = {
                item["name"]: str(item.get("value", ""))
                for item in container.get("env") or []
                if "value" in item
            }
            env.update(
                {
                    "PATH": f"{binaries}:/usr/bin:/bin",
                    "PYTHONPATH": str(HACK),
                    "KUBERNETES_SERVICE_HOST": server.hostname or "127.0.0.1",
                    "KUBERNETES_SERVICE_PORT": str(server.port or 443),
                    ROOT_ENV: str(root),
                    TERMINATION_LOG_ENV: str(termination),
                    **scenario,
                }
            )
            process = subprocess.run(
                [*(container.get("command") or []), *(container.get("args") or [])],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=CONTAINER_SECONDS,
                check=False,
            )
            message = termination.read_text() if termination.exists() else ""
            fallback = container.get("terminationMessagePolicy") == "FallbackToLogsOnError"
            if not message and process.returncode != 0 and fallback:
                message = _fallback(process.stdout)
            journal_path = workdir / JOURNAL_FILE
            journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
            return ContainerResult(
                # killed by a signal: the runtime reports 128 + the signal
                exit_code=128 - process.returncode
                if process.returncode < 0
                else process.returncode,
                message=message,
                output=process.stdout,
                requests=tuple(journal.get("requests") or ()),
                denied=tuple(journal.get("denied") or ()),
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
