"""Ops behind ``sg.nnet``: softmax along an axis, log-softmax, cross-entropy on int targets, one-hot encoding,
and the cross-entropy of the softmax of logits that the stabilize rewrites fuse ``crossentropy(softmax(z), t)`` into.

Softmax and LogSoftmax are dedicated ops (rather than graphs of exp/sum) so that they are computed
stably, and so that rewrites (``log(softmax(x)) -> log_softmax(x)``) and gradients can target them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Constant, Variable, as_variable
from symgraph.op import Op, normalize_axis
from symgraph.ops.elemwise import cast, exp, where
from symgraph.ops.shape import expand_dims, shape_i
from symgraph.types import TensorType, as_dtype

__all__ = [
    "SoftmaxBase", "Softmax", "LogSoftmax", "CategoricalCrossentropyInt", "SoftmaxCategoricalCrossentropyInt", "OneHot",
]  # fmt: skip


@dataclass(frozen=True)
class SoftmaxBase(Op):
    """A float tensor normalized along ``axis``; the output has the input's type."""

    axis: int

    def make_node(self, x: Any) -> Apply:
        x = as_variable(x)
        if not x.type.is_float:
            raise self.type_error([x], f"needs a float tensor, got {x.dtype}")
        normalize_axis(self, [x], self.axis, x.ndim)
        return Apply(self, [x], [x.type])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(input_shapes[0])]

    def _shifted(self, x: np.ndarray) -> np.ndarray:
        """``x`` minus its maximum along the axis (the largest entry becomes 0, so exp cannot overflow)."""
        return x - np.max(x, axis=self.axis, keepdims=True, initial=-np.inf)


@dataclass(frozen=True)
class Softmax(SoftmaxBase):
    """``exp(x) / sum(exp(x), axis)``, computed stably."""

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            e = np.exp(self._shifted(inputs[0]))
            out = e / np.sum(e, axis=self.axis, keepdims=True)
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``s * (g - sum(g * s, axis))`` from the output ``s`` (bounded in [0, 1], so stable for any logits)."""
        s, g = node.outputs[0], output_grads[0]
        return [s * (g - (g * s).sum(axis=self.axis, keepdims=True))]


@dataclass(frozen=True)
class LogSoftmax(SoftmaxBase):
    """``x - logsumexp(x, axis)``, computed stably."""

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            s = self._shifted(inputs[0])
            out = s - np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True))
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``g - softmax(x) * sum(g, axis)``, with softmax as ``exp(out)`` (out <= 0, so exp cannot overflow)."""
        g = output_grads[0]
        return [g - exp(node.outputs[0]) * g.sum(axis=self.axis, keepdims=True)]


@dataclass(frozen=True)
class CategoricalCrossentropyInt(Op):
    """``-log(p[i, t[i]])`` for a float matrix ``p`` (rows = examples) and an int vector of classes ``t``.

    A target outside ``[0, p.shape[1])`` is an error at run time.
    """

    def make_node(self, coding_dist: Any, targets: Any) -> Apply:
        return _rows_and_targets_node(self, coding_dist, targets, "coding_dist")

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        p, t = inputs
        check_rows_and_targets(p, t, "coding_dist")
        with np.errstate(all="ignore"):
            out = -np.log(p[np.arange(p.shape[0]), t])
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [(input_shapes[0][0],)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``-g[i] / p[i, t[i]]`` at each target entry, 0 elsewhere; none for the int targets.

        ``1 / p[i, t[i]]`` is taken as ``exp(out[i])``; entries off the targets get an exact 0 (even when
        ``p[i, t[i]] == 0`` makes the target's entry infinite).
        """
        p, t = node.inputs
        is_target = OneHot("bool")(t, shape_i(p, 1))
        return [where(is_target, expand_dims(-output_grads[0] * exp(node.outputs[0]), 1), 0), None]


@dataclass(frozen=True)
class SoftmaxCategoricalCrossentropyInt(Op):
    """``categorical_crossentropy(softmax(z), t)`` fused: ``logsumexp(z[i]) - z[i, t[i]]`` for a float matrix of
    logits ``z`` (rows = examples) and an int vector of classes ``t``; finite for any finite logits.

    Built by the ``crossentropy_softmax`` rewrite; a target outside ``[0, z.shape[1])`` is an error at run time.
    """

    def make_node(self, logits: Any, targets: Any) -> Apply:
        return _rows_and_targets_node(self, logits, targets, "logits")

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        z, t = inputs
        check_rows_and_targets(z, t, "logits")
        with np.errstate(all="ignore"):
            shifted = z - np.max(z, axis=1, keepdims=True, initial=-np.inf)
            out = np.log(np.sum(np.exp(shifted), axis=1)) - shifted[np.arange(z.shape[0]), t]
        return [np.asarray(out, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [(input_shapes[0][0],)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``g[i] * (softmax(z)[i] - onehot(t[i]))``: bounded, so finite at any logits; none for the int targets."""
        z, t = node.inputs
        hit = OneHot(z.dtype)(t, shape_i(z, 1))
        return [expand_dims(output_grads[0], 1) * (Softmax(1)(z) - hit), None]


@dataclass(frozen=True)
class OneHot(Op):
    """``indices.shape + (depth,)`` tensor of ``dtype``: 1 at each index, 0 elsewhere.

    Inputs: an int tensor of indices and an int64 scalar depth. An index outside ``[0, depth)``
    is an error at run time.
    """

    dtype: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", as_dtype(self.dtype))

    def make_node(self, indices: Any, depth: Any) -> Apply:
        indices, depth = as_variable(indices), as_variable(depth)
        if not indices.type.is_integer:
            raise self.type_error([indices, depth], f"indices must be integers, got {indices.dtype}")
        if depth.ndim != 0 or not depth.type.is_integer:
            raise self.type_error([indices, depth], f"depth must be an int scalar, got {depth.type}")
        depth = cast(depth, "int64")
        length = None
        if isinstance(depth, Constant):
            length = int(depth.data)
            if length < 0:
                raise self.value_error([indices, depth], f"depth must be >= 0, got {length}")
        return Apply(self, [indices, depth], [TensorType(self.dtype, indices.type.shape + (length,))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        indices, depth = inputs[0], int(inputs[1])
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        check_classes(indices, depth)
        return [np.asarray(indices[..., None] == np.arange(depth), dtype=self.dtype)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        depth = node.inputs[1]
        return [tuple(input_shapes[0]) + (int(depth.data) if isinstance(depth, Constant) else depth,)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Integer inputs and a piecewise-constant output: no gradient."""
        return [None, None]


def check_classes(indices: np.ndarray, n: int) -> None:
    """Raise ValueError unless every index lies in ``[0, n)``."""
    bad = indices[(indices < 0) | (indices >= n)]
    if bad.size:
        raise ValueError(f"class index {bad.flat[0]} is out of range for {n} classes")


def _rows_and_targets_node(op: Op, matrix: Any, targets: Any, what: str) -> Apply:
    """The node of ``op`` on a float matrix (one row per example) and an int vector of one class per row."""
    x, t = as_variable(matrix), as_variable(targets)
    if x.ndim != 2 or not x.type.is_float:
        raise op.type_error([x, t], f"{what} must be a float matrix, got {x.type}")
    if t.ndim != 1 or not t.type.is_integer:
        raise op.type_error([x, t], f"targets must be an int vector of class indices, got {t.type}")
    rows = {n for n in (x.type.shape[0], t.type.shape[0]) if n is not None}
    if len(rows) > 1:
        raise op.value_error([x, t], f"{x.type.shape[0]} rows of {what} but {t.type.shape[0]} targets")
    return Apply(op, [x, t], [TensorType(x.dtype, (rows.pop() if rows else None,))])


def check_rows_and_targets(x: np.ndarray, t: np.ndarray, what: str) -> None:
    """Raise ValueError unless there is one target per row of ``x``, each a class in ``[0, x.shape[1])``."""
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"{x.shape[0]} rows of {what} but {t.shape[0]} targets")
    check_classes(t, x.shape[1])
