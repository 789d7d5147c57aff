"""Joining and cutting tensors along an axis: concatenate, stack, split."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Variable, as_variable, constant
from symgraph.op import Caller, Op, normalize_axis
from symgraph.ops.alloc import alloc
from symgraph.ops.lengths import Length, as_length, fold_lengths, int_scalar, lengths_of, shape_entries, shape_i
from symgraph.ops.shape import expand_dims
from symgraph.types import TensorType, upcast

__all__ = ["concatenate", "stack", "split"]


# -- ops --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Concatenate(Op):
    """Tensors of equal rank joined along ``axis``; the dtype is their NumPy promotion."""

    axis: int

    def make_node(self, *tensors: Any) -> Apply:
        tensors = [as_variable(t) for t in tensors]
        if not tensors:
            raise self.type_error(tensors, "needs at least one tensor")
        ndim = tensors[0].ndim
        if any(t.ndim != ndim for t in tensors):
            raise self.type_error(tensors, "all tensors must have the same number of dimensions")
        if not 0 <= self.axis < ndim:
            raise self.value_error(tensors, f"axis {self.axis} is out of range for {ndim} dimensions")
        out = []
        for axis in range(ndim):
            dims = [t.type.shape[axis] for t in tensors]
            known = {d for d in dims if d is not None}
            if axis == self.axis:
                out.append(None if None in dims else sum(dims))
            elif len(known) > 1:
                raise self.value_error(tensors, f"lengths on axis {axis} differ: {dims}")
            else:
                out.append(known.pop() if known else None)
        return Apply(self, tensors, [TensorType(upcast(*(t.dtype for t in tensors)), out)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.concatenate(inputs, axis=self.axis, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        out: list[Length] = []
        for axis in range(node.outputs[0].ndim):
            dims = [s[axis] for s in input_shapes]
            if axis == self.axis:
                out.append(fold_lengths(dims, operator.add, 0))
            else:
                out.append(next((d for d in dims if isinstance(d, int)), dims[0]))
        return [tuple(out)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradient split back into the inputs' lengths along ``axis`` (none for integer inputs)."""
        g, tensors = output_grads[0], node.inputs
        pieces = split(g, [shape_i(t, self.axis) for t in tensors], axis=self.axis) if len(tensors) > 1 else [g]
        return [piece if t.type.is_float else None for piece, t in zip(pieces, tensors)]


@dataclass(frozen=True)
class Split(Op):
    """``n_splits`` consecutive pieces of ``x`` along ``axis``; the lengths (inputs) must sum to its length."""

    n_splits: int
    axis: int

    @property
    def view_map(self) -> dict[int, int]:  # every piece is a view of x
        return dict.fromkeys(range(self.n_splits), 0)

    def make_node(self, x: Any, *sizes: Any) -> Apply:
        x = as_variable(x)
        sizes = [int_scalar(self, [x, *sizes], s) for s in sizes]
        inputs = [x, *sizes]
        if len(sizes) != self.n_splits:
            raise self.type_error(inputs, f"expects {self.n_splits} lengths, got {len(sizes)}")
        if not 0 <= self.axis < x.ndim:
            raise self.value_error(inputs, f"axis {self.axis} is out of range for {x.ndim} dimensions")
        dims = [as_length(s) for s in sizes]
        known = [d for d in dims if isinstance(d, int)]
        length = x.type.shape[self.axis]
        total = sum(known)
        bad_total = length is not None and (total > length if len(known) < len(dims) else total != length)
        if min(known, default=0) < 0 or bad_total:
            raise self.value_error(
                inputs, f"split lengths {dims} must be >= 0 and sum to the length of axis {self.axis} ({length})"
            )
        head, tail = x.type.shape[: self.axis], x.type.shape[self.axis + 1 :]
        types = [x.type.clone(shape=(*head, d if isinstance(d, int) else None, *tail)) for d in dims]
        return Apply(self, inputs, types)

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        x, sizes = inputs[0], [int(s) for s in inputs[1:]]
        if min(sizes) < 0 or sum(sizes) != x.shape[self.axis]:
            raise ValueError(
                f"split lengths {sizes} do not sum to {x.shape[self.axis]} (the length of axis {self.axis})"
            )
        return np.split(x, np.cumsum(sizes)[:-1], axis=self.axis)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        head, tail = tuple(input_shapes[0][: self.axis]), tuple(input_shapes[0][self.axis + 1 :])
        return [(*head, as_length(s), *tail) for s in node.inputs[1:]]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradients joined along ``axis``; an unused output (None) contributes zeros."""
        x, sizes = node.inputs[0], node.inputs[1:]
        lengths = lengths_of(x)
        zero = constant(0, dtype=x.dtype)
        pieces = [
            g if g is not None else alloc(zero, *lengths[: self.axis], size, *lengths[self.axis + 1 :])
            for g, size in zip(output_grads, sizes)
        ]
        return [concatenate(pieces, self.axis) if len(pieces) > 1 else pieces[0], *[None] * self.n_splits]


# -- public functions -------------------------------------------------------------------------
def concatenate(tensors: Sequence[Any], axis: int = 0) -> Variable:
    """Tensors joined along an existing axis, as ``np.concatenate``."""
    tensors = [as_variable(t) for t in tensors]
    caller = Caller("concatenate")
    if not tensors:
        raise caller.value_error(tensors, "needs at least one tensor")
    return Concatenate(normalize_axis(caller, tensors, axis, tensors[0].ndim))(*tensors)


def stack(tensors: Sequence[Any], axis: int = 0) -> Variable:
    """Tensors of equal shape joined along a new axis, as ``np.stack``."""
    tensors = [as_variable(t) for t in tensors]
    caller = Caller("stack")
    if not tensors:
        raise caller.value_error(tensors, "needs at least one tensor")
    axis = normalize_axis(caller, tensors, axis, tensors[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in tensors], axis)


def split(x: Any, splits_size: Any, n_splits: int | None = None, axis: int = 0) -> list[Variable]:
    """``x`` cut along ``axis`` into pieces of the given lengths (Theano's split); they must sum to its length."""
    x = as_variable(x)
    caller = Caller("split")
    sizes = shape_entries(caller, splits_size, n_splits)
    if not sizes:
        raise caller.value_error([x], "needs at least one split")
    return Split(len(sizes), normalize_axis(caller, [x], axis, x.ndim)).make_node(x, *sizes).outputs
