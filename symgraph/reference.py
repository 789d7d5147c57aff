"""The reference evaluator: run each node's ``perform`` in topological order, checking what it returns.

The NumPy reference backend (``backends/python.py``) is this evaluator, and the reference ``perform`` of ops
that carry inner graphs (Scan, IfElse) runs their inner graphs with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph.errors import SymgraphError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant


class PerformError(SymgraphError, RuntimeError):
    """An op failed at run time; the message names the op, input shapes and where it was built."""


class ReferenceThunk:
    """Runs each node's ``perform`` in topological order (a class, so that it pickles: Scan and IfElse keep one
    for their inner graphs)."""

    def __init__(self, fgraph: FunctionGraph) -> None:
        self.nodes = fgraph.toposort()
        self.inputs = list(fgraph.inputs)
        self.outputs = list(fgraph.outputs)
        self.constants = {v: v.data for v in fgraph.variables if isinstance(v, Constant)}

    def __call__(self, values: list[np.ndarray]) -> list[np.ndarray]:
        storage = dict(self.constants)
        storage.update(zip(self.inputs, values))
        for node in self.nodes:
            args = [storage[v] for v in node.inputs]
            try:
                results = node.op.perform(node, args)
            except SymgraphError:
                raise
            except Exception as err:
                shapes = ", ".join(f"{np.shape(a)}:{np.asarray(a).dtype}" for a in args)
                raise PerformError(
                    f"{node.op} failed: {type(err).__name__}: {err}\n  input shapes: ({shapes})\n"
                    f"  built at: {node.created_at}"
                ) from err
            for var, value in zip(node.outputs, results):
                _check_result(node, var, value)
                storage[var] = value
        return [storage[v] for v in self.outputs]


def reference_thunk(fgraph: FunctionGraph) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """A thunk that evaluates ``fgraph`` with NumPy."""
    return ReferenceThunk(fgraph)


def _check_result(node, var, value) -> None:
    """The reference backend is the oracle: an op returning the wrong type is a bug, said loudly."""
    if (
        not isinstance(value, np.ndarray)
        or value.dtype != var.dtype
        or value.ndim != var.ndim
        or any(s is not None and s != n for s, n in zip(var.type.shape, value.shape))
    ):
        got = f"{type(value).__name__} {getattr(value, 'dtype', '')} {np.shape(value)}"
        raise PerformError(f"{node.op}.perform returned {got}, but the node's output type is {var.type}")
