"""A target's kubeconfig (from its Secret) checked and reduced to what a client needs (pure).

The kubeconfig comes from a user's Secret and is read inside the operator's pod, so anything
that would run a command (``exec``, ``auth-provider``) or read a file there
(``certificate-authority``, ``client-certificate``, ``client-key``, ``tokenFile``) is refused,
as are fields this parser does not know (a future one might do either). Credentials are
inline data only: a bearer token and/or a client certificate and key. Every error is a
``TargetConfigInvalid`` whose message names the field and the cluster/user/context entry at
fault and never quotes a value; ``TargetConnection``'s repr redacts its secrets.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from perftest_operator.api.errors import TargetConfigInvalid

# Fields refused with the reason each would be dangerous or unusable in the operator's pod.
_REFUSED_CLUSTER_FIELDS = {
    "certificate-authority": "reads a file in the operator's pod; use certificate-authority-data",
}
_REFUSED_USER_FIELDS = {
    "exec": "runs a command in the operator's pod; use a ServiceAccount token or client "
    "certificate data",
    "auth-provider": "runs a provider plugin in the operator's pod; use a ServiceAccount token "
    "or client certificate data",
    "client-certificate": "reads a file in the operator's pod; use client-certificate-data",
    "client-key": "reads a file in the operator's pod; use client-key-data",
    "tokenFile": "reads a file in the operator's pod; use token",
    "username": "basic authentication is not supported; use a token or client certificate",
    "password": "basic authentication is not supported; use a token or client certificate",
    "as": "impersonation is not supported; give the identity's own credentials",
    "as-uid": "impersonation is not supported; give the identity's own credentials",
    "as-groups": "impersonation is not supported; give the identity's own credentials",
    "as-user-extra": "impersonation is not supported; give the identity's own credentials",
}
_CLUSTER_FIELDS = frozenset(
    {
        "server",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "tls-server-name",
        "proxy-url",
        "disable-compression",
        "extensions",
    }
)
_USER_FIELDS = frozenset({"token", "client-certificate-data", "client-key-data", "extensions"})
# A field name is quoted in a message only when it looks like one (a misplaced secret won't).
_FIELD_NAME = re.compile(r"^[a-z][a-zA-Z-]{0,39}$")
_PEM_BEGIN = b"-----BEGIN "
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, repr=False)
class TargetConnection:
    """How to reach and authenticate to a target's API server; repr never shows a secret."""

    server: str
    context: str
    cluster_name: str
    user_name: str
    namespace: str | None = None
    certificate_authority: bytes | None = None  # PEM
    client_certificate: bytes | None = None  # PEM
    client_key: bytes | None = None  # PEM
    token: str | None = None
    tls_server_name: str | None = None
    insecure_skip_tls_verify: bool = False
    proxy_url: str | None = None

    def __repr__(self) -> str:
        def shown(value: object) -> str:
            return "None" if value is None else "<redacted>"

        return (
            f"TargetConnection(server={self.server!r}, context={self.context!r}, "
            f"cluster_name={self.cluster_name!r}, user_name={self.user_name!r}, "
            f"namespace={self.namespace!r}, "
            f"certificate_authority={shown(self.certificate_authority)}, "
            f"client_certificate={shown(self.client_certificate)}, "
            f"client_key={shown(self.client_key)}, token={shown(self.token)}, "
            f"tls_server_name={self.tls_server_name!r}, "
            f"insecure_skip_tls_verify={self.insecure_skip_tls_verify!r}, "
            f"proxy_url={self.proxy_url!r})"
        )

    __str__ = __repr__


def _field_name(key: Any) -> str:
    return repr(key) if isinstance(key, str) and _FIELD_NAME.match(key) else "an unknown field"


def _load(text: str) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise TargetConfigInvalid(f"the kubeconfig is not valid YAML{where}") from None
    except yaml.YAMLError:
        raise TargetConfigInvalid("the kubeconfig is not valid YAML") from None
    if not isinstance(document, Mapping):
        raise TargetConfigInvalid("the kubeconfig must be a YAML mapping (kind: Config)")
    return document


def _named_entries(document: Mapping[str, Any], section: str, inner: str) -> dict[str, Any]:
    """``{name: body}`` of a kubeconfig list such as ``clusters`` (``- name: x / cluster: {..}``)."""
    items = document.get(section) or []
    if not isinstance(items, list):
        raise TargetConfigInvalid(f"{section} must be a list")
    entries: dict[str, Any] = {}
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise TargetConfigInvalid(f"{section}[{index}] has no name")
        if name in entries:
            raise TargetConfigInvalid(f"{section} has more than one entry named {name!r}")
        body = item.get(inner)
        if not isinstance(body, Mapping):
            raise TargetConfigInvalid(f"{section} entry {name!r} has no {inner!r} mapping")
        entries[name] = body
    return entries


def _check_fields(
    body: Mapping[str, Any], kind: str, name: str, known: frozenset[str], refused: dict[str, str]
) -> None:
    for key in body:
        if key in refused:
            if body[key] in (None, "", {}, []):
                continue  # an empty field asks for nothing
            raise TargetConfigInvalid(f"{kind} {name!r}: {key} {refused[key]}")
        if key not in known:
            raise TargetConfigInvalid(f"{kind} {name!r}: {_field_name(key)} is not supported")


def _optional_text(body: Mapping[str, Any], key: str, kind: str, name: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TargetConfigInvalid(f"{kind} {name!r}: {key} must be a string")
    return value.strip() or None


def _pem_data(body: Mapping[str, Any], key: str, kind: str, name: str) -> bytes | None:
    encoded = _optional_text(body, key, kind, name)
    if encoded is None:
        return None
    try:
        decoded = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise TargetConfigInvalid(f"{kind} {name!r}: {key} is not valid base64") from None
    if _PEM_BEGIN not in decoded:
        raise TargetConfigInvalid(f"{kind} {name!r}: {key} does not hold PEM data")
    return decoded


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(value: str, key: str, name: str) -> str:
    try:
        parsed = urllib.parse.urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise TargetConfigInvalid(f"cluster {name!r}: {key} is not a URL") from None
    try:
        host, _ = parsed.hostname, parsed.port
    except ValueError:
        raise TargetConfigInvalid(f"cluster {name!r}: {key} has an invalid port") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise TargetConfigInvalid(f"cluster {name!r}: {key} is not an http(s) URL with a host")
    if parsed.username is not None or parsed.password is not None:
        raise TargetConfigInvalid(f"cluster {name!r}: {key} must not carry credentials")
    return value.rstrip("/")


def _context_name(document: Mapping[str, Any], context: str | None) -> str:
    if context is not None:
        return context
    current = document.get("current-context")
    if not isinstance(current, str) or not current:
        raise TargetConfigInvalid("the kubeconfig has no current-context")
    return current


def parse_target_kubeconfig(text: str, *, context: str | None = None) -> TargetConnection:
    """The connection that the kubeconfig's ``context`` (default: current-context) describes.

    Raises ``TargetConfigInvalid`` (a ``SpecError`` on ``spec.target.kubeconfigSecretRef``)
    for YAML that does not parse, a missing context/cluster/user, a refused or unknown field,
    undecodable certificate data, a user without credentials, a CA together with
    ``insecure-skip-tls-verify``, and plain http to anything but a loopback address (a token
    would cross the network in clear). A purely computational function with no side effects.
    """
    document = _load(text)
    clusters = _named_entries(document, "clusters", "cluster")
    users = _named_entries(document, "users", "user")
    contexts = _named_entries(document, "contexts", "context")
    context_name = _context_name(document, context)
    if context_name not in contexts:
        raise TargetConfigInvalid(f"context {context_name!r} not found in the kubeconfig")
    chosen = contexts[context_name]
    cluster_name, user_name = chosen.get("cluster"), chosen.get("user")
    if not isinstance(cluster_name, str) or not cluster_name:
        raise TargetConfigInvalid(f"context {context_name!r} names no cluster")
    if not isinstance(user_name, str) or not user_name:
        raise TargetConfigInvalid(f"context {context_name!r} names no user")
    if cluster_name not in clusters:
        raise TargetConfigInvalid(
            f"cluster {cluster_name!r} (of context {context_name!r}) not found in the kubeconfig"
        )
    if user_name not in users:
        raise TargetConfigInvalid(
            f"user {user_name!r} (of context {context_name!r}) not found in the kubeconfig"
        )
    cluster, user = clusters[cluster_name], users[user_name]
    _check_fields(cluster, "cluster", cluster_name, _CLUSTER_FIELDS, _REFUSED_CLUSTER_FIELDS)
    _check_fields(user, "user", user_name, _USER_FIELDS, _REFUSED_USER_FIELDS)

    server_text = _optional_text(cluster, "server", "cluster", cluster_name)
    if server_text is None:
        raise TargetConfigInvalid(f"cluster {cluster_name!r} has no server")
    server = _url(server_text, "server", cluster_name)
    proxy_text = _optional_text(cluster, "proxy-url", "cluster", cluster_name)
    insecure = cluster.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise TargetConfigInvalid(
            f"cluster {cluster_name!r}: insecure-skip-tls-verify must be true or false"
        )
    ca = _pem_data(cluster, "certificate-authority-data", "cluster", cluster_name)
    if insecure and ca is not None:
        raise TargetConfigInvalid(
            f"cluster {cluster_name!r}: certificate-authority-data and "
            "insecure-skip-tls-verify together (verify with the CA, or ask for no verification)"
        )
    token = _optional_text(user, "token", "user", user_name)
    certificate = _pem_data(user, "client-certificate-data", "user", user_name)
    key = _pem_data(user, "client-key-data", "user", user_name)
    if (certificate is None) != (key is None):
        raise TargetConfigInvalid(
            f"user {user_name!r}: client-certificate-data and client-key-data go together"
        )
    if token is None and certificate is None:
        raise TargetConfigInvalid(f"user {user_name!r} has no token and no client certificate data")
    host = urllib.parse.urlsplit(server).hostname or ""
    if server.startswith("http://") and not _is_loopback(host):
        raise TargetConfigInvalid(
            f"cluster {cluster_name!r}: server uses plain http to a non-loopback host; use https"
        )
    namespace = chosen.get("namespace")
    return TargetConnection(
        server=server,
        context=context_name,
        cluster_name=cluster_name,
        user_name=user_name,
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        certificate_authority=ca,
        client_certificate=certificate,
        client_key=key,
        token=token,
        tls_server_name=_optional_text(cluster, "tls-server-name", "cluster", cluster_name),
        insecure_skip_tls_verify=insecure,
        proxy_url=None if proxy_text is None else _url(proxy_text, "proxy-url", cluster_name),
    )
