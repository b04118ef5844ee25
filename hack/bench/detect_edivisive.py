"""Bench driver: MongoDB signal-processing-algorithms 2.1.6 `e_divisive` (.venv-bench-spa).

Signature as installed (energy_statistics/energy_statistics.py):
`e_divisive(series, pvalue=0.05, permutations=100) -> List[int]`, indices of the first run after
each change. Its permutation test shuffles with numpy's global generator, unseeded; each call is
wrapped in the package's own `deterministic_numpy_random(SEED)` so that runs repeat exactly.
"""

from __future__ import annotations

from signal_processing_algorithms.determinism import deterministic_numpy_random
from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive
from timing_driver import driver_arguments, run_driver

SEED = 20250101


def detect(values: list[float]) -> list[int]:
    with deterministic_numpy_random(SEED):
        return [int(index) for index in e_divisive(values, pvalue=0.05, permutations=100)]


def main() -> None:
    args = driver_arguments(__doc__ or "").parse_args()
    call = f"e_divisive(values, pvalue=0.05, permutations=100), numpy seeded {SEED}"
    run_driver("e-divisive", detect, call, args)


if __name__ == "__main__":
    main()
