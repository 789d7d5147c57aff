"""Where a benchmark runs: the symgraph backend, the matching torch device, threads, and the systems.

The torch device follows the symgraph backend (``cupy`` -> CUDA, anything else -> CPU), so every
system in a comparison works on the same kind of device.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

SYSTEMS = ("symgraph", "torch", "torch.compile", "pytensor")
REFERENCE = "torch"  # ratios are to torch eager; agreement is checked against it when it ran


class BenchSetupError(Exception):
    """The benchmark cannot run as asked (unknown backend, no GPU, bad option); the message says why."""


def default_backend() -> str:
    """``numba`` once that backend is registered, else the NumPy reference backend."""
    import backends

    return "numba" if "numba" in backends.available_backends() else "python"


@dataclass(frozen=True)
class Context:
    """The symgraph backend and thread count a suite runs with."""

    backend: str = "python"
    threads: int = 1

    @property
    def device(self) -> str:
        return "cuda" if self.backend == "cupy" else "cpu"

    def torch_tensor(self, array: np.ndarray, requires_grad: bool = False) -> Any:
        """A copy of ``array`` as a torch tensor on this context's device."""
        import torch

        return torch.tensor(array, device=self.device, requires_grad=requires_grad)

    def backend_array(self, array: np.ndarray) -> Any:
        """``array`` as the symgraph backend takes its inputs (device arrays for cupy)."""
        if self.device == "cuda":
            import cupy

            return cupy.asarray(array)
        return array

    def sync(self) -> None:
        """Wait for queued device work, so that a timer sees it finish (nothing to do on the CPU)."""
        if self.device == "cuda":
            import cupy
            import torch

            torch.cuda.synchronize()
            cupy.cuda.runtime.deviceSynchronize()


def make_context(backend: str | None = None, threads: int = 1) -> Context:
    """A validated context: the backend must be registered, and ``cupy`` needs a GPU seen by CuPy and torch."""
    import backends

    backend = backend or default_backend()
    names = backends.available_backends()
    if backend not in names:
        hint = " (the CuPy backend is not written yet)" if backend == "cupy" else ""
        raise BenchSetupError(f"symgraph has no backend {backend!r}{hint}; registered backends: {', '.join(names)}")
    if threads < 1:
        raise BenchSetupError(f"--threads must be at least 1, got {threads}")
    if backend == "cupy":
        _require_gpu()
    return Context(backend, threads)


def _require_gpu() -> None:
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver, no runtime, no cupy: all mean "no GPU results"
        raise BenchSetupError(f"--backend cupy needs a GPU that CuPy can see: {type(err).__name__}: {err}") from err
    if count == 0:
        raise BenchSetupError("--backend cupy needs a GPU that CuPy can see; it sees none")
    if importlib.util.find_spec("torch") is not None:
        import torch

        if not torch.cuda.is_available():
            raise BenchSetupError("--backend cupy compares with torch on CUDA, but this torch build sees no GPU")


def unavailable(system: str, ctx: Context) -> str | None:
    """Why ``system`` cannot run here (a note for the report), or None when it can."""
    if system in ("torch", "torch.compile") and importlib.util.find_spec("torch") is None:
        return 'torch is not installed (pip install -e ".[bench]")'
    if system == "pytensor":
        if importlib.util.find_spec("pytensor") is None:
            return 'pytensor is not installed (pip install -e ".[compare]")'
        if ctx.device != "cpu":
            return "PyTensor's numba mode runs on the CPU only"
    return None


def host(value: Any) -> np.ndarray:
    """A NumPy copy of a result from any system (NumPy, torch on any device, CuPy)."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "get") and not isinstance(value, np.ndarray):
        return value.get()
    return np.asarray(value)


def set_threads(n: int) -> None:
    """Use ``n`` threads in symgraph, torch, numba and every BLAS/OpenMP library loaded so far (threadpoolctl).

    Call it again after a system loads a new library (the suite does so before each case): limits set
    through environment variables alone are missed by libraries already loaded, and this call misses
    libraries loaded after it.
    """
    import numba
    from threadpoolctl import threadpool_limits

    import symgraph

    if hasattr(symgraph.config, "num_threads"):  # the setting that symgraph's parallel backends read
        symgraph.config.num_threads = n
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules:  # import it first to cover it
        sys.modules["torch"].set_num_threads(n)
    threadpool_limits(limits=n)
