"""Ops that carry graphs of their own (scan's loop body, ifelse's branches).

An inner graph is a tuple of placeholder input variables and the output variables computed from them. It
is immutable once built: rewrites and backends work on private copies (``inner_fgraph``). ``free_variables``
finds the outer variables a body closes over, so they can become explicit inputs of the op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable, toposort
from symgraph.reference import reference_thunk


def placeholder(like: Variable, drop_leading: bool = False, name: str | None = None) -> Variable:
    """A fresh root variable of ``like``'s type (without its leading axis when ``drop_leading``)."""
    kind = like.type.clone(shape=like.type.shape[1:]) if drop_leading else like.type
    return Variable(kind, name=name if name is not None else like.name)


def free_variables(outputs: Sequence[Variable], bound: Sequence[Variable], varying: Iterable[Variable] = ()) -> list:
    """The non-constant variables that the parts of ``outputs`` depending on ``bound`` (or on ``varying``: roots
    that must be read inside, such as random states) take from outside: what an inner graph closes over.
    Outputs that depend on nothing bound are free variables themselves."""
    bound_ids = {id(v) for v in bound}
    dependent = bound_ids | {id(v) for v in varying}
    nodes = toposort(outputs, blockers=bound)
    for node in nodes:
        if any(id(v) in dependent for v in node.inputs):
            dependent.update(id(o) for o in node.outputs)
    free: dict[int, Variable] = {}
    for node in nodes:
        if id(node.outputs[0]) not in dependent:
            continue
        for var in node.inputs:
            if isinstance(var, Constant) or id(var) in bound_ids:
                continue
            if id(var) not in dependent or var.owner is None:  # an outer value, or a varying root
                free.setdefault(id(var), var)
    for var in outputs:
        if id(var) not in dependent and not isinstance(var, Constant):
            free.setdefault(id(var), var)
    return list(free.values())


def inner_fgraph(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> FunctionGraph:
    """A private copy of an inner graph, for rewriting or compiling."""
    return FunctionGraph(list(inputs), list(outputs))


def reference_evaluator(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> Callable:
    """``f(values) -> results``: the inner graph on the reference evaluator (no rewrites: it is the oracle)."""
    return reference_thunk(inner_fgraph(inputs, outputs))


def fresh(value: np.ndarray, arguments: Sequence[np.ndarray]) -> np.ndarray:
    """``value``, copied if it shares memory with one of ``arguments`` (inner results must not alias inputs)."""
    if any(np.may_share_memory(value, a) for a in arguments):
        return value.copy()
    return value
