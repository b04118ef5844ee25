"""Target kubeconfigs: what is accepted, what is refused, and that no secret reaches a message or repr."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
import yaml

from perftest_operator.api.errors import SpecError, TargetConfigInvalid
from perftest_operator.target.kubeconfig import TargetConnection, parse_target_kubeconfig

# Recognisable secrets planted in every kubeconfig: none may appear in an error or a repr.
TOKEN = "sha256~PLANTEDTOKEN0123456789abcdefSECRET"
CA_PEM = b"-----BEGIN CERTIFICATE-----\nPLANTEDCAcertificateBODY0123\n-----END CERTIFICATE-----\n"
CERT_PEM = b"-----BEGIN CERTIFICATE-----\nPLANTEDCLIENTcertBODY4567\n-----END CERTIFICATE-----\n"
KEY_PEM = b"-----BEGIN RSA PRIVATE KEY-----\nPLANTEDKEYbody89AB\n-----END RSA PRIVATE KEY-----\n"
PLANTED = (
    "abcdefSECRET",
    "PLANTEDTOKEN",
    "PLANTEDCA",
    "PLANTEDCLIENT",
    "PLANTEDKEY",
    "PLANTEDPASSWORD",
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ENCODED = tuple(b64(pem) for pem in (CA_PEM, CERT_PEM, KEY_PEM))


def kubeconfig(
    cluster: dict[str, Any] | None = None, user: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "perf",
        "clusters": [
            {
                "name": "target",
                "cluster": cluster
                if cluster is not None
                else {
                    "server": "https://api.perf.example.com:6443",
                    "certificate-authority-data": b64(CA_PEM),
                },
            },
            {"name": "other", "cluster": {"server": "https://api.other.example.com:6443"}},
        ],
        "users": [
            {"name": "burner", "user": user if user is not None else {"token": TOKEN}},
            {"name": "other-user", "user": {"token": "other-token"}},
        ],
        "contexts": [
            {
                "name": "perf",
                "context": {"cluster": "target", "user": "burner", "namespace": "perf"},
            },
            {"name": "other", "context": {"cluster": "other", "user": "other-user"}},
        ],
    }


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config)


def refused(text: str, **kwargs: Any) -> TargetConfigInvalid:
    with pytest.raises(TargetConfigInvalid) as caught:
        parse_target_kubeconfig(text, **kwargs)
    exc = caught.value
    shown = f"{exc} {exc!r} {exc.problem} {exc.args}"
    for secret in (*PLANTED, *ENCODED, TOKEN):
        assert secret not in shown
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__  # no chained YAML/base64 error
    return exc


def test_token_kubeconfig_gives_server_ca_and_token_of_the_current_context() -> None:
    connection = parse_target_kubeconfig(dump(kubeconfig()))
    assert connection.server == "https://api.perf.example.com:6443"
    assert connection.certificate_authority == CA_PEM
    assert connection.token == TOKEN
    assert (connection.client_certificate, connection.client_key) == (None, None)
    assert (connection.context, connection.cluster_name, connection.user_name) == (
        "perf",
        "target",
        "burner",
    )
    assert connection.namespace == "perf"
    assert connection.insecure_skip_tls_verify is False


def test_client_certificate_kubeconfig_with_tls_server_name() -> None:
    cluster = {
        "server": "https://10.0.0.1:6443/",
        "certificate-authority-data": b64(CA_PEM),
        "tls-server-name": "api.perf.example.com",
    }
    user = {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)}
    connection = parse_target_kubeconfig(dump(kubeconfig(cluster, user)))
    assert connection.server == "https://10.0.0.1:6443"
    assert connection.client_certificate == CERT_PEM
    assert connection.client_key == KEY_PEM
    assert connection.token is None
    assert connection.tls_server_name == "api.perf.example.com"


def test_an_explicit_context_overrides_current_context() -> None:
    connection = parse_target_kubeconfig(dump(kubeconfig()), context="other")
    assert connection.server == "https://api.other.example.com:6443"
    assert connection.namespace is None


def test_insecure_skip_verify_is_carried_when_asked() -> None:
    config = kubeconfig(
        {"server": "https://api.perf.example.com:6443", "insecure-skip-tls-verify": True}
    )
    assert parse_target_kubeconfig(dump(config)).insecure_skip_tls_verify is True


def test_plain_http_is_accepted_only_for_loopback() -> None:
    for server in ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"):
        assert parse_target_kubeconfig(dump(kubeconfig({"server": server}))).server == server
    exc = refused(dump(kubeconfig({"server": "http://api.perf.example.com:8080"})))
    assert "plain http" in exc.problem


def test_repr_and_str_redact_every_secret() -> None:
    user = {
        "token": TOKEN,
        "client-certificate-data": b64(CERT_PEM),
        "client-key-data": b64(KEY_PEM),
    }
    connection = parse_target_kubeconfig(dump(kubeconfig(user=user)))
    for shown in (repr(connection), str(connection), f"{connection}", repr([connection])):
        for secret in (*PLANTED, TOKEN):
            assert secret not in shown
        assert "token=<redacted>" in shown
        assert "client_key=<redacted>" in shown
        assert "https://api.perf.example.com:6443" in shown


def test_connections_differ_when_only_the_token_differs() -> None:
    first = parse_target_kubeconfig(dump(kubeconfig()))
    second = parse_target_kubeconfig(dump(kubeconfig(user={"token": TOKEN + "x"})))
    assert first != second
    assert first == parse_target_kubeconfig(dump(kubeconfig()))
    assert isinstance(first, TargetConnection)


REFUSED_USER_FIELDS = {
    "exec": {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "aws",
            "args": ["eks", "get-token", "PLANTEDTOKEN"],
        }
    },
    "auth-provider": {
        "auth-provider": {
            "name": "oidc",
            "config": {"id-token": TOKEN, "refresh-token": "PLANTEDTOKEN2"},
        }
    },
    "client-certificate": {
        "client-certificate": "/etc/PLANTEDCLIENT.crt",
        "client-key-data": b64(KEY_PEM),
    },
    "client-key": {"client-key": "/etc/PLANTEDKEY.key", "client-certificate-data": b64(CERT_PEM)},
    "tokenFile": {"tokenFile": "/var/run/PLANTEDTOKEN"},
    "username": {"username": "admin", "token": TOKEN},
    "password": {"password": "PLANTEDPASSWORD", "token": TOKEN},
    "as": {"token": TOKEN, "as": "system:admin"},
}


@pytest.mark.parametrize("field", REFUSED_USER_FIELDS)
def test_user_fields_that_run_commands_or_read_files_are_refused(field: str) -> None:
    exc = refused(dump(kubeconfig(user=REFUSED_USER_FIELDS[field])))
    assert exc.field == "spec.target.kubeconfigSecretRef"
    assert isinstance(exc, SpecError)
    assert f"user 'burner': {field} " in exc.problem


def test_a_file_reference_for_the_ca_is_refused() -> None:
    exc = refused(
        dump(
            kubeconfig(
                {"server": "https://api:6443", "certificate-authority": "/etc/PLANTEDCA.crt"}
            )
        )
    )
    assert "cluster 'target': certificate-authority reads a file" in exc.problem


def test_an_empty_refused_field_asks_for_nothing() -> None:
    connection = parse_target_kubeconfig(
        dump(kubeconfig(user={"token": TOKEN, "exec": None, "tokenFile": ""}))
    )
    assert connection.token == TOKEN


def test_unknown_fields_are_refused_without_quoting_a_secret_looking_name() -> None:
    assert (
        "'future-plugin' is not supported"
        in refused(dump(kubeconfig(user={"token": TOKEN, "future-plugin": 1}))).problem
    )
    exc = refused(dump(kubeconfig(user={"token": TOKEN, TOKEN: "misplaced"})))
    assert "an unknown field is not supported" in exc.problem


def test_yaml_errors_say_where_but_not_what() -> None:
    text = f"apiVersion: v1\nusers:\n- name: burner\n  user:\n    token: {TOKEN}: x\n"
    with pytest.raises(yaml.YAMLError) as raw:
        yaml.safe_load(text)
    assert "abcdefSECRET" in str(raw.value)  # PyYAML's own message quotes the line
    exc = refused(text)
    assert exc.problem == "the kubeconfig is not valid YAML (line 5, column 53)"
    assert "must be a YAML mapping" in refused(f"- {TOKEN}\n").problem


CONTEXT_ERRORS: dict[str, tuple[Any, str]] = {
    "no current-context": (
        lambda c: c.pop("current-context"),
        "the kubeconfig has no current-context",
    ),
    "missing context": (
        lambda c: c.update({"current-context": "nope"}),
        "context 'nope' not found",
    ),
    "missing cluster": (
        lambda c: c["clusters"].pop(0),
        "cluster 'target' (of context 'perf') not found",
    ),
    "missing user": (lambda c: c["users"].pop(0), "user 'burner' (of context 'perf') not found"),
    "context without user": (
        lambda c: c["contexts"][0]["context"].pop("user"),
        "context 'perf' names no user",
    ),
    "duplicate cluster": (
        lambda c: c["clusters"].append(copy.deepcopy(c["clusters"][0])),
        "more than one entry named 'target'",
    ),
    "clusters not a list": (
        lambda c: c.update({"clusters": {"target": {}}}),
        "clusters must be a list",
    ),
    "entry without name": (lambda c: c["users"][0].pop("name"), "users[0] has no name"),
    "entry without body": (
        lambda c: c["clusters"][0].pop("cluster"),
        "clusters entry 'target' has no 'cluster' mapping",
    ),
}


@pytest.mark.parametrize("name", CONTEXT_ERRORS)
def test_context_cluster_and_user_resolution_errors(name: str) -> None:
    change, message = CONTEXT_ERRORS[name]
    config = kubeconfig()
    change(config)
    assert message in refused(dump(config)).problem


CLUSTER_AND_USER_ERRORS: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, str]] = {
    "no server": (
        {"certificate-authority-data": b64(CA_PEM)},
        None,
        "cluster 'target' has no server",
    ),
    "not a URL": ({"server": "api.example.com:6443"}, None, "server is not an http(s) URL"),
    "bad port": ({"server": "https://api.example.com:99999"}, None, "server has an invalid port"),
    "credentials in the URL": (
        {"server": "https://admin:PLANTEDPASSWORD@api.example.com"},
        None,
        "must not carry credentials",
    ),
    "credentials in the proxy URL": (
        {"server": "https://api:6443", "proxy-url": "http://u:PLANTEDPASSWORD@proxy:3128"},
        None,
        "proxy-url must not carry credentials",
    ),
    "CA not base64": (
        {"server": "https://api:6443", "certificate-authority-data": "PLANTEDCA!!"},
        None,
        "certificate-authority-data is not valid base64",
    ),
    "CA not PEM": (
        {"server": "https://api:6443", "certificate-authority-data": b64(b"PLANTEDCA not pem")},
        None,
        "does not hold PEM data",
    ),
    "CA and insecure": (
        {
            "server": "https://api:6443",
            "certificate-authority-data": b64(CA_PEM),
            "insecure-skip-tls-verify": True,
        },
        None,
        "insecure-skip-tls-verify together",
    ),
    "insecure not a bool": (
        {"server": "https://api:6443", "insecure-skip-tls-verify": "yes"},
        None,
        "must be true or false",
    ),
    "certificate without key": (None, {"client-certificate-data": b64(CERT_PEM)}, "go together"),
    "key without certificate": (None, {"client-key-data": b64(KEY_PEM)}, "go together"),
    "no credentials": (None, {}, "user 'burner' has no token and no client certificate data"),
    "token not a string": (None, {"token": 12345}, "user 'burner': token must be a string"),
}


@pytest.mark.parametrize("name", CLUSTER_AND_USER_ERRORS)
def test_cluster_and_user_errors_name_the_problem(name: str) -> None:
    cluster, user, message = CLUSTER_AND_USER_ERRORS[name]
    assert message in refused(dump(kubeconfig(cluster, user))).problem
