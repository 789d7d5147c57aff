"""Variables, constants, Apply nodes and the graph walks everything else is built on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from symgraph.config import config
from symgraph.errors import user_line
from symgraph.types import TensorType, as_dtype

_ids = itertools.count()


class Variable:
    """A symbolic tensor: a type, and (unless it is a root) the Apply node and output index that make it.

    Its Python operators, NumPy-style methods, ``shape``, ``T`` and ``eval`` build ops, which sit above this
    module: ``symgraph.variable_methods`` attaches them.
    """

    __array_ufunc__ = None  # make ``ndarray + variable`` defer to Variable.__radd__

    def __init__(self, type: TensorType, owner: Apply | None = None, index: int | None = None,
                 name: str | None = None) -> None:  # fmt: skip
        if not isinstance(type, TensorType):
            raise TypeError(f"Variable type must be a TensorType, got {type!r}")
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.id = next(_ids)
        self.created_at = user_line()

    # -- introspection ---------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    def __repr__(self) -> str:
        label = self.name or (f"{self.owner.op}.{self.index}" if self.owner else "<root>")
        return f"{label}::{self.type}"

    def __str__(self) -> str:
        return self.name or (str(self.owner.op) if self.owner else f"<{self.type}>")

    def clone(self) -> Variable:
        """A fresh root variable of the same type and name."""
        return Variable(self.type, name=self.name)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and deep-copied without the functions ``eval`` compiled."""
        state = dict(self.__dict__)
        state.pop("_eval_cache", None)
        return state

    # -- Python protocol -------------------------------------------------------------
    def __bool__(self) -> bool:
        raise TypeError(
            "a symbolic variable has no truth value; use sg.where/sg.ifelse for symbolic conditions "
            "and sg.eq/sg.neq (not == / !=) for elementwise equality"
        )

    def __len__(self) -> int:
        if self.ndim == 0 or self.type.shape[0] is None:
            raise TypeError(f"len() needs a known static length on axis 0, {self.type} has none")
        return self.type.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__  # identity: variables are dictionary keys everywhere


class Constant(Variable):
    """A root variable with a fixed, read-only value."""

    def __init__(self, type: TensorType, data: np.ndarray, name: str | None = None) -> None:
        super().__init__(type, name=name)
        data = np.array(data, dtype=type.dtype, copy=True)
        data.setflags(write=False)
        self.data = data

    def signature(self) -> tuple:
        """Equal for constants of equal type and value (used to merge duplicates)."""
        return (self.type, self.data.shape, self.data.tobytes())

    def clone(self) -> Constant:
        return Constant(self.type, self.data, self.name)

    def __repr__(self) -> str:
        text = np.array2string(self.data, threshold=6) if self.data.size <= 6 else f"<{self.data.shape}>"
        return f"Constant{{{text}}}::{self.type}"

    __str__ = __repr__


def constant(value: Any, dtype: object = None, name: str | None = None) -> Constant:
    """A constant; its static shape is the value's shape."""
    arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=as_dtype(dtype))
    if arr.dtype == object:
        raise TypeError(f"cannot make a constant of {type(value).__name__}")
    if arr.dtype.kind == "f" and dtype is None and not isinstance(value, np.ndarray | np.generic):
        arr = arr.astype(config.floatX)  # Python floats follow floatX, as in Theano
    return Constant(TensorType(arr.dtype, arr.shape), arr, name=name)


def as_variable(value: Any, dtype: object = None) -> Variable:
    """``value`` itself when it is a Variable, else a constant made from it."""
    if isinstance(value, Variable):
        return value
    return constant(value, dtype=dtype)


class Apply:
    """One application of an op: input variables in, output variables out."""

    def __init__(self, op: Any, inputs: Sequence[Variable], output_types: Sequence[TensorType]) -> None:
        self.op = op
        self.inputs = list(inputs)
        for i, var in enumerate(self.inputs):
            if not isinstance(var, Variable):
                raise TypeError(f"{op}: input {i} is not a Variable: {var!r}")
        self.outputs = [Variable(t, owner=self, index=i) for i, t in enumerate(output_types)]
        self.created_at = user_line()

    def clone_with_new_inputs(self, inputs: Sequence[Variable]) -> Apply:
        """The same op applied to other inputs (types re-inferred by ``make_node``), keeping the user's line."""
        node = self.op.make_node(*inputs)
        node.created_at = self.created_at
        return node

    def __repr__(self) -> str:
        return f"{self.op}({', '.join(map(repr, self.inputs))})"


# -- graph walks ------------------------------------------------------------------------------
def toposort(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Apply]:
    """Apply nodes needed for ``outputs``, each after the nodes that feed it (stop at ``blockers``)."""
    order: list[Apply] = []
    seen: set[int] = set()
    blocked = {id(v) for v in blockers}
    stack: list[tuple[Apply, bool]] = [(v.owner, False) for v in outputs if v.owner and id(v) not in blocked]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for var in reversed(node.inputs):
            if var.owner is not None and id(var) not in blocked and id(var.owner) not in seen:
                stack.append((var.owner, False))
    return order


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on, the outputs included, in topological order."""
    outputs = list(outputs)
    result: dict[int, Variable] = {}
    for node in toposort(outputs, blockers):
        for var in node.inputs:
            result.setdefault(id(var), var)
        for var in node.outputs:
            result.setdefault(id(var), var)
    for var in outputs:
        result.setdefault(id(var), var)
    return list(result.values())


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The root variables (no owner, or in ``blockers``) that the outputs depend on."""
    blocked = {id(v) for v in blockers}
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def clone_replace(outputs: Sequence[Variable], replace: dict[Variable, Variable] | None = None,
                  rebuild_all: bool = False) -> list[Variable]:  # fmt: skip
    """Copies of the graphs of ``outputs`` with the variables in ``replace`` substituted.

    Root variables are kept. Apply nodes downstream of a replaced variable are rebuilt through
    ``make_node`` (so types are inferred again); with ``rebuild_all`` every node is rebuilt, which
    gives a graph that shares no Apply node with the original.
    """
    memo: dict[int, Variable] = {id(k): v for k, v in (replace or {}).items()}
    blockers = list((replace or {}).keys())
    for var in graph_inputs(outputs, blockers):
        memo.setdefault(id(var), var)
    for node in toposort(outputs, blockers):
        new_inputs = [memo[id(v)] for v in node.inputs]
        if not rebuild_all and all(a is b for a, b in zip(new_inputs, node.inputs)):
            new_outputs = node.outputs
        else:
            clone = node.clone_with_new_inputs(new_inputs)
            clone.created_at = node.created_at  # errors name the user's line, not the line that cloned
            new_outputs = clone.outputs
        for old, new in zip(node.outputs, new_outputs):
            memo.setdefault(id(old), new)
            if new is not old and new.name is None:
                new.name = old.name
    return [memo[id(v)] for v in outputs]
