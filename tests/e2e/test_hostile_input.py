"""Hostile PerfTests and PerfRuns against the real operator: each answered cleanly, nothing leaks."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from localstack.jobs import JobScript, SimulatedJobController
from localstack.objects import GROUP, VERSION, Kube, wait_for
from localstack.prometheus import ReplayRun

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

GOOD = "api-latency"
# Recognisable secrets: a plain substring search finds any leak.
PROM_TOKEN = "planted-prometheus-token-" + "a41c77e0"
KUBECONFIG_TOKEN = "planted-hostile-kubeconfig-token-" + "3b9d02f6"
CLIENT_KEY_MARK = "PLANTEDCLIENTKEYMATERIAL" + "e4d1"
CA_KEY_MARK = "PLANTEDCAKEYMATERIAL" + "77ab"
URL_PASSWORD = "planted-url-password-" + "91fe"


def pem(kind: str, mark: str) -> str:
    return f"-----BEGIN {kind}-----\n{mark}\n-----END {kind}-----\n"


CLIENT_KEY_DATA = base64.b64encode(pem("PRIVATE KEY", CLIENT_KEY_MARK).encode()).decode()
PLANTED = (
    PROM_TOKEN,
    KUBECONFIG_TOKEN,
    CLIENT_KEY_MARK,
    CLIENT_KEY_DATA,
    CA_KEY_MARK,
    URL_PASSWORD,
)


def spec_of(prometheus_url: str, **changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "target": {"platform": "AWS"},
        "workload": {"name": "cluster-density-v2", "iterations": 9},
        "prometheus": {"url": prometheus_url, "step": "15s"},
        "analysis": {"minHistory": 5},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = spec
        for step in parents:
            node = node.setdefault(step, {})
        node[last] = value
    return spec


def kubeconfig(user: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "t", "cluster": {"server": "https://127.0.0.1:1"}}],
            "users": [{"name": "u", "user": dict(user)}],
            "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u"}}],
            "current-context": "t",
        }
    )


# Accepted by the schema, refused by the operator: (name, spec changes, reason, field named).
UNUSABLE: list[tuple[str, dict[str, Any], str, str]] = [
    ("timeout-of-ten-years", {"workload__timeout": "87600h"}, "InvalidSpec", "spec.workload.timeout"),
    ("timeout-overflowing", {"workload__timeout": "9" * 60 + "h"}, "InvalidSpec", "spec.workload.timeout"),
    ("query-timeout-hours", {"prometheus__queryTimeout": "3h"}, "InvalidSpec", "spec.prometheus.queryTimeout"),
    ("uuid-override", {"workload__extraArgs": ["--uuid=someone-else"]}, "InvalidSpec", "spec.workload.extraArgs[0]"),
    ("kubeconfig-flag", {"workload__extraArgs": ["--kubeconfig", "/tmp/x"]}, "InvalidSpec", "spec.workload.extraArgs[0]"),
    ("reads-sa-token", {"workload__extraArgs": ["--metrics-profile=/var/run/secrets/kubernetes.io/serviceaccount/token"]}, "InvalidSpec", "spec.workload.extraArgs[0]"),
    ("newline-in-args", {"workload__extraArgs": ["--log-level=info\n--uuid=x"]}, "InvalidSpec", "spec.workload.extraArgs[0]"),
    ("cron-february-31", {"schedule": "0 0 31 2 *"}, "InvalidSpec", "spec.schedule"),
    ("cron-minute-61", {"schedule": "61 * * * *"}, "InvalidSpec", "spec.schedule"),
    ("url-ipv6-unclosed", {"prometheus__url": "http://[::1"}, "InvalidSpec", "spec.prometheus.url"),
    ("configmap-key-dotdot", {"workload": {"configMapRef": {"name": "bench", "key": ".."}}}, "InvalidSpec", "spec.workload.configMapRef.key"),
    ("unknown-time-zone", {"timeZone": "Mars/Olympus_Mons"}, "InvalidSpec", "spec.timeZone"),
    ("kubeconfig-exec", {"target__kubeconfigSecretRef": {"name": "kc-exec", "key": "kubeconfig"}}, "TargetConfigInvalid", "exec"),
    ("kubeconfig-token-file", {"target__kubeconfigSecretRef": {"name": "kc-token-file", "key": "kubeconfig"}}, "TargetConfigInvalid", "tokenFile"),
    ("kubeconfig-key-file", {"target__kubeconfigSecretRef": {"name": "kc-key-file", "key": "kubeconfig"}}, "TargetConfigInvalid", "client-key"),
    ("kubeconfig-auth-provider", {"target__kubeconfigSecretRef": {"name": "kc-auth-provider", "key": "kubeconfig"}}, "TargetConfigInvalid", "auth-provider"),
    ("kubeconfig-secret-missing", {"target__kubeconfigSecretRef": {"name": "absent", "key": "kubeconfig"}}, "TargetSecretMissing", "absent"),
]  # fmt: skip

HOSTILE_KUBECONFIGS = {
    "kc-exec": kubeconfig(
        {
            "token": KUBECONFIG_TOKEN,
            "exec": {"command": "/bin/sh", "args": ["-c", "cat /etc/passwd"]},
        }
    ),
    "kc-token-file": kubeconfig(
        {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    ),
    "kc-key-file": kubeconfig(
        {"client-certificate-data": CLIENT_KEY_DATA, "client-key": "/etc/pki/tls/private/key.pem"}
    ),
    "kc-auth-provider": kubeconfig(
        {"auth-provider": {"name": "oidc", "config": {"id-token": KUBECONFIG_TOKEN}}}
    ),
}

# Usable specs whose runs must fail or wait with a named reason: (name, changes, run reason).
FAILING_RUNS: list[tuple[str, dict[str, Any], str]] = [
    ("promql-syntax", {"metrics": [{"name": "broken", "query": "rate(apiserver_request_total[5m"}]}, "InvalidQuery"),
    ("nan-and-inf", {"metrics": [{"name": "nan", "query": "0 / 0"}, {"name": "inf", "query": "1 / 0"}]}, "NoMetrics"),
]  # fmt: skip


def put_secret(kube: Kube, name: str, data: Mapping[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": kube.namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    kube.core.create_namespaced_secret(kube.namespace, body)


def create(kube: Kube, plural: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    kind = {"perftests": "PerfTest", "perfruns": "PerfRun"}[plural]
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name, "namespace": kube.namespace},
        "spec": spec,
    }
    result: dict[str, Any] = kube.custom.create_namespaced_custom_object(
        GROUP, VERSION, kube.namespace, plural, body
    )
    return result


def condition(obj: Mapping[str, Any] | None, type_: str) -> dict[str, Any] | None:
    found = [
        c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == type_
    ]
    return found[0] if found else None


def finished(kube: Kube, name: str) -> dict[str, Any] | None:
    run = kube.get("perfruns", name)
    return (
        run if ((run or {}).get("status") or {}).get("phase") in ("Succeeded", "Failed") else None
    )


def warning_events(kube: Kube, name: str, reason: str) -> list[Any]:
    return [
        e
        for e in kube.events()
        if e.involved_object.name == name and e.reason == reason and e.type == "Warning"
    ]


# --- rejected by the schema at create -------------------------------------------------------------

SCHEMA_REJECTS: list[tuple[str, str, dict[str, Any]]] = [
    ("iterations-10-to-the-12", "perftests", {"workload__iterations": 10**12}),
    ("iterations-a-string", "perftests", {"workload__iterations": "nine"}),
    ("threshold-nan-string", "perftests", {"metrics": [{"name": "m", "query": "up", "threshold": "NaN"}]}),
    ("timeout-not-a-duration", "perftests", {"workload__timeout": "forever"}),
    ("image-with-a-flag", "perftests", {"workload__image": "quay.io/x:1 --privileged"}),
    ("url-with-a-password", "perftests", {"prometheus__url": f"https://admin:{URL_PASSWORD}@127.0.0.1:9"}),
    ("extra-arg-5000-chars", "perftests", {"workload__extraArgs": ["--es-index=" + "a" * 5000]}),
    ("cron-four-fields", "perftests", {"schedule": "0 2 * *"}),
    ("unknown-platform", "perftests", {"target__platform": "OpenStack"}),
    ("no-workload", "perftests", {"workload": None}),
    ("run-without-test-name", "perfruns", {}),
    ("run-test-name-with-slash", "perfruns", {"testName": "../api-latency"}),
]  # fmt: skip


def test_schema_violations_are_refused_at_create_and_nothing_is_created(
    kube: Kube, prometheus_url: str
) -> None:
    for name, plural, changes in SCHEMA_REJECTS:
        if plural == "perftests":
            spec = spec_of(prometheus_url, **changes)
            spec = {k: v for k, v in spec.items() if v is not None}
        else:
            spec = changes
        with pytest.raises(ApiException) as caught:
            create(kube, plural, name, spec)
        assert caught.value.status == 422, (name, caught.value.status)
        assert kube.get(plural, name) is None, name
    too_long = "a" * 254
    with pytest.raises(ApiException) as caught:
        create(kube, "perftests", too_long, spec_of(prometheus_url))
    assert caught.value.status == 422
    with pytest.raises(ApiException) as caught:
        create(kube, "perftests", "Api.Latency", spec_of(prometheus_url))
    assert caught.value.status == 422
    assert (
        kube.custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, "perftests")[
            "items"
        ]
        == []
    )


# --- answered by the operator ---------------------------------------------------------------------


def long_name() -> str:
    """253 characters with a dot right where the PerfRun name is cut, and one at the 63rd."""
    name = "a" * 62 + "." + "b" * 180 + "." + "c" * 9
    assert len(name) == 253
    return name


def test_hostile_tests_and_runs_are_answered_cleanly_and_nothing_leaks(
    kube: Kube, replay: list[ReplayRun], prometheus_url: str, start_operator: Any
) -> None:
    for secret, text in HOSTILE_KUBECONFIGS.items():
        put_secret(kube, secret, {"kubeconfig": text})
    put_secret(kube, "prom-token", {"token": PROM_TOKEN})
    put_secret(kube, "ca-with-a-key", {"ca.crt": pem("PRIVATE KEY", CA_KEY_MARK)})
    # Every Job "runs" in the first replayed window, whatever its (possibly hashed) name.
    window = replay[0]

    def every_job(_: Mapping[str, Any]) -> JobScript:
        return JobScript(start=window.start, end=window.end)

    https_url = prometheus_url.replace("http://", "https://")
    with SimulatedJobController(kube.api_client, every_job, namespace=kube.namespace) as jobs:
        operator = start_operator(PERFTEST_TARGET_RETRY="1")
        for name, changes, _, _ in UNUSABLE:
            create(kube, "perftests", name, spec_of(prometheus_url, **changes))
        for name, changes, _ in FAILING_RUNS:
            create(kube, "perftests", name, spec_of(prometheus_url, **changes))
        create(
            kube,
            "perftests",
            "bad-ca",
            spec_of(https_url, prometheus__caSecretRef={"name": "ca-with-a-key", "key": "ca.crt"}),
        )
        create(kube, "perftests", long_name(), spec_of(prometheus_url))
        create(kube, "perfruns", "ghost-1", {"testName": "ghost"})
        create(
            kube,
            "perftests",
            GOOD,
            spec_of(
                prometheus_url,
                prometheus__bearerTokenSecretRef={"name": "prom-token", "key": "token"},
            ),
        )

        good = wait_for(lambda: finished(kube, f"{GOOD}-1"), timeout=60, what="the good run")
        assert good["status"]["phase"] == "Succeeded", good["status"].get("message")

        for name, _, reason, named in UNUSABLE:
            ready = wait_for(
                lambda name=name: condition(kube.get("perftests", name), "Ready"),
                timeout=30,
                what=f"{name}'s Ready condition",
            )
            assert (ready["status"], ready["reason"]) == ("False", reason), (name, ready)
            assert named in ready["message"], (name, ready["message"])
            events = warning_events(kube, name, reason)
            assert len(events) == 1 and named in events[0].message, (name, events)

        for name, _, reason in FAILING_RUNS:
            run = wait_for(
                lambda name=name: finished(kube, f"{name}-1"), timeout=60, what=f"{name}'s run"
            )
            assert (run["status"]["phase"], run["status"]["reason"]) == ("Failed", reason), name
            assert "values" not in run["status"] and "verdict" not in run["status"], name
            assert warning_events(kube, name, "RunFailed"), name

        # A "CA" that is a private key: TLS cannot be set up, found by the check before any run.
        bad_ca = wait_for(
            lambda: (
                (c := condition(kube.get("perftests", "bad-ca"), "Ready"))
                and c["status"] == "False"
                and c
            ),
            timeout=30,
            what="bad-ca's Ready condition",
        )
        assert bad_ca["reason"] == "PrometheusUnreachable", bad_ca
        assert "TLS verified against the CA of spec.prometheus.caSecretRef" in bad_ca["message"]
        assert len(warning_events(kube, "bad-ca", "PrometheusUnreachable")) == 1

        long_runs = wait_for(
            lambda: [
                r
                for r in kube.perfruns()
                if r["spec"]["testName"] == long_name() and finished(kube, r["metadata"]["name"])
            ],
            timeout=60,
            what="the long-named test's run",
        )
        [long_run] = long_runs
        assert long_run["status"]["phase"] == "Succeeded", long_run["status"].get("message")
        assert len(long_run["status"]["job"]["name"]) <= 63

        ghost = wait_for(lambda: finished(kube, "ghost-1"), timeout=30, what="the orphan run")
        assert (ghost["status"]["phase"], ghost["status"]["reason"]) == ("Failed", "TestNotFound")
        assert "ghost" in ghost["status"]["message"]
        assert warning_events(kube, "ghost-1", "RunFailed")

        # No run for what could not be used; the operator lives and still works.
        tests_without_runs = {name for name, *_ in UNUSABLE} | {"bad-ca"}
        assert not [r for r in kube.perfruns() if r["spec"]["testName"] in tests_without_runs]
        kube.annotate(GOOD, "perftest.dev/run-now", "after-the-hostile-ones")
        second = wait_for(lambda: finished(kube, f"{GOOD}-2"), timeout=60, what="a second run")
        assert second["status"]["phase"] == "Succeeded"
        assert operator._process is not None and operator._process.poll() is None
        assert not jobs.errors, jobs.errors

        # Everything the operator emitted: statuses, Events, its log (with any traceback).
        emitted = [
            json.dumps(kube.custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, p))
            for p in ("perftests", "perfruns")
        ]
        emitted += [f"{e.reason} {e.message}" for e in kube.events()]
        emitted += [json.dumps(kube.api_client.sanitize_for_serialization(j)) for j in kube.jobs()]
        emitted.append(operator.log_text())
        assert "Traceback" not in operator.log_text()
        for text in emitted:
            for secret in PLANTED:
                assert secret not in text, f"{secret[:12]}... leaked"

        # Deleting each object works at once: no finalizer is left to block it.
        names = [(p, o["metadata"]["name"]) for p in ("perfruns", "perftests") for o in
                 kube.custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, p)["items"]]  # fmt: skip
        for plural, name in names:
            kube.custom.delete_namespaced_custom_object(
                GROUP, VERSION, kube.namespace, plural, name
            )
        for plural, name in names:
            wait_for(
                lambda p=plural, n=name: kube.get(p, n) is None,
                timeout=10,
                what=f"{plural} {name[:40]} to be deleted",
            )
        assert operator._process.poll() is None
