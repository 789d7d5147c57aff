"""Shape operations: reshape, dimshuffle/transpose, specify_shape.

The Shape and ShapeI ops, and the reading of lengths (reshape targets), are in ``symgraph.ops.lengths``;
allocation and broadcasting in ``symgraph.ops.alloc``; concatenation and splitting in ``symgraph.ops.join``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Variable, as_variable
from symgraph.op import Caller, Op, normalize_axes, normalize_axis
from symgraph.ops.elemwise import lt, where
from symgraph.ops.lengths import (  # noqa: F401  (Shape, ShapeI, shape, shape_i: also importable from here)
    Length,
    Shape,
    ShapeI,
    as_length,
    fold_lengths,
    int_scalar,
    lengths_of,
    shape,
    shape_entries,
    shape_i,
)
from symgraph.types import TensorType

__all__ = [
    "shape", "shape_i", "reshape", "dimshuffle", "transpose", "flatten", "expand_dims", "squeeze", "specify_shape",
]  # fmt: skip


# -- ops --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reshape(Op):
    """``x`` with a new shape of ``ndim`` lengths (int64 scalar inputs, at most one of them -1)."""

    view_map = {0: 0}  # may return a view of x

    ndim: int

    def make_node(self, x: Any, *shape: Any) -> Apply:
        x = as_variable(x)
        shape = [int_scalar(self, [x, *shape], s) for s in shape]
        inputs = [x, *shape]
        if len(shape) != self.ndim:
            raise self.type_error(inputs, f"expects {self.ndim} lengths, got {len(shape)}")
        dims = [as_length(s) for s in shape]
        known = [d for d in dims if isinstance(d, int)]
        if any(d < -1 for d in known) or known.count(-1) > 1:
            raise self.value_error(inputs, f"lengths must be >= 0 with at most one -1, got {dims}")
        out = [d if isinstance(d, int) and d >= 0 else None for d in dims]
        if None not in x.type.shape and len(known) == len(dims):
            size, rest = math.prod(x.type.shape), math.prod(d for d in known if d != -1)
            if -1 in known and rest and size % rest == 0:
                out[known.index(-1)] = size // rest
            elif -1 in known or rest != size:
                raise self.value_error(inputs, f"cannot reshape {x.type} (size {size}) into shape {tuple(dims)}")
        return Apply(self, inputs, [TensorType(x.dtype, out)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.reshape(inputs[0], tuple(int(s) for s in inputs[1:]))]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        dims = [as_length(s) for s in node.inputs[1:]]
        size = fold_lengths(input_shapes[0], operator.mul, 1)
        constant_minus_one = -1 in [d for d in dims if isinstance(d, int)]

        def missing(i: int) -> Length:  # the length a -1 at position i stands for
            rest = fold_lengths(dims[:i] + dims[i + 1 :], operator.mul, 1)
            return size // (max(rest, 1) if isinstance(rest, int) else rest)

        out: list[Length] = []
        for i, (static, d) in enumerate(zip(node.outputs[0].type.shape, dims)):
            if static is not None:
                out.append(static)
            elif isinstance(d, int):  # the constant -1
                out.append(missing(i))
            else:  # a symbolic length may be -1 at run time unless a constant -1 is present
                out.append(d if constant_minus_one else where(lt(d, 0), missing(i), d))
        return [tuple(out)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradient reshaped back to the input's shape; the lengths get none."""
        return [reshape(output_grads[0], lengths_of(node.inputs[0])), *[None] * self.ndim]


@dataclass(frozen=True)
class DimShuffle(Op):
    """Theano's dimshuffle: output axis i is input axis ``pattern[i]``, or a new length-1 axis for 'x'.

    Input axes left out of the pattern are dropped; they must have static length 1.
    """

    view_map = {0: 0}  # may return a view of x

    input_ndim: int
    pattern: tuple

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        if x.ndim != self.input_ndim:
            raise self.type_error([x], f"expects a {self.input_ndim}-d input, got {x.ndim}-d")
        kept = [p for p in self.pattern if p != "x"]
        for p in kept:
            if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p < x.ndim:
                raise self.value_error([x], f"pattern entries must be axes in [0, {x.ndim}) or 'x', got {p!r}")
        if len(set(kept)) != len(kept):
            raise self.value_error([x], f"an axis appears more than once in {self.pattern}")
        dropped = [a for a in range(x.ndim) if a not in kept and x.type.shape[a] != 1]
        if dropped:
            raise self.value_error(
                [x], f"cannot drop axes {dropped}: only axes of static length 1 (broadcastable) can be dropped"
            )
        return Apply(self, [x], [x.type.clone(shape=[1 if p == "x" else x.type.shape[p] for p in self.pattern])])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        kept = [p for p in self.pattern if p != "x"]
        order = sorted(kept)
        y = np.squeeze(x, axis=tuple(a for a in range(x.ndim) if a not in kept))
        y = np.transpose(y, [order.index(p) for p in kept])
        return [np.expand_dims(y, tuple(i for i, p in enumerate(self.pattern) if p == "x"))]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(1 if p == "x" else input_shapes[0][p] for p in self.pattern)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The inverse dimshuffle of the output gradient: inserted axes (static length 1 in the gradient, as the
        driver fits it to the output type) removed, dropped ones restored."""
        inverse = tuple(self.pattern.index(a) if a in self.pattern else "x" for a in range(self.input_ndim))
        return [dimshuffle(output_grads[0], inverse)]


@dataclass(frozen=True)
class SpecifyShape(Op):
    """``x`` unchanged, its shape checked at run time; axis i has a length input where ``given[i]``."""

    view_map = {0: 0}  # may return a view of x

    given: tuple[bool, ...]

    def _per_axis(self, lengths: Sequence[Any]) -> list[Any]:
        it = iter(lengths)
        return [next(it) if g else None for g in self.given]

    def make_node(self, x: Any, *shape: Any) -> Apply:
        x = as_variable(x)
        shape = [int_scalar(self, [x, *shape], s) for s in shape]
        inputs = [x, *shape]
        if x.ndim != len(self.given) or sum(self.given) != len(shape):
            raise self.type_error(inputs, f"expects a {len(self.given)}-d tensor and {sum(self.given)} lengths")
        dims = [None if s is None else as_length(s) for s in self._per_axis(shape)]
        out = []
        for have, want in zip(x.type.shape, dims):
            if isinstance(want, int) and (want < 0 or have not in (None, want)):
                raise self.value_error(inputs, f"shape {tuple(dims)} does not match {x.type}")
            out.append(want if isinstance(want, int) else have)
        return Apply(self, inputs, [x.type.clone(shape=out)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0]
        want = [None if s is None else int(s) for s in self._per_axis(inputs[1:])]
        if any(w is not None and w != n for w, n in zip(want, x.shape)):
            raise ValueError(f"expected shape {tuple(want)} (None: any length), got {x.shape}")
        return [x]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        wanted = self._per_axis(node.inputs[1:])
        return [tuple(d if w is None else as_length(w) for d, w in zip(input_shapes[0], wanted))]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradient unchanged; the lengths get none."""
        return [output_grads[0], *[None] * sum(self.given)]


# -- public functions -------------------------------------------------------------------------
def reshape(x: Any, newshape: Any, ndim: int | None = None) -> Variable:
    """``x`` with shape ``newshape``: ints and int scalars (one may be -1), or an int vector of ``ndim`` entries."""
    x = as_variable(x)
    entries = shape_entries(Caller("reshape"), newshape, ndim)
    return Reshape(len(entries))(x, *entries)


def dimshuffle(x: Any, pattern: Sequence[int | str]) -> Variable:
    """Theano's dimshuffle: reorder axes, insert length-1 axes ('x'), drop axes of static length 1."""
    x = as_variable(x)
    pattern = tuple(int(p) if isinstance(p, np.integer) else p for p in pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def transpose(x: Any, axes: Sequence[int] | int | None = None) -> Variable:
    """``x`` with its axes permuted (reversed by default), as ``np.transpose``."""
    x = as_variable(x)
    caller = Caller("transpose")
    axes = tuple(reversed(range(x.ndim))) if axes is None else (axes,) if isinstance(axes, int | np.integer) else axes
    perm = tuple(normalize_axis(caller, [x], a, x.ndim) for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise caller.value_error([x], f"axes {tuple(axes)} are not a permutation of {x.ndim} axes")
    return dimshuffle(x, perm)


def flatten(x: Any, ndim: int = 1) -> Variable:
    """Theano's flatten: keep the first ``ndim - 1`` axes and collapse the others into one."""
    x = as_variable(x)
    if not isinstance(ndim, int) or not 1 <= ndim <= max(x.ndim, 1):
        raise Caller("flatten").value_error([x], f"ndim must be in [1, {max(x.ndim, 1)}], got {ndim!r}")
    lengths = lengths_of(x)
    return reshape(x, [*lengths[: ndim - 1], fold_lengths(lengths[ndim - 1 :], operator.mul, 1)])


def expand_dims(x: Any, axis: int | Sequence[int]) -> Variable:
    """``x`` with new length-1 axes at positions ``axis`` of the result, as ``np.expand_dims``."""
    x = as_variable(x)
    ndim = x.ndim + (1 if isinstance(axis, int | np.integer) else len(axis))
    new = normalize_axes(Caller("expand_dims"), [x], axis, ndim)
    rest = iter(range(x.ndim))
    return dimshuffle(x, tuple("x" if i in new else next(rest) for i in range(ndim)))


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Variable:
    """``x`` without the given axes (default: every axis of static length 1); they must be static 1."""
    x = as_variable(x)
    if axis is None:
        drop = [a for a, d in enumerate(x.type.shape) if d == 1]
    else:
        drop = normalize_axes(Caller("squeeze"), [x], axis, x.ndim)
    return dimshuffle(x, tuple(a for a in range(x.ndim) if a not in drop))


def specify_shape(x: Any, shape: Any) -> Variable:
    """``x``, asserted at run time to have ``shape`` (None entries are free); refines the static shape."""
    x = as_variable(x)
    entries = shape_entries(Caller("specify_shape"), shape, x.ndim, allow_none=True)
    return SpecifyShape(tuple(e is not None for e in entries))(x, *[e for e in entries if e is not None])
