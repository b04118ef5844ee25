"""Hostile and invalid input that needs no operator: specs, names, kubeconfigs, query results."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perftest_operator.api.errors import MetricMissing, QueryError, SpecError, TargetConfigInvalid
from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime
from perftest_operator.api.perfrun import Trigger, build_perfrun, perfrun_name, perfrun_test_label
from perftest_operator.api.spec import PrometheusSettings, parse_perftest_spec
from perftest_operator.metrics.aggregate import aggregate
from perftest_operator.metrics.client import build_prometheus_client
from perftest_operator.metrics.window import MAX_SERIES, RunWindow, query_window
from perftest_operator.runner.manifests import RunRef, build_job
from perftest_operator.runner.names import label_value, run_resource_name
from perftest_operator.target.kubeconfig import parse_target_kubeconfig

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
PLANTED_PASSWORD = "planted-url-password-" + "c0ffee42"


def good_spec() -> dict[str, Any]:
    return {
        "target": {"platform": "AWS"},
        "workload": {"name": "cluster-density-v2", "iterations": 9},
        "prometheus": {"url": "http://127.0.0.1:9090", "step": "15s"},
        "metrics": [{"name": "readOnlyAPICallsLatency", "query": "up"}],
    }


def custom_spec() -> dict[str, Any]:
    spec = good_spec()
    spec["workload"] = {"configMapRef": {"name": "bench", "key": "config.yml"}}
    return spec


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`base` with the value at a dotted path replaced (digits index lists)."""
    *parents, last = path.split(".")
    node: Any = base
    for step in parents:
        node = node[int(step)] if step.isdigit() else node.setdefault(step, {})
    node[int(last) if last.isdigit() else last] = value
    return base


# (id, spec, the field the SpecError must name)
HOSTILE_SPECS: list[tuple[str, Any, str]] = [
    ("spec is a list", ["workload"], "spec"),
    ("target is a string", with_(good_spec(), "target", "AWS"), "spec.target"),
    ("workload is a list", with_(good_spec(), "workload", ["cluster-density-v2"]), "spec.workload"),
    ("metrics is a mapping", with_(good_spec(), "metrics", {"name": "x"}), "spec.metrics"),
    ("metric is a string", with_(good_spec(), "metrics", ["up"]), "spec.metrics[0]"),
    ("iterations is a bool", with_(good_spec(), "workload.iterations", True), "spec.workload.iterations"),
    ("iterations is a float", with_(good_spec(), "workload.iterations", 1.5), "spec.workload.iterations"),
    ("timeout of ten years", with_(good_spec(), "workload.timeout", "87600h"), "spec.workload.timeout"),
    ("timeout overflowing a float", with_(good_spec(), "workload.timeout", "9" * 400 + "h"), "spec.workload.timeout"),
    ("timeout as a number", with_(good_spec(), "workload.timeout", 3600), "spec.workload.timeout"),
    ("query timeout of two hours", with_(good_spec(), "prometheus.queryTimeout", "2h"), "spec.prometheus.queryTimeout"),
    ("step of a month", with_(good_spec(), "prometheus.step", "30d"), "spec.prometheus.step"),
    ("threshold NaN", with_(good_spec(), "metrics.0.threshold", math.nan), "spec.metrics[0].threshold"),
    ("threshold +Inf", with_(good_spec(), "metrics.0.threshold", math.inf), "spec.metrics[0].threshold"),
    ("unit is a mapping", with_(good_spec(), "metrics.0.unit", {"s": 1}), "spec.metrics[0].unit"),
    ("metric name injecting PromQL", with_(good_spec(), "metrics.0.name", 'a"} or vector(1)'), "spec.metrics[0].name"),
    ("url javascript:", with_(good_spec(), "prometheus.url", "javascript:alert(1)"), "spec.prometheus.url"),
    ("url with an unclosed IPv6 bracket", with_(good_spec(), "prometheus.url", "http://[::1"), "spec.prometheus.url"),
    ("url with a blank in the host", with_(good_spec(), "prometheus.url", "http://prom etheus:9090"), "spec.prometheus.url"),
    ("url with a password", with_(good_spec(), "prometheus.url", f"https://admin:{PLANTED_PASSWORD}@prom:9091"), "spec.prometheus.url"),
    ("extraArgs is a string", with_(good_spec(), "workload.extraArgs", "--gc=false"), "spec.workload.extraArgs"),
    ("extraArgs overrides --uuid", with_(good_spec(), "workload.extraArgs", ["--uuid=other-run"]), "spec.workload.extraArgs[0]"),
    ("extraArgs --uuid as two words", with_(good_spec(), "workload.extraArgs", ["--gc=false", "--uuid", "x"]), "spec.workload.extraArgs[1]"),
    ("extraArgs --kubeconfig", with_(good_spec(), "workload.extraArgs", ["--kubeconfig=/root/.kube/config"]), "spec.workload.extraArgs[0]"),
    ("extraArgs --kube-context", with_(good_spec(), "workload.extraArgs", ["--kube-context=prod"]), "spec.workload.extraArgs[0]"),
    ("extraArgs --timeout past the Job's deadline", with_(good_spec(), "workload.extraArgs", ["--timeout=99999h"]), "spec.workload.extraArgs[0]"),
    ("extraArgs reads the service account token", with_(good_spec(), "workload.extraArgs", ["--metrics-profile=/var/run/secrets/kubernetes.io/serviceaccount/token"]), "spec.workload.extraArgs[0]"),
    ("extraArgs climbs out of the config dir", with_(good_spec(), "workload.extraArgs", ["--user-metadata=/etc/kube-burner/../../etc/passwd"]), "spec.workload.extraArgs[0]"),
    ("extraArgs with a relative ..", with_(good_spec(), "workload.extraArgs", ["--user-metadata=../secrets/x"]), "spec.workload.extraArgs[0]"),
    ("extraArgs with a home path", with_(good_spec(), "workload.extraArgs", ["~/.kube/config"]), "spec.workload.extraArgs[0]"),
    ("extraArgs with a newline", with_(good_spec(), "workload.extraArgs", ["--log-level=debug\n--uuid=x"]), "spec.workload.extraArgs[0]"),
    ("extraArgs with a NUL", with_(good_spec(), "workload.extraArgs", ["--es-index=a\x00b"]), "spec.workload.extraArgs[0]"),
    ("extraArgs of 5000 characters", with_(good_spec(), "workload.extraArgs", ["--es-index=" + "a" * 5000]), "spec.workload.extraArgs[0]"),
    ("custom config swapped with --config", with_(custom_spec(), "workload.extraArgs", ["--config=/etc/passwd"]), "spec.workload.extraArgs[0]"),
    ("custom config swapped with -c", with_(custom_spec(), "workload.extraArgs", ["-c", "other.yml"]), "spec.workload.extraArgs[0]"),
    ("configMap key ..", with_(custom_spec(), "workload.configMapRef.key", ".."), "spec.workload.configMapRef.key"),
    ("configMap key ..data", with_(custom_spec(), "workload.configMapRef.key", "..data"), "spec.workload.configMapRef.key"),
    ("image with a second word", with_(good_spec(), "workload.image", "quay.io/x:1 --privileged"), "spec.workload.image"),
    ("cron minute 61", with_(good_spec(), "schedule", "61 2 * * *"), "spec.schedule"),
    ("cron February 31st", with_(good_spec(), "schedule", "0 0 31 2 *"), "spec.schedule"),
    ("cron step 0", with_(good_spec(), "schedule", "*/0 * * * *"), "spec.schedule"),
    ("cron with a time zone prefix", with_(good_spec(), "schedule", "TZ=UTC 0 2 * * *"), "spec.schedule"),
    ("cron @every", with_(good_spec(), "schedule", "@every 5m"), "spec.schedule"),
    ("time zone path traversal", with_(good_spec(), "timeZone", "../../etc/passwd"), "spec.timeZone"),
    ("namespace with a slash", with_(good_spec(), "target.namespace", "kube-system/x"), "spec.target.namespace"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "field"), [case[1:] for case in HOSTILE_SPECS], ids=[case[0] for case in HOSTILE_SPECS]
)
def test_hostile_spec_is_a_spec_error_naming_the_field(spec: Any, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_perftest_spec(spec)
    assert caught.value.field == field, str(caught.value)
    assert PLANTED_PASSWORD not in str(caught.value)


def test_the_good_specs_of_the_table_are_good() -> None:
    parse_perftest_spec(good_spec())
    parse_perftest_spec(custom_spec())


RUN = RunRef(test="api-latency", run="api-latency-1", uid="0b7c-uid", namespace="perf")


def container_of(spec: dict[str, Any]) -> dict[str, Any]:
    job = build_job(parse_perftest_spec(spec), RUN, image="runner:1", owner=None)
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


def test_shell_metacharacters_stay_one_literal_argument_and_no_shell_runs() -> None:
    hostile = "--es-index=$(rm -rf /);`id`|tee x&&y>z"
    container = container_of(with_(good_spec(), "workload.extraArgs", [hostile]))
    # The entry point execs the argv as it is (subprocess, no shell).
    assert container["command"] == ["python3", "-m", "perftest_operator.burnerjob"]
    assert container["args"][0] == "kube-burner-ocp"
    assert container["args"][-1] == hostile
    assert container["args"].count("--uuid=0b7c-uid") == 1


def test_files_under_the_mounted_config_and_work_dir_are_allowed() -> None:
    # Plain kube-burner init (custom configs) has --user-metadata and --user-data.
    args = ["--user-metadata=/etc/kube-burner/meta.yml", "--user-data=/kube-burner/data.yml"]
    container = container_of(with_(custom_spec(), "workload.extraArgs", args))
    assert container["args"][-2:] == args


def test_the_job_is_non_root_under_restricted_pod_security_and_carries_no_secret() -> None:
    job = build_job(parse_perftest_spec(good_spec()), RUN, image="runner:1", owner=None)
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsNonRoot"] is True
    assert not any("hostPath" in volume for volume in pod["volumes"])
    assert {"hostNetwork", "hostPID", "hostIPC"}.isdisjoint(pod)
    assert [e["name"] for e in container["env"]] == ["HOME"]
    assert not any("kubeconfig" in arg.lower() for arg in container["args"])
    with pytest.raises(ValueError, match="non-root"):
        build_job(
            parse_perftest_spec(good_spec()), RUN, image="runner:1", owner=None, run_as_user=0
        )


def test_tls_verification_is_on_unless_asked_off() -> None:
    default = build_prometheus_client(
        PrometheusSettings(url="https://prom:9091"), bearer_token=None, ca_file=None
    )
    assert default._session.verify is True
    parsed = parse_perftest_spec(good_spec()).prometheus
    assert parsed.insecure_skip_verify is False


# --- names ----------------------------------------------------------------------------------------

dns_labels = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
subdomains = (
    st.lists(dns_labels, min_size=1, max_size=8)
    .map(".".join)
    .map(lambda name: name[:253].rstrip(".-"))
    .filter(lambda name: bool(DNS_SUBDOMAIN.match(name)))
)


@settings(max_examples=300, deadline=None)
@given(subdomains, st.integers(min_value=1, max_value=10**6))
def test_every_valid_perftest_name_gives_valid_perfrun_job_and_label_names(
    name: str, number: int
) -> None:
    run = perfrun_name(name, number)
    assert len(run) <= 253 and DNS_SUBDOMAIN.match(run), run
    assert LABEL_VALUE.match(perfrun_test_label(name)) and len(perfrun_test_label(name)) <= 63
    for suffix in ("", "cm"):
        resource = run_resource_name(run, suffix)
        assert len(resource) <= 63 and DNS_LABEL.match(resource), resource
    assert LABEL_VALUE.match(label_value(run)) and len(label_value(run)) <= 63


@pytest.mark.parametrize(
    "name",
    [
        ("a" * 62 + ".") * 3 + "b" * 60,  # a dot where the PerfRun name is cut
        "a" * 243 + "-" + "b" * 9,  # a dash where the PerfRun name is cut
        "a" * 62 + "." + "b" * 100,  # a dot at the 63rd character of the label
        "a" * 62 + "-" + "b" * 100,  # a dash there
        "x" * 253,
    ],
)
def test_long_names_with_dots_and_dashes_at_the_cut_give_a_valid_perfrun(name: str) -> None:
    assert len(name) <= 253 and DNS_SUBDOMAIN.match(name)
    test = {"metadata": {"name": name, "namespace": "perf", "uid": "u-1", "generation": 1}}
    body = build_perfrun(test, 12, Trigger.CREATED, "created-1")
    run = body["metadata"]["name"]
    assert len(run) <= 253 and DNS_SUBDOMAIN.match(run), run
    for value in body["metadata"]["labels"].values():
        assert len(value) <= 63 and LABEL_VALUE.match(value), value
    job = build_job(
        parse_perftest_spec(good_spec()),
        RunRef(name, run, "u", "perf"),
        image="runner:1",
        owner=None,
    )
    assert DNS_LABEL.match(job["metadata"]["name"]) and len(job["metadata"]["name"]) <= 63
    for value in job["metadata"]["labels"].values():
        assert len(value) <= 63 and LABEL_VALUE.match(value), value


def test_distinct_long_names_keep_distinct_perfruns_and_jobs() -> None:
    first, second = "a" * 250 + "bbb", "a" * 250 + "ccc"
    assert perfrun_name(first, 1) != perfrun_name(second, 1)
    assert run_resource_name(perfrun_name(first, 1)) != run_resource_name(perfrun_name(second, 1))


# --- kubeconfigs ----------------------------------------------------------------------------------

PLANTED_TOKEN = "planted-kubeconfig-token-" + "5e1f0a9d"
PLANTED_KEY_MARK = "PLANTEDCLIENTKEY" + "9f2b"


def kubeconfig(user: str, cluster: str = "server: https://target.example:6443") -> str:
    return f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{{cluster}}}}}]
users: [{{name: u, user: {{{user}}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""


# (id, kubeconfig text, a phrase the message must hold)
HOSTILE_KUBECONFIGS: list[tuple[str, str, str]] = [
    ("exec plugin", kubeconfig(f"token: {PLANTED_TOKEN}, exec: {{command: /bin/sh, args: [-c, 'curl x']}}"), "exec runs a command"),
    ("auth-provider", kubeconfig(f"auth-provider: {{name: gcp, config: {{access-token: {PLANTED_TOKEN}}}}}"), "auth-provider runs"),
    ("tokenFile", kubeconfig("tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token"), "tokenFile reads a file"),
    ("client-key file", kubeconfig("client-certificate: /etc/pki/c.crt, client-key: /etc/pki/c.key"), "reads a file"),
    ("certificate-authority file", kubeconfig(f"token: {PLANTED_TOKEN}", "server: https://t:6443, certificate-authority: /etc/ca.crt"), "certificate-authority reads a file"),
    ("basic auth", kubeconfig(f"username: admin, password: {PLANTED_TOKEN}"), "basic authentication"),
    ("impersonation", kubeconfig(f"token: {PLANTED_TOKEN}, as: system:admin"), "impersonation"),
    ("a secret as a field name", kubeconfig(f"token: t, {PLANTED_TOKEN}: x"), "an unknown field"),
    ("python object tag", "!!python/object/apply:os.system ['id']", "not valid YAML"),
    ("not a mapping", f"- {PLANTED_TOKEN}", "YAML mapping"),
    ("server with credentials", kubeconfig(f"token: {PLANTED_TOKEN}", f"server: 'https://admin:{PLANTED_TOKEN}@t:6443'"), "must not carry credentials"),
    ("server with an unclosed IPv6 bracket", kubeconfig(f"token: {PLANTED_TOKEN}", "server: 'https://[::1'"), "not a URL"),
    ("token over plain http", kubeconfig(f"token: {PLANTED_TOKEN}", "server: 'http://target.example:6443'"), "plain http"),
    ("client certificate that is not PEM", kubeconfig(f"client-certificate-data: {PLANTED_KEY_MARK}, client-key-data: {PLANTED_KEY_MARK}"), "does not hold PEM data"),
    ("client key that is not base64", kubeconfig(f"client-key-data: '{PLANTED_KEY_MARK}!'"), "not valid base64"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "phrase"),
    [case[1:] for case in HOSTILE_KUBECONFIGS],
    ids=[case[0] for case in HOSTILE_KUBECONFIGS],
)
def test_hostile_kubeconfig_is_refused_without_quoting_a_secret(text: str, phrase: str) -> None:
    with pytest.raises(TargetConfigInvalid) as caught:
        parse_target_kubeconfig(text)
    message = str(caught.value)
    assert phrase in message, message
    assert PLANTED_TOKEN not in message and PLANTED_KEY_MARK not in message
    # No chained exception carries the kubeconfig's text into a traceback.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)
    ]
    with pytest.raises(TargetConfigInvalid):
        parse_target_kubeconfig("\n".join(lines) + "\ncurrent-context: x\n")


# --- query results --------------------------------------------------------------------------------


REDUCTIONS = list(itertools.product(OverTime, Aggregation))


def test_only_nan_and_inf_samples_are_a_missing_metric_not_a_number() -> None:
    series = [[(1.0, math.nan), (2.0, math.inf)], [(1.0, -math.inf)]]
    for over_time, aggregation in REDUCTIONS:
        with pytest.raises(MetricMissing, match="NaN or infinite"):
            aggregate(series, over_time, aggregation, metric="m")


@pytest.mark.parametrize(("over_time", "aggregation"), REDUCTIONS)
def test_values_near_the_float_limit_aggregate_to_a_finite_number(
    over_time: OverTime, aggregation: Aggregation
) -> None:
    big = 1.7e308
    # both stages meet sums beyond the float limit: within a series and across the series
    series = [[(1.0, big), (2.0, big), (3.0, -big), (4.0, big)], [(1.0, big), (2.0, big)]]
    value = aggregate(series, over_time, aggregation, metric="m")
    assert math.isfinite(value)
    assert -big <= value <= big
    both_big = [[(1.0, big), (2.0, big)], [(1.0, big)]]
    assert aggregate(both_big, over_time, aggregation, metric="m") == pytest.approx(big)


class _ManySeriesPrometheus:
    """Answers every range query with `count` one-sample series (a stand-in for the client)."""

    url = "http://127.0.0.1:9090"
    headers = {"Authorization": "Bearer " + PLANTED_TOKEN}

    def __init__(self, count: int) -> None:
        self.count = count

    def custom_query_range(self, **_: Any) -> list[dict[str, Any]]:
        return [{"metric": {"i": str(i)}, "values": [[1.0, "1"]]} for i in range(self.count)]


def test_a_query_returning_too_many_series_is_a_query_error() -> None:
    import datetime

    window = RunWindow(
        start=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        end=datetime.datetime(2025, 1, 1, 0, 20, tzinfo=datetime.UTC),
    )
    metric = MetricSpec(name="bareHistogram", query="apiserver_request_duration_seconds_bucket")
    fits = query_window(_ManySeriesPrometheus(MAX_SERIES), metric, window, 30.0)  # type: ignore[arg-type]
    assert fits.series_count == MAX_SERIES
    with pytest.raises(QueryError) as caught:
        query_window(_ManySeriesPrometheus(MAX_SERIES + 1), metric, window, 30.0)  # type: ignore[arg-type]
    assert f"{MAX_SERIES + 1} series" in str(caught.value)
    assert PLANTED_TOKEN not in str(caught.value)
