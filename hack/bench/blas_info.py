"""Which Python, numpy and BLAS kernel this process runs, for the bench's report (stdlib + numpy).

The runtime kernel comes from the OpenBLAS library numpy has loaded (its `get_config`), because
OPENBLAS_CORETYPE, when set, changes it without changing numpy's build information.
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path

_OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _loaded_openblas_configs() -> list[str]:
    """`openblas_get_config()` of each OpenBLAS library mapped into this process (Linux only)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = sorted(
        {
            line.split()[-1]
            for line in maps.read_text().splitlines()
            if "openblas" in line.lower() and ".so" in line
        }
    )
    configs: list[str] = []
    for path in paths:
        library = ctypes.CDLL(path)
        for name in (
            "openblas_get_config",
            "openblas_get_config64_",
            "scipy_openblas_get_config",
            "scipy_openblas_get_config64_",
        ):
            function = getattr(library, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                configs.append(" ".join(function().decode().split()))
                break
    return configs


def runtime_environment() -> dict[str, str]:
    """Python and numpy versions, the OpenBLAS actually loaded, and the OPENBLAS_* variables."""
    import numpy  # imported here: the caller decides when numpy (and its BLAS) is loaded

    configs = _loaded_openblas_configs()
    environment = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "blas": "; ".join(configs) if configs else "no OpenBLAS loaded (see numpy.show_config())",
    }
    for variable in _OPENBLAS_ENV:
        environment[variable] = os.environ.get(variable, "unset")
    return environment
