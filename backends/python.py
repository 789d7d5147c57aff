"""The NumPy reference backend: run each node's ``perform`` in topological order.

It is the oracle the other backends are tested against, so it favours clarity over speed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph.errors import SymgraphError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant


class PerformError(SymgraphError, RuntimeError):
    """An op failed at run time; the message names the op, input shapes and where it was built."""


def compile(fgraph: FunctionGraph) -> Callable[[list[np.ndarray]], list[np.ndarray]]:  # noqa: A001
    """A thunk that evaluates ``fgraph`` with NumPy."""
    nodes = fgraph.toposort()
    inputs = list(fgraph.inputs)
    outputs = list(fgraph.outputs)
    constants = {v: v.data for v in fgraph.variables if isinstance(v, Constant)}

    def thunk(values: list[np.ndarray]) -> list[np.ndarray]:
        storage = dict(constants)
        storage.update(zip(inputs, values))
        for node in nodes:
            args = [storage[v] for v in node.inputs]
            try:
                results = node.op.perform(node, args)
            except SymgraphError as err:
                if "built at:" in str(err):  # raised by a node of an inner graph, which named itself
                    raise
                raise type(err)(f"{err}\n{_where(node, args)}") from err
            except Exception as err:
                raise PerformError(f"{node.op} failed: {type(err).__name__}: {err}\n{_where(node, args)}") from err
            for var, value in zip(node.outputs, results):
                _check_result(node, var, value)
                storage[var] = value
        return [storage[v] for v in outputs]

    return thunk


def _where(node, args: list) -> str:
    """The input shapes of a failed node and the user's line that built it."""
    shapes = ", ".join(f"{np.shape(a)}:{np.asarray(a).dtype}" for a in args)
    return f"  input shapes: ({shapes})\n  built at: {node.created_at}"


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
