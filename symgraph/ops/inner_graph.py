"""Ops that carry graphs of their own (scan's loop body, ifelse's branches).

An inner graph is a tuple of placeholder input variables and the output variables computed from them. It
is immutable once built: rewrites and backends work on private copies (``inner_fgraph``). ``free_variables``
finds the outer variables a body closes over, so they can become explicit inputs of the op. ``InnerGraphOp``
makes such ops values: equal when their inner graphs have the same structure (``structure``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable, toposort
from symgraph.op import Op
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


def structure(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> tuple:
    """A hashable description of an inner graph, equal for graphs that compute alike: the inputs' types, then per
    node (in topological order) its op, where each of its inputs comes from and its output types, then where
    each output comes from. A source is an input's position, an earlier node's output, or a constant's value."""
    sources: dict[int, tuple] = {id(v): ("input", k) for k, v in enumerate(inputs)}

    def source(var: Variable) -> tuple:
        if id(var) in sources:
            return sources[id(var)]
        if isinstance(var, Constant):
            return ("constant", *var.signature())
        return ("outer", id(var))  # a root the op keeps alive: equal only to itself

    nodes = []
    for n, node in enumerate(toposort(outputs, blockers=inputs)):
        nodes.append((node.op, tuple(map(source, node.inputs)), tuple(o.type for o in node.outputs)))
        sources.update((id(o), ("node", n, i)) for i, o in enumerate(node.outputs))
    return tuple(v.type for v in inputs), tuple(nodes), tuple(map(source, outputs))


class InnerGraphOp(Op):
    """Base of the ops carrying inner graphs: two are equal (and hash alike) when they have the same type and
    equal ``key()``, which describes their inner graphs with ``structure``; so merge makes two equal loops one."""

    def key(self) -> tuple:
        """What makes two such ops equal: the structure of their inner graphs and their other fields."""
        raise NotImplementedError

    @functools.cached_property
    def _key(self) -> tuple:
        return self.key()

    @functools.cached_property
    def _hash(self) -> int:
        return hash((type(self), self._key))

    def __eq__(self, other: Any) -> bool:
        return self is other or (type(other) is type(self) and self._hash == other._hash and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash
