"""Shape operations: shape, reshape, dimshuffle/transpose, concatenation, broadcasting, allocation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Variable, as_variable
from symgraph.op import Op
from symgraph.types import TensorType

__all__ = ["shape", "shape_i"]


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


def shape(x: Any) -> Variable:
    """The shape of ``x`` as a symbolic int64 vector (``x.shape``)."""
    return Shape()(x)


def shape_i(x: Any, axis: int) -> Variable | int:
    """Length of ``x`` along ``axis``: a Python int when static, else an int64 scalar variable."""
    x = as_variable(x)
    static = x.type.shape[axis]
    return static if static is not None else ShapeI(axis % x.ndim if x.ndim else axis)(x)
