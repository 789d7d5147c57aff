"""What machine and software a benchmark ran on, for the JSON record and the table's heading."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

from bench.context import Context

PACKAGES = ("numpy", "scipy", "torch", "numba", "llvmlite", "pytensor", "cupy-cuda12x", "cupy-cuda13x",
            "threadpoolctl", "matplotlib")  # fmt: skip
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "SYMGRAPH_BACKEND", "SYMGRAPH_FLOATX", "SYMGRAPH_CACHE_DIR",
            "SYMGRAPH_NUM_THREADS",
            "CUDA_VISIBLE_DEVICES")  # fmt: skip
# Some machines set these to pin OpenBLAS to an older kernel; current NumPy gets slower. Recorded and
# reported, never changed: the user chose them.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _blas() -> list[dict[str, Any]]:
    """BLAS and OpenMP libraries loaded in this process, with kernel (``architecture``) and threads."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads",
            "filepath")  # fmt: skip
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]


def _numba_layer() -> str | None:
    if "numba" not in sys.modules:
        return None
    try:
        return sys.modules["numba"].threading_layer()
    except ValueError:  # no parallel region has run yet
        return None


def _torch() -> dict[str, Any] | None:
    if "torch" not in sys.modules:
        return None
    torch = sys.modules["torch"]
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"num_threads": torch.get_num_threads(), "gpu": gpu}


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def warnings(cores: int, load_before: list[float] | None) -> list[str]:
    """Conditions that change the figures, said once in the report."""
    found = [
        f"{var}={os.environ[var]} is set: it pins OpenBLAS's kernel choice and can slow NumPy (left unchanged)"
        for var in OPENBLAS_OVERRIDES
        if var in os.environ
    ]
    if load_before and load_before[0] >= max(1.0, cores / 2):
        found.append(f"the machine was busy (load average {load_before[0]:.1f} on {cores} cores): figures are noisy")
    return found


def machine_info(ctx: Context, load_before: list[float] | None = None) -> dict[str, Any]:
    """CPU, cores, threads, versions, BLAS libraries, relevant environment variables, load averages.

    Call it after the systems ran, so that every library they loaded is listed; ``load_before`` is
    the load average when the run started.
    """
    import symgraph

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "threads": ctx.threads,
        "device": ctx.device,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {"symgraph": symgraph.__version__} | {p: _version(p) for p in PACKAGES},
        "blas": _blas(),
        "numba_threading_layer": _numba_layer(),
        "torch": _torch(),
        "env": {var: os.environ.get(var) for var in ENV_VARS},
        "load_average": {"before": load_before, "after": load_average()},
        "warnings": warnings(affinity, load_before),
    }
