"""The contract with kube-burner-ocp v1.7.3: its data holds together, flags resolve as pflag does,
and a run's calls follow the flags."""

from __future__ import annotations

import pathlib
import re

import pytest

import perftest_operator
from perftest_operator.contract.calls import FlagError, resolve_flags, run_calls
from perftest_operator.contract.load import PINNED_VERSION, load_contract
from perftest_operator.contract.model import Condition, OnError

CONTRACT = load_contract()
SOURCE = re.compile(r"^(KBO|KB|GCM|COBRA|PFLAG) \S")
ACCEPTED = [
    "cluster-density-v2",
    "cluster-density-ms",
    "crd-scale",
    "egressip",
    "udn-density-pods",
    "udn-bgp",
    "olm",
    "pvc-density",
    "rds-core",
    "network-policy",
    "whereabouts",
    "node-density",
    "node-density-cni",
    "node-density-heavy",
    "virt-density",
    "virt-capacity-benchmark",
    "web-burner-init",
    "web-burner-node-density",
    "web-burner-cluster-density",
]
OPERATOR_ARGS = ["--gc=true", "--alerting=false", "--local-indexing=true"]


def sources(value: object) -> list[str]:
    """Every `source` in a nested structure of dataclasses, tuples and mappings."""
    found: list[str] = []
    if hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            item = getattr(value, name)
            if name in ("source", "refused_source") and isinstance(item, str):
                found.append(item)
            else:
                found += sources(item)
    elif isinstance(value, tuple | list):
        for item in value:
            found += sources(item)
    elif hasattr(value, "values"):
        for item in value.values():
            found += sources(item)
    return found


PACKAGE = pathlib.Path(perftest_operator.__file__).parent


def test_every_fact_names_a_declared_source() -> None:
    """Upstream facts name a declared repository; the project's own configurations name their
    file in this package (their jobs and kinds are read from it)."""
    facts = sources(CONTRACT)
    assert len(facts) > 500
    own = [fact for fact in facts if fact.startswith("contract/workloads/")]
    assert own and all((PACKAGE / fact).is_file() for fact in own)
    bad = [fact for fact in facts if not SOURCE.match(fact) and fact not in own]
    assert bad == []
    used = {fact.split()[0] for fact in facts if fact not in own}
    assert used <= set(CONTRACT.sources)
    for ref in CONTRACT.sources.values():
        assert re.fullmatch(r"[0-9a-f]{40}", ref.commit)


def test_the_pinned_version_covers_every_accepted_workload() -> None:
    assert CONTRACT.version == PINNED_VERSION == "v1.7.3"
    assert set(CONTRACT.workloads) == set(ACCEPTED)
    for name, workload in CONTRACT.workloads.items():
        if workload.refused is None:
            assert workload.jobs, name
        else:
            assert workload.refused_source and not workload.jobs, name


@pytest.mark.parametrize(
    ("text", "flags", "expected"),
    [
        ("", {}, True),
        ("churn", {"churn": "true"}, True),
        ("churn", {"churn": "false"}, False),
        ("!churn", {"churn": "false"}, True),
        ("churn && layer3", {"churn": "true", "layer3": "false"}, False),
        ("churn && !layer3", {"churn": "true", "layer3": "false"}, True),
        ("churn-deletion-strategy=gvr", {"churn-deletion-strategy": "gvr"}, True),
        ("churn-deletion-strategy=gvr", {"churn-deletion-strategy": "default"}, False),
        ("metrics-endpoint=", {"metrics-endpoint": ""}, True),
        ("metrics-endpoint!=", {"metrics-endpoint": "x.yml"}, True),
        ("pods-per-node>0", {"pods-per-node": "245"}, True),
        ("pods-per-node>0", {"pods-per-node": "0"}, False),
        ("missing", {}, False),
    ],
)
def test_conditions(text: str, flags: dict[str, str], expected: bool) -> None:
    assert Condition(text).holds(flags) is expected


def test_flags_resolve_as_pflag_parses_them() -> None:
    flags = resolve_flags(CONTRACT, "node-density", [])
    assert flags["pods-per-node"] == "245" and flags["churn"] == "false"
    assert flags["alerting"] == "true"  # kube-burner-ocp's own default (cmd/ocp.go:57)
    flags = resolve_flags(
        CONTRACT,
        "node-density",
        ["--churn", "--pods-per-node", "100", "--gc=false", "--gc=true", "positional"],
    )
    assert flags["churn"] == "true"  # a bare bool
    assert flags["pods-per-node"] == "100"  # `--flag value`
    assert flags["gc"] == "true"  # the last one wins


@pytest.mark.parametrize(
    ("workload", "arg", "message"),
    [
        ("node-density", "--iterations=3", "unknown flag: --iterations"),
        ("cluster-density-v2", "--container-image=x", "unknown flag: --container-image"),
        ("cluster-density-v2", "--check-healt=false", "unknown flag: --check-healt"),
        ("cluster-density-v2", "-x", "unknown shorthand flag: 'x' in -x"),
    ],
)
def test_an_unknown_flag_is_refused_in_pflags_words(workload: str, arg: str, message: str) -> None:
    with pytest.raises(FlagError) as caught:
        resolve_flags(CONTRACT, workload, [arg])
    assert str(caught.value) == message


def calls_of(workload: str, *args: str) -> list[tuple[str, str, str]]:
    flags = resolve_flags(CONTRACT, workload, [*OPERATOR_ARGS, *args])
    return [(c.verb, c.group, c.resource) for c in run_calls(CONTRACT, workload, flags)]


def test_alerting_off_makes_no_prometheus_token() -> None:
    token = ("create", "", "serviceaccounts/token")
    assert token not in calls_of("cluster-density-v2")
    flags = resolve_flags(CONTRACT, "cluster-density-v2", ["--gc=true"])  # alerting on
    assert token in [
        (c.verb, c.group, c.resource) for c in run_calls(CONTRACT, "cluster-density-v2", flags)
    ]


def test_the_health_check_reads_cluster_operators_unless_switched_off() -> None:
    operators = ("list", "config.openshift.io", "clusteroperators")
    assert operators in calls_of("node-density")
    assert operators not in calls_of("node-density", "--check-health=false")


def test_churn_adds_namespace_patches_and_gvr_per_kind_deletes() -> None:
    patch = ("patch", "", "namespaces")
    assert patch not in calls_of("cluster-density-v2", "--churn=false")
    assert patch in calls_of("cluster-density-v2", "--churn=true")
    secrets_delete = ("delete", "", "secrets")
    assert secrets_delete not in calls_of("cluster-density-v2", "--churn=true")
    assert secrets_delete in calls_of(
        "cluster-density-v2", "--churn=true", "--churn-deletion-strategy=gvr"
    )


def test_a_run_creates_what_its_jobs_hold_and_deletes_it() -> None:
    calls = calls_of("cluster-density-v2", "--churn=false")
    for resource in ("imagestreams", "builds", "routes", "deployments", "networkpolicies"):
        assert any(v == "create" and r == resource for v, _, r in calls), resource
    assert ("delete", "", "namespaces") in calls
    crd = calls_of("crd-scale")
    # Cluster-scoped objects are deleted one by one; no namespace is created.
    assert ("delete", "apiextensions.k8s.io", "customresourcedefinitions") in crd
    assert ("create", "", "namespaces") not in crd


def test_on_error_follows_kube_burner() -> None:
    flags = resolve_flags(CONTRACT, "node-density", OPERATOR_ARGS)
    calls = run_calls(CONTRACT, "node-density", flags)
    by_call = {(c.phase, c.verb, c.resource): c.on_error for c in calls}
    assert by_call[("namespaces", "create", "namespaces")] is OnError.EXIT
    assert by_call[("create", "create", "pods")] is OnError.RETRIED
    assert by_call[("startup", "get", "infrastructures")] is OnError.IGNORED


def test_every_call_is_an_rbac_verb_on_a_resource() -> None:
    verbs = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
    for name, workload in CONTRACT.workloads.items():
        if workload.refused is not None:
            continue
        for args in ([], ["--churn=true", "--churn-deletion-strategy=gvr"]):
            try:
                flags = resolve_flags(CONTRACT, name, [*OPERATOR_ARGS, *args])
            except FlagError:
                continue  # no churn flags
            for call in run_calls(CONTRACT, name, flags):
                assert call.verb in verbs, (name, call)
                assert call.resource and call.resource == call.resource.lower(), (name, call)
