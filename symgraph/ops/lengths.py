"""Lengths of axes: the Shape and ShapeI ops, and lengths given as ints, int scalars or int vectors read into int64
scalar inputs.

Lengths given to ops (reshape targets, split sizes, allocation shapes) are separate int64 scalar
inputs, so constant ones refine static shapes and symbolic ones feed ``infer_shape`` directly.
The ``caller`` of each helper is the op or ``Caller`` that build errors name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Constant, Variable, as_variable
from symgraph.op import Caller, Op
from symgraph.ops.elemwise import cast
from symgraph.types import INT_DTYPES, TensorType

Length = int | Variable  # a length in a symbolic shape: a Python int or an int64 scalar variable


@dataclass(frozen=True)
class Shape(Op):
    """The shape of a tensor as an int64 vector."""

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(np.shape(inputs[0]), dtype="int64")]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [(node.inputs[0].ndim,)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """An integer output: no gradient flows."""
        return [None]


@dataclass(frozen=True)
class ShapeI(Op):
    """The length of one axis, as an int64 scalar."""

    axis: int

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise self.value_error([x], f"axis {self.axis} is out of range for {x.ndim} dimensions")
        return Apply(self, [x], [TensorType("int64", ())])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(np.shape(inputs[0])[self.axis], dtype="int64")]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [()]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """An integer output: no gradient flows."""
        return [None]


def shape(x: Any) -> Variable:
    """The shape of ``x`` as a symbolic int64 vector (``x.shape``)."""
    return Shape()(x)


def shape_i(x: Any, axis: int) -> Variable | int:
    """Length of ``x`` along ``axis``: a Python int when static, else an int64 scalar variable."""
    x = as_variable(x)
    static = x.type.shape[axis]
    return static if static is not None else ShapeI(axis % x.ndim if x.ndim else axis)(x)


def int_scalar(caller: Op | Caller, inputs: Sequence[Any], value: Any) -> Variable:
    """``value`` (a Python int or an integer scalar variable) as an int64 scalar variable."""
    try:
        var = as_variable(value)
    except (TypeError, ValueError):
        var = None
    if var is None or var.ndim != 0 or var.dtype not in INT_DTYPES:
        raise caller.type_error(inputs, f"expected an integer scalar, got {getattr(var, 'type', repr(value))}")
    return cast(var, "int64")


def as_length(var: Variable) -> Length:
    """An int64 scalar input as a length: its value when it is a constant."""
    return int(var.data) if isinstance(var, Constant) else var


def fold_lengths(lengths: Sequence[Length], combine: Callable[[Any, Any], Any], unit: int) -> Length:
    """Sum or product of lengths, computing the Python ints directly."""
    static = functools.reduce(combine, [d for d in lengths if isinstance(d, int)], unit)
    symbolic = [d for d in lengths if not isinstance(d, int)]
    if not symbolic:
        return static
    out = functools.reduce(combine, symbolic)
    return out if static == unit else combine(out, static)


def lengths_of(x: Variable) -> list[Length]:
    """The length of each axis of ``x``: static ints where known, else ShapeI variables."""
    return [shape_i(x, axis) for axis in range(x.ndim)]


def shape_entries(caller: Op | Caller, shape: Any, ndim: int | None = None, allow_none: bool = False) -> list:
    """int64 scalar variables from an int, a tuple/list of ints and int scalars, or an int vector.

    ``ndim`` is the number of entries expected (needed for a vector of unknown static length);
    with ``allow_none``, None entries stay None.
    """
    if isinstance(shape, Variable) and shape.ndim == 1:
        entries = vector_entries(caller, shape, ndim)
    elif isinstance(shape, list | tuple) or isinstance(shape, np.ndarray) and shape.ndim == 1:
        entries = list(shape)
    else:
        entries = [shape]
    if ndim is not None and len(entries) != ndim:
        raise caller.value_error(entries, f"{len(entries)} lengths given, expected {ndim}")
    return [None if e is None and allow_none else int_scalar(caller, entries, e) for e in entries]


def vector_entries(caller: Op | Caller, vector: Variable, ndim: int | None) -> list:
    """The entries of an int vector as ints (constant), ShapeI lengths (``x.shape``) or scalar variables."""
    if vector.dtype not in INT_DTYPES:
        raise caller.type_error([vector], f"a shape vector must have an integer dtype, got {vector.type}")
    length = vector.type.shape[0] if vector.type.shape[0] is not None else ndim
    if length is None:
        raise caller.value_error([vector], "a shape vector of unknown static length needs ndim")
    if isinstance(vector, Constant):
        return [int(d) for d in vector.data]
    if vector.owner is not None and isinstance(vector.owner.op, Shape):
        return lengths_of(vector.owner.inputs[0])
    return [vector[i] for i in range(length)]  # Variable.__getitem__: indexing sits above the lengths
