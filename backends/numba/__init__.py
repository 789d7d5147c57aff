"""The numba CPU backend: the whole graph compiled into one nopython function calling fused loop kernels.

``compile(fgraph)`` generates the source (``backends.numba.codegen``), writes it to the on-disk cache
(``backends.numba.cache``) so numba can keep the machine code between processes, and returns a thunk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backends.numba.cache import load_module
from backends.numba.codegen import generate
from symgraph.errors import CallError
from symgraph.fgraph import FunctionGraph


class NumbaThunk:
    """Calls the compiled graph function; ``source`` is the generated graph module."""

    def __init__(self, fn: Callable, constants: tuple[np.ndarray, ...], source: str) -> None:
        self.fn = fn
        self.constants = constants
        self.source = source

    def __call__(self, values: list[np.ndarray]) -> list[np.ndarray]:
        try:
            return list(self.fn(*values, *self.constants))
        except ValueError as err:
            raise CallError(str(err)) from err


def compile(fgraph: FunctionGraph) -> NumbaThunk:  # noqa: A001 - the backend protocol's name
    """A thunk running ``fgraph`` as one numba function."""
    generated = generate(fgraph)
    for name, source in generated.kernels.items():
        load_module(name, source)
    module = load_module(generated.name, generated.source)
    return NumbaThunk(module.graph, generated.constants, generated.source)
