"""Allocation and broadcasting: alloc, zeros/ones/full/fill and their _like forms, broadcast_to, arange, eye.

Shapes are given as ints, int scalars or int vectors (see ``symgraph.ops.lengths``) and become separate int64
scalar inputs, so constant lengths refine static shapes and symbolic ones feed ``infer_shape`` directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.config import config
from symgraph.graph import Apply, Constant, Variable, as_variable, constant
from symgraph.op import Caller, Op
from symgraph.ops.elemwise import cast, ceil, maximum
from symgraph.ops.lengths import as_length, int_scalar, lengths_of, shape_entries
from symgraph.ops.shape import reshape
from symgraph.types import FLOAT_DTYPES, INT_DTYPES, TensorType, as_dtype, upcast

__all__ = ["broadcast_to", "alloc", "zeros_like", "ones_like", "zeros", "ones", "full", "fill", "arange", "eye"]


# -- ops --------------------------------------------------------------------------------------
class _Broadcast(Op):
    """A value broadcast by NumPy rules to a shape given as int64 scalar inputs (Alloc, BroadcastTo)."""

    def make_node(self, value: Any, *shape: Any) -> Apply:
        value = as_variable(value)
        shape = [int_scalar(self, [value, *shape], s) for s in shape]
        inputs = [value, *shape]
        dims = [as_length(s) for s in shape]
        if len(dims) < value.ndim:
            raise self.value_error(inputs, f"cannot broadcast {value.ndim} dimensions to {len(dims)}")
        out = []
        for want, have in zip(dims, (1,) * (len(dims) - value.ndim) + value.type.shape):
            if isinstance(want, int) and (want < 0 or have not in (None, 1, want)):
                raise self.value_error(inputs, f"cannot broadcast {value.type} to shape {tuple(dims)}")
            out.append(want if isinstance(want, int) else None if have == 1 else have)
        return Apply(self, inputs, [TensorType(value.dtype, out)])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else as_length(v) for s, v in zip(static, node.inputs[1:]))]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradient summed back to the value's shape, over the axes it was broadcast along.

        Those are the new leading axes, the value's axes of static length 1, and any axis of unknown static
        length that is 1 at run time: such an axis is split into (value length, repeats) and summed over the
        repeats, exact either way. The lengths get no gradient.
        """
        value, g = node.inputs[0], output_grads[0]
        none = [None] * (len(node.inputs) - 1)
        lead = g.ndim - value.ndim
        if lead:
            g = g.sum(axis=tuple(range(lead)))
        ones = tuple(a for a, d in enumerate(value.type.shape) if d == 1 and g.type.shape[a] != 1)
        if ones:
            g = g.sum(axis=ones, keepdims=True)
        unknown = [a for a, d in enumerate(value.type.shape) if d is None and g.type.shape[a] != 1]
        if not unknown:
            return [g, *none]
        have, out = lengths_of(value), lengths_of(g)
        split = [[have[a], out[a] // maximum(have[a], 1)] if a in unknown else [out[a]] for a in range(g.ndim)]
        repeats = tuple(a + i + 1 for i, a in enumerate(unknown))
        return [reshape(g, [d for pair in split for d in pair]).sum(axis=repeats), *none]


@dataclass(frozen=True)
class Alloc(_Broadcast):
    """A new array of the given shape holding ``value`` broadcast (Theano's alloc)."""

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.full(tuple(int(s) for s in inputs[1:]), inputs[0], dtype=node.outputs[0].dtype)]


@dataclass(frozen=True)
class BroadcastTo(_Broadcast):
    """``np.broadcast_to``: a read-only broadcast view of the input."""

    view_map = {0: 0}  # may return a view of x

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.broadcast_to(inputs[0], tuple(int(s) for s in inputs[1:]))]


@dataclass(frozen=True)
class ARange(Op):
    """``np.arange(start, stop, step, dtype)`` from three real scalars."""

    dtype: str

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        inputs = [as_variable(v) for v in (start, stop, step)]
        if any(v.ndim != 0 or v.dtype not in INT_DTYPES + FLOAT_DTYPES for v in inputs):
            raise self.type_error(inputs, "start, stop and step must be integer or float scalars")
        length = None
        if all(isinstance(v, Constant) for v in inputs):
            start, stop, step = (v.data.item() for v in inputs)
            if step == 0:
                raise self.value_error(inputs, "step must not be 0")
            exact = all(isinstance(v, int) for v in (start, stop, step))
            length = max(-((start - stop) // step) if exact else math.ceil((stop - start) / step), 0)
        return Apply(self, inputs, [TensorType(self.dtype, (length,))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        start, stop, step = (v.item() for v in inputs)
        if step == 0:
            raise ValueError("step must not be 0")
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        if node.outputs[0].type.shape[0] is not None:
            return [node.outputs[0].type.shape]
        if all(v.dtype in INT_DTYPES for v in node.inputs):
            start, stop, step = (cast(v, "int64") for v in node.inputs)
            length = -((start - stop) // step)
        else:  # NumPy computes the length in double precision
            start, stop, step = (cast(v, "float64") for v in node.inputs)
            length = cast(ceil((stop - start) / step), "int64")
        return [(maximum(length, 0),)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Element i is ``start + i * step``: ``start`` gets sum(g), ``step`` gets sum(i * g); ``stop`` only sets
        the length (piecewise constant), so it gets none, as do all inputs of an integer arange.
        """
        if self.dtype not in FLOAT_DTYPES:
            return [None] * 3
        g = output_grads[0]
        return [g.sum(), None, (g * arange(lengths_of(g)[0], dtype=self.dtype)).sum()]


@dataclass(frozen=True)
class Eye(Op):
    """``np.eye(n, m, k, dtype)``: ones on the k-th diagonal of an n x m matrix."""

    dtype: str

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        inputs = [int_scalar(self, [n, m, k], v) for v in (n, m, k)]
        dims = [as_length(v) for v in inputs[:2]]
        if any(isinstance(d, int) and d < 0 for d in dims):
            raise self.value_error(inputs, f"n and m must be >= 0, got {dims}")
        return Apply(self, inputs, [TensorType(self.dtype, [d if isinstance(d, int) else None for d in dims])])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        n, m, k = (int(v) for v in inputs)
        return [np.eye(n, m, k, dtype=self.dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(as_length(v) for v in node.inputs[:2])]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Integer inputs only: no gradient flows."""
        return [None] * 3


# -- public functions -------------------------------------------------------------------------
def broadcast_to(x: Any, shape: Any) -> Variable:
    """``x`` broadcast to ``shape`` (ints, int scalars or an int vector), as ``np.broadcast_to``."""
    return BroadcastTo()(x, *shape_entries(Caller("broadcast_to"), shape))


def alloc(value: Any, *shape: Any) -> Variable:
    """A new tensor of shape ``shape`` (int scalars) holding ``value`` broadcast (Theano's alloc)."""
    return Alloc()(value, *shape)


def _filled_like(x: Any, value: int, dtype: object) -> Variable:
    x = as_variable(x)
    return alloc(constant(value, dtype=dtype or x.dtype), *lengths_of(x))


def zeros_like(x: Any, dtype: object = None) -> Variable:
    """Zeros with the shape of ``x`` and its dtype (or ``dtype``)."""
    return _filled_like(x, 0, dtype)


def ones_like(x: Any, dtype: object = None) -> Variable:
    """Ones with the shape of ``x`` and its dtype (or ``dtype``)."""
    return _filled_like(x, 1, dtype)


def zeros(shape: Any, dtype: object = None) -> Variable:
    """Zeros of ``shape`` (an int, ints and int scalars, or an int vector); dtype default floatX."""
    return alloc(constant(0, dtype=dtype or config.floatX), *shape_entries(Caller("zeros"), shape))


def ones(shape: Any, dtype: object = None) -> Variable:
    """Ones of ``shape`` (an int, ints and int scalars, or an int vector); dtype default floatX."""
    return alloc(constant(1, dtype=dtype or config.floatX), *shape_entries(Caller("ones"), shape))


def full(shape: Any, fill_value: Any, dtype: object = None) -> Variable:
    """A tensor of ``shape`` filled with ``fill_value`` (broadcast).

    dtype default: that of ``fill_value`` when it is a tensor or NumPy value, floatX for Python numbers.
    """
    if dtype is None and not isinstance(fill_value, Variable | np.ndarray | np.generic):
        dtype = config.floatX
    value = as_variable(fill_value) if dtype is None else cast(as_variable(fill_value), dtype)
    return alloc(value, *shape_entries(Caller("full"), shape))


def fill(model: Any, value: Any) -> Variable:
    """A tensor shaped like ``model`` filled with ``value`` (broadcast), of ``value``'s dtype.

    A Python number takes the dtype NumPy gives it next to ``model`` (e.g. ``fill(float32, 1)`` is float32).
    """
    model = as_variable(model)
    if isinstance(value, bool | int | float):
        try:
            value = constant(np.asarray(value, dtype=np.result_type(model.dtype, value)))
        except OverflowError as err:
            raise Caller("fill").value_error([model], f"{value!r} does not fit in {model.dtype}: {err}") from err
    return alloc(value, *lengths_of(model))


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: object = None) -> Variable:
    """``np.arange`` with scalar (possibly symbolic) bounds.

    dtype default: int64 when every argument is an integer, else the promotion of the float arguments
    (Python floats count as floatX).
    """
    if stop is None:
        start, stop = 0, start
    args = [as_variable(v) for v in (start, stop, step)]
    if dtype is None:
        floats = [v.dtype for v in args if v.dtype in FLOAT_DTYPES]
        dtype = upcast(*floats) if floats else "int64"
    dtype = as_dtype(dtype)
    if dtype not in INT_DTYPES + FLOAT_DTYPES:
        raise Caller("arange").type_error(args, f"dtype must be an integer or float dtype, got {dtype}")
    return ARange(dtype)(*args)


def eye(n: Any, m: Any = None, k: Any = 0, dtype: object = None) -> Variable:
    """An ``n x m`` matrix (m defaults to n) with ones on diagonal ``k``; dtype default floatX."""
    return Eye(as_dtype(dtype or config.floatX))(n, n if m is None else m, k)
