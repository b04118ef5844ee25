"""Readings for the operator scale bench: /proc, the emulator's request counts, Prometheus'
own counters (I/O), and the pure arithmetic that turns them into figures."""

from __future__ import annotations

import collections
import json
import math
import os
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROMETHEUS_HANDLERS = {"range": "/api/v1/query_range", "instant": "/api/v1/query"}


def find_pid(marker: str) -> int:
    """The process whose command line contains `marker` (a unique port or URL)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in command and int(entry.name) != os.getpid():
            return int(entry.name)
    raise LookupError(f"no process with {marker!r} in its command line")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_mib(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024
    return found


def emulator_requests(url: str) -> collections.Counter[tuple[str, str, str]]:
    """The emulator's request counts so far, by (client, verb, resource)."""
    with urllib.request.urlopen(f"{url}/emulator/requests", timeout=30) as answer:
        body = json.load(answer)
    return collections.Counter(
        {(r["client"], r["verb"], r["resource"]): int(r["count"]) for r in body["requests"]}
    )


def prometheus_requests(url: str) -> dict[str, float]:
    """prometheus_http_requests_total summed over codes, for the query handlers."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    totals = dict.fromkeys(PROMETHEUS_HANDLERS, 0.0)
    for line in text.splitlines():
        if not line.startswith("prometheus_http_requests_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        for kind, handler in PROMETHEUS_HANDLERS.items():
            if f'handler="{handler}"' in labels:
                totals[kind] += float(value)
    return totals


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`; NaN when empty. Pure."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_figures(latencies: Sequence[float]) -> dict[str, float]:
    """Median, p90, p99, max and count of latencies in seconds. Pure."""
    return {
        "median": percentile(latencies, 0.5),
        "p90": percentile(latencies, 0.9),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies) if latencies else math.nan,
        "count": len(latencies),
    }


def requests_per_run(
    before: Mapping[tuple[str, str, str], int],
    after: Mapping[tuple[str, str, str], int],
    *,
    clients: set[str],
    runs: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Requests of `clients` between two readings per run: by verb, and by verb and resource. Pure."""
    by_verb: collections.Counter[str] = collections.Counter()
    by_resource: collections.Counter[str] = collections.Counter()
    for key, count in after.items():
        client, verb, resource = key
        if client not in clients:
            continue
        delta = count - before.get(key, 0)
        if delta:
            by_verb[verb] += delta
            by_resource[f"{verb} {resource}"] += delta
    divisor = max(runs, 1)
    return (
        {verb: count / divisor for verb, count in sorted(by_verb.items())},
        {key: count / divisor for key, count in sorted(by_resource.items())},
    )


def format_table(figures: Mapping[str, Any]) -> str:
    """The printed summary of a bench's figures. Pure."""
    latency = figures["latency_seconds"]
    operator = figures["operator"]
    lines = [
        f"operator scale bench: {figures['tests']} PerfTests x {figures['history']} runs of history"
        f" in {figures['namespaces']} namespaces; {figures['measured_runs']} measured runs at"
        f" {figures['rate']}/s requested, {figures['achieved_rate']:.2f}/s completed",
        "",
        f"{'Job completion -> verdict in PerfTest status (s)':<52}"
        f"median {latency['median']:.3f}  p90 {latency['p90']:.3f}  p99 {latency['p99']:.3f}"
        f"  max {latency['max']:.3f}  n={latency['count']}"
        f"  (missing {figures['missing_verdicts']})",
        f"{'run-now written -> Job created (s)':<52}"
        f"median {figures['trigger_to_job_seconds']['median']:.3f}"
        f"  p99 {figures['trigger_to_job_seconds']['p99']:.3f}"
        f"  max {figures['trigger_to_job_seconds']['max']:.3f}",
        f"{'operator memory (MiB)':<52}peak {operator['peak_mib']:.1f}"
        f"  at end {operator['rss_end_mib']:.1f}  after resume {operator['rss_after_resume_mib']:.1f}",
        f"{'operator API requests per run (by verb)':<52}"
        + "  ".join(f"{verb} {count:.2f}" for verb, count in figures["api_per_run"].items())
        + f"  total {sum(figures['api_per_run'].values()):.2f}",
        f"{'Prometheus queries per run':<52}range {figures['prometheus_per_run']['range']:.2f}"
        f"  instant {figures['prometheus_per_run']['instant']:.2f}"
        f"  range per metric {figures['prometheus_per_run']['range_per_metric']:.2f}"
        f" ({figures['metrics']} metrics)",
        f"{'CPU seconds in the measured phase':<52}"
        + "  ".join(
            f"{name} {value['seconds']:.1f} ({value['cores']:.2f} cores)"
            for name, value in figures["cpu"].items()
        ),
        f"{'measured phase / seeding / operator resume (s)':<52}"
        f"{figures['measured_seconds']:.1f} / {figures['seed_seconds']:.1f}"
        f" / {figures['resume_seconds']:.1f}",
        f"{'whole bench (s)':<52}{figures['wall_seconds']:.1f}",
    ]
    return "\n".join(lines)
