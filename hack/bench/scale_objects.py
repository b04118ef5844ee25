"""Objects of the operator scale bench: PerfTests, cloned PerfRun histories, Job windows (pure).

The histories are clones of one PerfRun that the real operator finished in the warm-up, so they
carry whatever labels, annotations and finalizers the operator writes today; only the names,
the owner, the run number, the times and the metric values differ.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from localstack.prometheus import ReplayRun
from perftest_operator.api.perfrun import RUN_NUMBER_LABEL
from perftest_operator.api.settings import DEFAULT_JOB_SERVICE_ACCOUNT

TEMPLATE_NAMESPACE = "scale-warmup"
TEMPLATE_TEST = "scale-template"
WINDOW_SECONDS = 120
# A window, the 300 s lead-in of the next one's samples, and a scrape of slack.
WINDOW_STRIDE_SECONDS = WINDOW_SECONDS + 300 + 15
SEEDED_RUN_SPACING = datetime.timedelta(hours=6)
NOISE = 0.03  # relative standard deviation of the seeded and replayed metric values
_SERVER_FIELDS = ("resourceVersion", "managedFields", "creationTimestamp", "selfLink")


@dataclass(frozen=True)
class TestRef:
    namespace: str
    name: str
    uid: str


def test_refs(tests: int, namespaces: int, rng: random.Random) -> list[TestRef]:
    """`tests` PerfTests spread round-robin over `namespaces` namespaces (as teams would be)."""
    return [
        TestRef(
            namespace=f"scale-{index % namespaces:02d}",
            name=f"pt-{index:05d}",
            uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        for index in range(tests)
    ]


def time_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replay_windows(
    count: int, *, end: datetime.datetime, rng: random.Random, read_only: float, mutating: float
) -> list[ReplayRun]:
    """`count` Job windows in the past, oldest first, each with its own noisy KPI values."""
    first = end - datetime.timedelta(seconds=count * WINDOW_STRIDE_SECONDS)
    windows = []
    for index in range(count):
        start = first + datetime.timedelta(seconds=index * WINDOW_STRIDE_SECONDS)
        windows.append(
            ReplayRun(
                start=start,
                end=start + datetime.timedelta(seconds=WINDOW_SECONDS),
                read_only_api_calls_latency=read_only * (1 + NOISE * rng.gauss(0, 1)),
                mutating_api_calls_latency=mutating * (1 + NOISE * rng.gauss(0, 1)),
            )
        )
    return windows


def _replace_strings(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_strings(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace_strings(item, replacements) for key, item in value.items()}
    return value


def _without_server_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    clone = copy.deepcopy(dict(body))
    meta = clone["metadata"]
    for field in _SERVER_FIELDS:
        meta.pop(field, None)
    return clone


def clone_perftest(template: Mapping[str, Any], test: TestRef) -> dict[str, Any]:
    """The warm-up PerfTest as the operator left it (annotations, finalizers), renamed; no status,
    so that the operator's resume handler writes one and the bench can see it has."""
    clone = _without_server_fields(template)
    clone.pop("status", None)
    clone = _replace_strings(
        clone, [(TEMPLATE_TEST, test.name), (TEMPLATE_NAMESPACE, test.namespace)]
    )
    clone["metadata"].update(uid=test.uid, namespace=test.namespace, name=test.name)
    return clone


def clone_perfrun(
    template: Mapping[str, Any],
    test: TestRef,
    number: int,
    *,
    start: datetime.datetime,
    values: Mapping[str, float],
    rng: random.Random,
) -> dict[str, Any]:
    """The warm-up's finished PerfRun as run `number` of `test`, at `start`, with `values`."""
    template_run = template["metadata"]["name"]
    clone = _without_server_fields(template)
    clone = _replace_strings(
        clone,
        [
            (template_run, f"{test.name}-{number}"),
            (TEMPLATE_TEST, test.name),
            (TEMPLATE_NAMESPACE, test.namespace),
        ],
    )
    meta = clone["metadata"]
    meta["uid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    meta["creationTimestamp"] = time_text(start - datetime.timedelta(minutes=1))
    if RUN_NUMBER_LABEL in (meta.get("labels") or {}):
        meta["labels"][RUN_NUMBER_LABEL] = str(number)
    for reference in meta.get("ownerReferences") or []:
        if reference.get("kind") == "PerfTest":
            reference.update(name=test.name, uid=test.uid)
    status = clone.setdefault("status", {})
    end = start + datetime.timedelta(seconds=WINDOW_SECONDS)
    status.update(startTime=time_text(start), completionTime=time_text(end))
    status["values"] = dict(values)
    return clone


def noisy_values(base: Mapping[str, float], rng: random.Random) -> dict[str, float]:
    """One run's metric values around `base` (a plausible noisy nightly series)."""
    return {name: value * (1 + NOISE * rng.gauss(0, 1)) for name, value in base.items()}


def seed_lines(
    *,
    crds: list[dict[str, Any]],
    namespaces: list[str],
    tests: list[TestRef],
    test_template: Mapping[str, Any],
    run_template: Mapping[str, Any],
    history: int,
    history_end: datetime.datetime,
    rng: random.Random,
) -> Iterator[str]:
    """JSON lines for the emulator's --seed: CRDs, namespaces, PerfTests, then each history.

    Run n of `history` starts (history - n + 1) x 6 h before `history_end`, with values around
    the warm-up run's own.
    """
    base = {str(name): float(value) for name, value in (run_template["status"]["values"]).items()}
    for crd in crds:
        yield json.dumps(_without_server_fields(crd))
    for namespace in namespaces:
        yield json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        # The account the hub's Jobs run as, checked before any run (manifests/kube-burner).
        yield json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": DEFAULT_JOB_SERVICE_ACCOUNT, "namespace": namespace},
            }
        )
    for test in tests:
        yield json.dumps(clone_perftest(test_template, test))
    for test in tests:
        for number in range(1, history + 1):
            start = history_end - SEEDED_RUN_SPACING * (history - number + 1)
            values = noisy_values(base, rng)
            run = clone_perfrun(run_template, test, number, start=start, values=values, rng=rng)
            yield json.dumps(run)
