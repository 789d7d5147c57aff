"""The reference evaluator: run each node's ``perform`` in topological order, checking what it returns.

The NumPy reference backend (``backends/python.py``) is this evaluator, and the reference ``perform`` of ops
that carry inner graphs (Scan, IfElse) runs their inner graphs with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph.errors import PerformError, run_error
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable

__all__ = ["PerformError", "first_failure", "reference_thunk"]

Failure = tuple[Apply, list, Exception]


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
        failure = _run(self.nodes, storage)
        if failure is not None:
            raise run_error(*failure) from failure[2]
        return [storage[v] for v in self.outputs]


def reference_thunk(fgraph: FunctionGraph) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """A thunk that evaluates ``fgraph`` with NumPy."""
    return ReferenceThunk(fgraph)


def first_failure(fgraph: FunctionGraph, values: list[np.ndarray]) -> Failure | None:
    """Run ``fgraph`` on copies of ``values``: the first node that fails, with its arguments and the exception
    (None when every node runs). Other backends use it to say where their own failure happened."""
    storage = {v: v.data for v in fgraph.variables if isinstance(v, Constant)}
    storage.update(zip(fgraph.inputs, (np.array(v, copy=True) for v in values)))
    return _run(fgraph.toposort(), storage)


def _run(nodes: list[Apply], storage: dict[Variable, np.ndarray]) -> Failure | None:
    """Run ``nodes`` in order, writing their results into ``storage``; stop at the first that fails."""
    for node in nodes:
        args = [storage[v] for v in node.inputs]
        try:
            results = node.op.perform(node, args)
        except Exception as err:  # noqa: BLE001 - any failure is reported with the node (run_error)
            return node, args, err
        for var, value in zip(node.outputs, results):
            _check_result(node, var, value)
            storage[var] = value
    return None


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
