"""`make bench`: our change-point detector against Apache Otava, MongoDB's E-Divisive and Pelt.

Side effects: writes a generated series and results under a temporary folder (removed at the
end unless --keep), starts one driver process per detector and round, prints a table. Standard
library only, so it runs under any Python 3.11.

Every detector runs in its own virtual environment (Otava and signal-processing-algorithms pin
incompatible numpy versions) through a driver in this folder that times only the detection. All
of them read the same files: the development corpus and a seeded long single-metric series
generated here at bench time (stored nowhere). The rounds are interleaved (ours, Otava,
E-Divisive, Pelt, then again) so that a busy shared machine slows all detectors alike; the table
quotes the median seconds of the rounds and their range. Accuracy is the corpus scorer's
(score.py, margin 2 runs) on the first round's indices; later rounds must give the same indices.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from long_series import generate_long_series
from series_files import read_labels, read_series_folder, write_series_folder

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "cpd-corpus" / "dev"
LONG_SERIES_ID = "long-step+outliers"
MARGIN = 2
CORPUS_SET, LONG_SET = "corpus", "long"
# Issue 3's speed targets: ours/Otava on the long series and on the corpus must stay below these.
LONG_RATIO_TARGET = 0.2
CORPUS_RATIO_TARGET = 1.0


@dataclass(frozen=True)
class Detector:
    """One detector: its driver script, the Python of its virtual environment, its label."""

    name: str  # file-name stem of its results, as the driver writes them
    label: str
    python: Path
    script: str
    extra_args: tuple[str, ...] = ()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="series + labels.json")
    parser.add_argument("--scorer", type=Path, help="score.py (default: beside the corpus folder)")
    parser.add_argument("--ours-python", type=Path, default=Path(sys.executable))
    parser.add_argument("--otava-python", type=Path, required=True)
    parser.add_argument(
        "--spa-python", type=Path, required=True, help="signal-processing-algorithms"
    )
    parser.add_argument("--threshold-percent", type=float, default=0.0, help="ours: T")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (the median is quoted)")
    parser.add_argument("--long-runs", type=int, default=1000)
    parser.add_argument("--long-seed", type=int, default=20250611)
    parser.add_argument("--no-pelt", action="store_true", help="skip ruptures Pelt (the slowest)")
    parser.add_argument("--keep", type=Path, help="keep the generated series and results here")
    args = parser.parse_args(argv)
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 (medians of at least three)")
    return args


def detectors(args: argparse.Namespace) -> list[Detector]:
    threshold = f"{args.threshold_percent:g}"
    chosen = [
        Detector(
            "ours",
            f"ours: detect_change_points(T={threshold})",
            args.ours_python,
            "detect_ours.py",
            ("--threshold-percent", threshold),
        ),
        Detector("otava", "Apache Otava 0.8.0 defaults", args.otava_python, "detect_otava.py"),
        Detector(
            "e-divisive", "MongoDB e_divisive(0.05, 100)", args.spa_python, "detect_edivisive.py"
        ),
        Detector("pelt", "ruptures Pelt l2, 2·sigma²·ln n", args.ours_python, "detect_pelt.py"),
    ]
    return [d for d in chosen if not (args.no_pelt and d.name == "pelt")]


def load_scorer(path: Path) -> ModuleType:
    """The corpus's score.py as a module (its `score(labels, detected, lengths, margin)`)."""
    spec = importlib.util.spec_from_file_location("cpd_corpus_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot load the scorer")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_driver(detector: Detector, sets: dict[str, Path], out: Path) -> None:
    command = [str(detector.python), str(BENCH_DIR / detector.script), *detector.extra_args]
    for name, folder in sets.items():
        command += ["--set", f"{name}={folder}"]
    command += ["--repeats", "1", "--out", str(out)]
    subprocess.run(command, check=True)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def seconds_text(values: list[float]) -> str:
    """Median and range, e.g. `1.23 (1.20-1.31)`."""
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def ratio_text(ours: list[float], other: list[float], target: float | None) -> str:
    if statistics.median(other) == 0.0:
        return "n/a (zero seconds)"
    ratio = statistics.median(ours) / statistics.median(other)
    if target is None:
        return f"{ratio:.3f}"
    verdict = "met" if ratio < target else "NOT met"
    return f"{ratio:.3f} (issue 3 target < {target:g}: {verdict})"


def print_table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    corpus: Path = args.corpus.resolve()
    if not (corpus / "labels.json").is_file():
        raise SystemExit(f"{corpus}: not a corpus folder (no labels.json); pass --corpus")
    scorer = load_scorer(args.scorer or corpus.parent / "score.py")
    chosen = detectors(args)
    started = time.perf_counter()

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="perftest-bench-"))
    try:
        long = generate_long_series(runs=args.long_runs, seed=args.long_seed)
        long_folder = work / "long-series"
        write_series_folder(long_folder, LONG_SERIES_ID, long.values, long.change_indices)
        sets = {CORPUS_SET: corpus, LONG_SET: long_folder}
        for round_number in range(1, args.rounds + 1):
            for detector in chosen:
                print(f"round {round_number}/{args.rounds}: {detector.name}", file=sys.stderr)
                run_driver(detector, sets, work / f"round-{round_number}")
        results = {
            d.name: [
                read_json(work / f"round-{r}" / f"{d.name}.timings.json")
                for r in range(1, args.rounds + 1)
            ]
            for d in chosen
        }
        found = {
            (d.name, s): [
                read_json(work / f"round-{r}" / f"{d.name}.{s}.json")
                for r in range(1, args.rounds + 1)
            ]
            for d in chosen
            for s in sets
        }
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    corpus_series = read_series_folder(corpus)
    labels = read_labels(corpus)
    lengths = {sid: len(values) for sid, values in corpus_series.items()}
    long_labels = {LONG_SERIES_ID: long.change_indices}
    long_lengths = {LONG_SERIES_ID: len(long.values)}

    seconds: dict[tuple[str, str], list[float]] = {}
    rows: list[list[str]] = []
    unstable: list[str] = []
    for d in chosen:
        for s in sets:
            seconds[d.name, s] = [run["sets"][s]["seconds"][0] for run in results[d.name]]
            if any(other != found[d.name, s][0] for other in found[d.name, s][1:]):
                unstable.append(f"{d.name} on {s}")
        score = scorer.score(labels, found[d.name, CORPUS_SET][0], lengths, MARGIN)
        long_score = scorer.score(long_labels, found[d.name, LONG_SET][0], long_lengths, MARGIN)
        rows.append(
            [
                d.label,
                f"{score['f1']:.3f}",
                f"{score['precision']:.3f}",
                f"{score['recall']:.3f}",
                f"{score['false_alarms_per_100_quiet_runs']:.3f}",
                seconds_text(seconds[d.name, CORPUS_SET]),
                seconds_text(seconds[d.name, LONG_SET]),
                f"{long_score['f1']:.3f} ({long_score['tp']}/{len(long.change_indices)}, {long_score['fp']} fa)",
            ]
        )

    quiet = sum(lengths[sid] for sid, truth in labels.items() if not truth)
    print()
    print(
        f"Change-point bench: dev corpus {corpus} ({len(corpus_series)} series, "
        f"{sum(lengths.values())} runs, {quiet} in series without changes, "
        f"{sum(len(t) for t in labels.values())} true changes)"
    )
    print(
        f"and one generated {len(long.values)}-run series (seed {args.long_seed}, "
        f"true changes at {long.change_indices}); scorer {scorer.__file__} margin {MARGIN}; "
        f"seconds = median (min-max) of {args.rounds} interleaved rounds, detection only"
    )
    print(f"ours: threshold_percent T={args.threshold_percent:g}, direction LowerIsBetter")
    print()
    print_table(
        rows,
        [
            "detector",
            "F1",
            "precision",
            "recall",
            "FA/100 quiet",
            f"s, {len(corpus_series)} series",
            f"s, {len(long.values)} runs",
            f"F1 on {len(long.values)} runs",
        ],
    )
    print()
    for other, name in (("otava", "Otava"), ("e-divisive", "E-Divisive")):
        if other not in results:
            continue
        is_otava = other == "otava"
        print(
            f"ours/{name}: corpus "
            + ratio_text(
                seconds["ours", CORPUS_SET],
                seconds[other, CORPUS_SET],
                CORPUS_RATIO_TARGET if is_otava else None,
            )
            + f"; {len(long.values)} runs "
            + ratio_text(
                seconds["ours", LONG_SET],
                seconds[other, LONG_SET],
                LONG_RATIO_TARGET if is_otava else None,
            )
        )
    print()
    print("environments (numpy, the OpenBLAS numpy loaded at run time, OPENBLAS_* as inherited):")
    for d in chosen:
        environment = results[d.name][0]["environment"]
        print(
            f"  {d.name:<10} {d.python}: Python {environment['python']}, numpy {environment['numpy']}, "
            f"{environment['blas']}; OPENBLAS_CORETYPE={environment['OPENBLAS_CORETYPE']} "
            f"OPENBLAS_L2_SIZE={environment['OPENBLAS_L2_SIZE']}"
        )
        print(f"  {'':<10} call: {results[d.name][0]['call']}")
    if unstable:
        print(f"WARNING: indices differ between rounds: {', '.join(unstable)}")
    print(f"\nbench wall time {time.perf_counter() - started:.0f} s")
    return 1 if unstable else 0


if __name__ == "__main__":
    sys.exit(main())
