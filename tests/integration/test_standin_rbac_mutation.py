"""Every rule of each workload's generated ClusterRole is needed: without it, a run is refused.

For each runnable workload of the pinned contract, the command lines the operator renders
(plain, churn with each strategy, the measurements the role also covers) run through the
kube-burner-ocp stand-in with the full role: nothing refused. Then, for each rule of the role
(``runner.rbac.workload_rules``), the run that made a request the rule grants runs again with
that one rule removed: at least one request must be refused (403), and when the contract says
such a refusal ends kube-burner (onError exit1, notFoundOk, retried), the run must end non-zero.
What a previous run leaves (a namespace labelled with the job, the image-preload namespace,
cluster-scoped and fixed-namespace objects with the job's label) is seeded before each run, so
that the clean-up's lists and deletions, and a namespace create answered 409, happen. A rule no
run exercises fails the test: a rule the contract asks for but no run needs is a finding.

One emulator for the module; the stand-in runs in this process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from standin_support import (
    StandInRun,
    StandInRunner,
    argv_for,
    openshift_runner,
    seed_leftovers,
    skip_unless_emulated,
    variants,
)

from perftest_operator.contract.calls import active_jobs, resolve_flags
from perftest_operator.contract.load import load_contract
from perftest_operator.contract.model import OnError
from perftest_operator.runner.rbac import Rule, workload_calls, workload_rules

CONTRACT = load_contract()
RUNNABLE = [name for name, w in CONTRACT.workloads.items() if w.refused is None]
# Refusals after which kube-burner does not end with 0 (exit1, a 404-only tolerance, or retries
# that end in a failed verification or the global timeout).
ENDING = frozenset({OnError.EXIT, OnError.NOT_FOUND_OK, OnError.RETRIED})


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInRunner]:
    yield from openshift_runner(tmp_path_factory.mktemp("mutation"), CONTRACT)


def grants(rule: Rule, request: Mapping[str, Any]) -> bool:
    """The RBAC authorizer's match of one rule against a journaled request."""
    if request.get("nonResource") or rule.api_group != request["group"]:
        return False
    if request["resource"] not in rule.resources or request["verb"] not in rule.verbs:
        return False
    return not rule.resource_names or request["name"] in rule.resource_names


def ends_the_run(workload: str, request: Mapping[str, Any]) -> bool:
    """Whether every call of the contract this request can be ends kube-burner when refused."""
    matching = [
        call
        for call in workload_calls(CONTRACT, workload)
        if (call.verb, call.group, call.resource)
        == (request["verb"], request["group"], request["resource"])
        and (call.name is None or call.in_workload_namespaces or call.name == request["name"])
    ]
    return bool(matching) and all(call.on_error in ENDING for call in matching)


def run_variant(
    runner: StandInRunner, workload: str, spec: Mapping[str, Any], namespace: str
) -> StandInRun:
    argv = argv_for(spec)
    flags = resolve_flags(CONTRACT, workload, argv[2:])
    for job in active_jobs(CONTRACT.workloads[workload], flags):
        seed_leftovers(runner, job.name, job.active_objects(flags))
    return runner.run(argv, namespace=namespace)


def rule_text(rule: Rule) -> str:
    names = f" {list(rule.resource_names)}" if rule.resource_names else ""
    return f"{rule.api_group or 'core'} {list(rule.resources)} {list(rule.verbs)}{names}"


@pytest.mark.parametrize("workload", RUNNABLE)
def test_removing_any_rule_of_the_workloads_role_gets_a_request_refused(
    runner: StandInRunner, workload: str
) -> None:
    skip_unless_emulated(runner.cluster)
    rules = workload_rules(CONTRACT, workload)
    namespace = runner.account(workload)
    full: dict[str, tuple[dict[str, Any], StandInRun]] = {}
    for label, spec in variants(CONTRACT, workload):
        run = run_variant(runner, workload, spec, namespace)
        assert run.denied == () and run.rc == 0, (
            label,
            run.denied,
            run.stdout[-2000:] + run.stderr,
        )
        full[label] = (spec, run)

    # Each rule is tried with the cheapest command line whose run made a request it grants.
    chosen: dict[Rule, str] = {}
    for rule in rules:
        using = [
            label for label, (_, run) in full.items() if any(grants(rule, r) for r in run.requests)
        ]
        if using:
            chosen[rule] = min(using, key=lambda label: len(full[label][1].requests))
    unexercised = [rule_text(rule) for rule in rules if rule not in chosen]
    assert unexercised == [], f"{workload}: no run needs {unexercised}"

    report = []
    undetected = []
    for rule in rules:
        label = chosen[rule]
        runner.account(workload, rules=[r for r in rules if r != rule])
        run = run_variant(runner, workload, full[label][0], namespace)
        if not run.denied:
            undetected.append(rule_text(rule))
            continue
        fatal = [d for d in run.denied if ends_the_run(workload, d)]
        if fatal:
            assert run.rc != 0, (
                f"{workload} without {rule_text(rule)}: {fatal[0]} refused, yet rc 0"
            )
        report.append(
            (rule_text(rule), label, run.rc, f"{run.denied[0]['verb']} {run.denied[0]['resource']}")
        )
    runner.account(workload)
    print(
        f"\n{workload}: {len(rules)} rules, default run {len(full['default'][1].requests)} requests"
    )
    for line in report:
        print("   removed", *line)
    assert undetected == [], f"{workload}: removing {undetected} refused nothing"
