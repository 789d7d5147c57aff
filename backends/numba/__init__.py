"""The numba CPU backend: the whole graph compiled into one nopython function calling fused loop kernels.

``compile(fgraph)`` generates the source (``backends.numba.codegen``), writes it to the on-disk cache
(``backends.numba.cache``) so numba can keep the machine code between processes, and returns a thunk.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import warnings
from types import ModuleType

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from backends.numba.cache import forget_compiled, load_module, report_misses, unreadable_cache
from backends.numba.codegen import GeneratedGraph, generate
from symgraph.config import config
from symgraph.errors import CallError, SymgraphError, describe_values, error_class, run_error
from symgraph.fgraph import FunctionGraph
from symgraph.reference import first_failure


def _keep_freed_memory() -> None:
    """glibc returns large freed blocks to the OS (mmap'd above 128 KiB by default; heap tops trimmed), so each
    call's fresh intermediates page-fault again: ~550 minor faults per step of a 300x500 MLP, half its time.
    Serve blocks up to 64 MiB from the heap and keep up to 1 GiB of freed memory. glibc only; opt out with
    SYMGRAPH_MALLOC_TUNING=0."""
    if os.environ.get("SYMGRAPH_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, 64 << 20)
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_keep_freed_memory()

if "NUMBA_THREADING_LAYER" not in os.environ:
    # numba's OpenMP layer and torch's OpenMP runtime slow each other down badly in one process;
    # the workqueue layer has no such clash (it does not support nested parallel calls).
    numba.config.THREADING_LAYER = "workqueue"


@functools.cache
def _blas_controller() -> ThreadpoolController:
    import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS that numba's np.dot calls)

    return ThreadpoolController().select(user_api="blas")


def _limit_blas(threads: int) -> None:
    """numba's np.dot calls SciPy's OpenBLAS, whose own thread pool would otherwise take every core:
    give it ``sg.config.num_threads`` (SciPy's BLAS only; NumPy's and torch's are left as they are)."""
    for lib in _blas_controller().lib_controllers:
        if "scipy.libs" in lib.filepath and lib.num_threads != threads:
            lib.set_num_threads(threads)


def _load(generated: GeneratedGraph) -> ModuleType:
    """The generated graph module, imported after the kernel modules it imports."""
    for name, source in generated.kernels.items():
        load_module(name, source)
    return load_module(generated.name, generated.source)


_RELOADING = threading.Lock()


class NumbaThunk:
    """Calls the compiled graph function; ``source`` is the generated graph module, ``fgraph`` the graph it
    runs (for error messages)."""

    def __init__(self, generated: GeneratedGraph, threads: int, fgraph: FunctionGraph) -> None:
        self.generated = generated
        self.module = _load(generated)
        self.fgraph = fgraph
        self.fn = self.module.graph
        self.constants = generated.constants
        self.source = generated.source
        self.checked_cache = False
        self.reloaded = False
        self.threads = min(threads, numba.config.NUMBA_NUM_THREADS)

    def __call__(self, values: list[np.ndarray]) -> list[np.ndarray]:
        if numba.get_num_threads() != self.threads:
            numba.set_num_threads(self.threads)
            _limit_blas(self.threads)
        try:
            results = self.fn(*values, *self.constants)
        except numba.core.errors.TypingError as err:  # only reachable with trust_input=True
            kinds = ", ".join(f"{type(v).__name__} {getattr(v, 'dtype', '')}{np.shape(v)}" for v in values)
            raise CallError(
                f"the compiled graph cannot take these arguments ({kinds}); with trust_input=True, pass ndarrays "
                "of exactly the inputs' dtypes and numbers of dimensions"
            ) from err
        except Exception as err:  # noqa: BLE001 - every run-time failure is reported with its node
            if unreadable_cache(err) and not self.reloaded:
                self._reload(err)
                return self(values)
            raise self._explained(values, err) from err
        if not self.checked_cache:
            self.checked_cache = True
            report_misses(self.module)
        return list(results)

    def _reload(self, err: Exception) -> None:
        """Compile the graph and its kernels afresh, after numba failed to read their cached machine code."""
        names = [*self.generated.kernels, self.generated.name]
        warnings.warn(f"symgraph cache: numba's cache of {self.generated.name} or of its kernels is unreadable "
                      f"({type(err).__name__}: {err}); deleting it and recompiling", stacklevel=5)  # fmt: skip
        with _RELOADING:
            if self.module is sys.modules.get(self.generated.name):  # not reloaded by another thunk meanwhile
                forget_compiled(names)
            self.module = _load(self.generated)
        self.fn = self.module.graph
        self.reloaded = True

    def _explained(self, values: list[np.ndarray], err: Exception) -> SymgraphError:
        """``err`` with the op, input shapes and build line of the node that failed, found by running the same
        values node by node on the reference backend (only after a failure; it copies the inputs). When the
        reference runs them without failing, the message gives the function's input shapes instead."""
        failure = first_failure(self.fgraph, values)
        if failure is None:
            return error_class(err)(
                f"{type(err).__name__}: {err}\n  function inputs: ({describe_values(values)})\n"
                "  (the reference backend runs these inputs without error)"
            )
        node, args, reference = failure
        message = str(err)
        if str(reference) not in message:
            message += f"\n  reference backend: {type(reference).__name__}: {reference}"
        return run_error(node, args, err, message)


def compile(fgraph: FunctionGraph) -> NumbaThunk:  # noqa: A001 - the backend protocol's name
    """A thunk running ``fgraph`` as one numba function."""
    _limit_blas(min(config.num_threads, numba.config.NUMBA_NUM_THREADS))
    return NumbaThunk(generate(fgraph), config.num_threads, fgraph)
