"""Prometheus credentials of a PerfTest: token and CA from Secrets, the CA file removed afterwards."""

from __future__ import annotations

import os
import pathlib
from typing import Any, cast

import pytest

from perftest_operator.api.errors import SpecError
from perftest_operator.api.settings import Settings
from perftest_operator.api.spec import parse_perftest_spec
from perftest_operator.controller.context import Context
from perftest_operator.controller.prometheus import prometheus_client, read_token

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class SecretsOnly:
    """Answers Secret reads from a dict, as KubeApi.read_secret_key does."""

    def __init__(self, secrets: dict[tuple[str, str, str], str]) -> None:
        self.secrets = secrets

    def read_secret_key(self, namespace: str, name: str, key: str) -> str | None:
        return self.secrets.get((namespace, name, key))


def context(secrets: dict[tuple[str, str, str], str]) -> Context:
    return Context(api=cast(Any, SecretsOnly(secrets)), settings=Settings())


def spec(**prometheus: Any) -> Any:
    return parse_perftest_spec(
        {
            "workload": {"name": "node-density"},
            "prometheus": {"url": "https://thanos:9091", **prometheus},
        }
    )


def test_token_from_secret_is_stripped() -> None:
    ctx = context({("perf", "prom", "token"): "  s3cret\n"})
    assert (
        read_token(ctx, "perf", spec(bearerTokenSecretRef={"name": "prom", "key": "token"}))
        == "s3cret"
    )
    assert read_token(ctx, "perf", spec()) is None


def test_missing_token_secret_names_the_field_not_the_value() -> None:
    with pytest.raises(SpecError) as caught:
        read_token(context({}), "perf", spec(bearerTokenSecretRef={"name": "prom", "key": "token"}))
    assert caught.value.field == "spec.prometheus.bearerTokenSecretRef"


def test_ca_from_secret_is_a_private_file_only_while_the_client_is_used() -> None:
    ctx = context({("perf", "ca", "ca.crt"): CA})
    with prometheus_client(
        ctx, "perf", spec(caSecretRef={"name": "ca", "key": "ca.crt"})
    ) as client:
        path = client._session.verify
        assert isinstance(path, str) and os.path.isfile(path)
        assert pathlib.Path(path).read_text(encoding="utf-8") == CA
        assert os.stat(path).st_mode & 0o077 == 0
    assert not os.path.exists(path)


def test_missing_ca_secret_is_an_error_naming_the_field() -> None:
    with (
        pytest.raises(SpecError) as caught,
        prometheus_client(context({}), "perf", spec(caSecretRef={"name": "ca", "key": "ca.crt"})),
    ):
        pass
    assert caught.value.field == "spec.prometheus.caSecretRef"
