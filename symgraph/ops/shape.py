"""Shape operations: shape, reshape, dimshuffle/transpose, concatenation, splitting, specify_shape.

Lengths (reshape targets, split sizes) are read by ``symgraph.ops.lengths``; allocation and broadcasting
live in ``symgraph.ops.alloc``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Variable, as_variable, constant
from symgraph.op import Caller, Op, normalize_axes, normalize_axis
from symgraph.ops.elemwise import lt, where
from symgraph.ops.lengths import Length, as_length, fold_lengths, int_scalar, lengths_of, shape_entries
from symgraph.types import TensorType, upcast

__all__ = [
    "shape", "shape_i", "reshape", "dimshuffle", "transpose", "flatten", "expand_dims", "squeeze",
    "concatenate", "stack", "split", "specify_shape",
]  # fmt: skip


# -- ops --------------------------------------------------------------------------------------
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
        from symgraph.ops.alloc import alloc

        x, sizes = node.inputs[0], node.inputs[1:]
        lengths = lengths_of(x)
        zero = constant(0, dtype=x.dtype)
        pieces = [
            g if g is not None else alloc(zero, *lengths[: self.axis], size, *lengths[self.axis + 1 :])
            for g, size in zip(output_grads, sizes)
        ]
        return [concatenate(pieces, self.axis) if len(pieces) > 1 else pieces[0], *[None] * self.n_splits]


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
def shape(x: Any) -> Variable:
    """The shape of ``x`` as a symbolic int64 vector (``x.shape``)."""
    return Shape()(x)


def shape_i(x: Any, axis: int) -> Variable | int:
    """Length of ``x`` along ``axis``: a Python int when static, else an int64 scalar variable."""
    x = as_variable(x)
    static = x.type.shape[axis]
    return static if static is not None else ShapeI(axis % x.ndim if x.ndim else axis)(x)


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


def specify_shape(x: Any, shape: Any) -> Variable:
    """``x``, asserted at run time to have ``shape`` (None entries are free); refines the static shape."""
    x = as_variable(x)
    entries = shape_entries(Caller("specify_shape"), shape, x.ndim, allow_none=True)
    return SpecifyShape(tuple(e is not None for e in entries))(x, *[e for e in entries if e is not None])
