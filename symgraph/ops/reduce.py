"""Reductions: sum, prod, max, min, all, any, argmax/argmin and logsumexp; mean, var and std built on sum.

Every reduction op drops the reduced axes; ``keepdims=True`` re-inserts them as length-1 axes with
``expand_dims`` (a DimShuffle), so rewrites and backends see a single canonical form of each reduction.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from symgraph.graph import Apply, Variable, as_variable, constant
from symgraph.op import Caller, Op, normalize_axes, normalize_axis
from symgraph.ops.alloc import broadcast_to
from symgraph.ops.elemwise import cast, eq, exp, maximum, mul, sqrt, square, sub, true_div, where
from symgraph.ops.lengths import fold_lengths, lengths_of
from symgraph.ops.shape import expand_dims, shape_i
from symgraph.types import TensorType, as_dtype, float_of

__all__ = ["sum", "prod", "mean", "max", "min", "var", "std", "argmax", "argmin", "all", "any", "logsumexp"]

Axis = int | Sequence[int] | None

_REDUCERS = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "all": np.all, "any": np.any}


def _default_dtype(kind: str, dtype: str) -> str:
    """NumPy's output dtype of a reduction: sum/prod upcast bool and small ints, all/any give bool."""
    if kind in ("sum", "prod"):
        return _REDUCERS[kind](np.zeros(0, dtype)).dtype.name
    return "bool" if kind in ("all", "any") else dtype


def _check_axes(op: Op, x: Variable, axes: tuple[int, ...]) -> tuple[int | None, ...]:
    """The static shape left after dropping ``axes`` (which must be sorted, distinct and in range)."""
    if axes != tuple(sorted(set(axes))) or not builtins.all(0 <= a < x.ndim for a in axes):
        raise op.value_error([x], f"axes {axes} must be sorted, distinct and in [0, {x.ndim})")
    return _drop(x.type.shape, axes)


def _drop(shape: tuple, axes: tuple[int, ...]) -> tuple:
    return tuple(d for i, d in enumerate(shape) if i not in axes)


@dataclass(frozen=True)
class Reduce(Op):
    """``kind`` (sum, prod, max, min, all or any) over ``axes`` (sorted, distinct), which are dropped.

    ``dtype``: accumulator and output dtype of sum and prod (None: NumPy's default for the input).
    Max and min of an empty axis fail at run time, as in NumPy.
    """

    kind: str
    axes: tuple[int, ...]
    dtype: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _REDUCERS:
            raise ValueError(f"unknown reduction {self.kind!r}; expected one of {sorted(_REDUCERS)}")

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        shape = _check_axes(self, x, self.axes)
        if self.dtype is not None and self.kind not in ("sum", "prod"):
            raise self.value_error([x], "only sum and prod take a dtype")
        return Apply(self, [x], [TensorType(self.dtype or _default_dtype(self.kind, x.dtype), shape)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        dtype = node.outputs[0].dtype
        kwargs = {"dtype": dtype} if self.kind in ("sum", "prod") else {}
        return [np.asarray(_REDUCERS[self.kind](inputs[0], axis=self.axes, **kwargs), dtype=dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [_drop(input_shapes[0], self.axes)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """sum: ``g`` broadcast back; prod: ``g`` times the product of the other elements; max/min: ``g``
        to every element equal to the result (tied elements each get the full gradient, as in Theano;
        torch.amax splits it evenly instead; NaN results give no gradient).

        prod divides the result by each nonzero element (so an element's gradient stays exact, and
        differentiable, when another element is zero); a zero element gets the product of the nonzero
        ones if it is its group's only zero, else 0. Second derivatives are exact where a group has at
        most one zero. all/any (and integer inputs) have no gradient.
        """
        x, out = node.inputs[0], node.outputs[0]
        if self.kind in ("all", "any") or not x.type.is_float:
            return [None]
        g, out = (expand_dims(v, self.axes) if self.axes else v for v in (output_grads[0], out))
        if self.kind == "sum":
            return [broadcast_to(g, lengths_of(x))]
        if self.kind in ("max", "min"):
            return [mul(g, eq(x, out))]
        zero = eq(x, 0)
        nonzero = where(zero, 1, x)
        lone_zero = eq(sum(zero, self.axes, keepdims=True), 1)
        others = where(zero, where(lone_zero, prod(nonzero, self.axes, keepdims=True), 0), true_div(out, nonzero))
        return [mul(g, others)]


@dataclass(frozen=True)
class LogSumExp(Op):
    """log(sum(exp(x))) over ``axes``, computed stably by factoring out the maximum; a float result."""

    axes: tuple[int, ...]

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        return Apply(self, [x], [TensorType(float_of(x.dtype), _check_axes(self, x, self.axes))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        x = inputs[0].astype(node.outputs[0].dtype)
        peak = np.max(x, axis=self.axes, keepdims=True, initial=-np.inf)  # -inf over an empty axis
        peak = np.where(np.isfinite(peak), peak, 0)  # all -inf, or +inf/NaN present: exp gives the answer
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(x - peak), axis=self.axes)) + np.squeeze(peak, self.axes)
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [_drop(input_shapes[0], self.axes)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``g`` times softmax(x) = exp(x - logsumexp(x)), which never overflows."""
        x = node.inputs[0]
        if not x.type.is_float:
            return [None]
        g, out = (expand_dims(v, self.axes) if self.axes else v for v in (output_grads[0], node.outputs[0]))
        return [mul(g, exp(sub(x, out)))]


@dataclass(frozen=True)
class ArgReduce(Op):
    """Base of Argmax and Argmin: the int64 index along ``axis`` (None: into the flattened tensor)."""

    axis: int | None
    func: ClassVar[Any]

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        if self.axis is None:
            return Apply(self, [x], [TensorType("int64", ())])
        return Apply(self, [x], [TensorType("int64", _check_axes(self, x, (self.axis,)))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(self.func(inputs[0], axis=self.axis), dtype="int64")]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [() if self.axis is None else _drop(input_shapes[0], (self.axis,))]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """An index is piecewise constant in ``x``: no gradient."""
        return [None]


@dataclass(frozen=True)
class Argmax(ArgReduce):
    """Index of the largest element (the first one on ties; NaN counts as largest)."""

    func = staticmethod(np.argmax)


@dataclass(frozen=True)
class Argmin(ArgReduce):
    """Index of the smallest element (the first one on ties; NaN counts as smallest)."""

    func = staticmethod(np.argmin)


# -- helpers -----------------------------------------------------------------------------------
def _keep(out: Variable, axes: Sequence[int], keepdims: bool) -> Variable:
    """``out`` with the reduced ``axes`` put back as length-1 axes when ``keepdims``."""
    return expand_dims(out, tuple(axes)) if keepdims and axes else out


def axes_size(x: Variable, axes: Sequence[int]) -> int | Variable:
    """Number of elements of ``x`` over ``axes``: a Python int when static, else an int64 scalar."""
    return fold_lengths([shape_i(x, a) for a in axes], operator.mul, 1)


def _count(x: Variable, axes: Sequence[int], dtype: str, ddof: float = 0) -> Variable:
    """``max(n - ddof, 0)`` for the number ``n`` of elements over ``axes``, as a ``dtype`` scalar."""
    n = axes_size(x, axes)
    if isinstance(n, int):
        return constant(np.asarray(builtins.max(n - ddof, 0), dtype=dtype))
    n = cast(n, dtype)
    return maximum(sub(n, ddof), 0) if ddof else n


def _mean_dtype(x: Variable) -> str:
    """NumPy's dtype for mean/var/std: floats keep theirs, bool and ints give float64."""
    return x.dtype if x.type.is_float else "float64"


def _axes(name: str, x: Variable, axis: Axis) -> tuple[int, ...]:
    """``axis`` as sorted non-negative axes of ``x``; build errors name the public function."""
    return normalize_axes(Caller(name), [x], axis, x.ndim)


def _reduce(kind: str, x: Any, axis: Axis, keepdims: bool, dtype: object = None) -> Variable:
    x = as_variable(x)
    axes = _axes(kind, x, axis)
    if dtype is not None:
        try:
            dtype = as_dtype(dtype)
        except TypeError as err:
            raise Caller(kind).type_error([x], str(err)) from err
        if dtype == _default_dtype(kind, x.dtype):
            dtype = None  # one canonical op for the default
    return _keep(Reduce(kind, axes, dtype)(x), axes, keepdims)


# -- public functions --------------------------------------------------------------------------
def sum(x: Any, axis: Axis = None, keepdims: bool = False, dtype: object = None) -> Variable:  # noqa: A001
    """Sum over ``axis`` (None: all); bool and small ints accumulate in int64/uint64 unless ``dtype``."""
    return _reduce("sum", x, axis, keepdims, dtype)


def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: object = None) -> Variable:
    """Product over ``axis`` (None: all); bool and small ints accumulate in int64/uint64 unless ``dtype``."""
    return _reduce("prod", x, axis, keepdims, dtype)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Largest element over ``axis`` (NaN propagates; an empty axis fails at run time)."""
    return _reduce("max", x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Smallest element over ``axis`` (NaN propagates; an empty axis fails at run time)."""
    return _reduce("min", x, axis, keepdims)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Whether every element over ``axis`` is nonzero (a bool tensor; True over an empty axis)."""
    return _reduce("all", x, axis, keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Whether some element over ``axis`` is nonzero (a bool tensor; False over an empty axis)."""
    return _reduce("any", x, axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:
    """Arithmetic mean over ``axis``: sum divided by the element count (ints give float64)."""
    x = as_variable(x)
    dtype = _mean_dtype(x)
    axes = _axes("mean", x, axis)
    return true_div(sum(x, axes, keepdims, dtype), _count(x, axes, dtype))


def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Variable:
    """Variance over ``axis``: the mean squared deviation, dividing by ``n - ddof`` (ints give float64)."""
    x = as_variable(x)
    dtype = _mean_dtype(x)
    axes = _axes("var", x, axis)
    x_float = cast(x, dtype)
    deviation = sub(x_float, mean(x_float, axes, keepdims=True))
    return true_div(sum(square(deviation), axes, keepdims), _count(x, axes, dtype, ddof))


def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Variable:
    """Standard deviation over ``axis``: the square root of ``var``."""
    return sqrt(var(x, axis, keepdims, ddof))


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Variable:
    """Int64 index of the largest element along ``axis`` (None: into the flattened tensor)."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Variable:
    """Int64 index of the smallest element along ``axis`` (None: into the flattened tensor)."""
    return _arg("argmin", x, axis, keepdims)


def _arg(name: str, x: Any, axis: int | None, keepdims: bool) -> Variable:
    x = as_variable(x)
    if axis is not None:
        axis = normalize_axis(Caller(name), [x], axis, x.ndim)
    op = Argmax(axis) if name == "argmax" else Argmin(axis)
    return _keep(op(x), range(x.ndim) if axis is None else (axis,), keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:
    """log(sum(exp(x))) over ``axis``, without overflow (-inf over an empty axis); a float result."""
    x = as_variable(x)
    axes = _axes("logsumexp", x, axis)
    return _keep(LogSumExp(axes)(x), axes, keepdims)
