"""The Op base class: a value object that builds nodes, computes them with NumPy, and knows its shape.

Subclasses are frozen dataclasses, so equal ops compare equal and hash alike (rewrites merge them); ops
carrying inner graphs compare those graphs' structure (``symgraph.ops.inner_graph.InnerGraphOp``). Each op
defines its gradient as a method (``vjp``). The reference backend runs ``perform``; a compiled backend looks up the
code of an op by its type in its own rule registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from symgraph.errors import SymgraphTypeError, SymgraphValueError, build_error
from symgraph.graph import Apply, Variable

ShapeTuple = tuple  # entries: int or int64 scalar Variable


class Op:
    """Base of every operation. Subclasses implement ``make_node`` and ``perform``.

    ``view_map`` {output: input}: the output may be a view of that input's memory (reshape, slicing...).
    ``destroy_map`` {output: input}: the output is written into that input's memory (in-place ops); the
    rewrite and compile machinery only lets an op destroy a value that nothing reads afterwards.
    """

    view_map: ClassVar[dict[int, int]] = {}
    destroy_map: ClassVar[dict[int, int]] = {}

    def make_node(self, *inputs: Any) -> Apply:
        """Check the inputs, infer output types and return the Apply node."""
        raise NotImplementedError

    def __call__(self, *inputs: Any) -> Variable | list[Variable]:
        node = self.make_node(*inputs)
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """NumPy reference computation of the node's outputs."""
        raise NotImplementedError(f"{self} has no reference implementation")

    def infer_shape(self, node: Apply, input_shapes: Sequence[ShapeTuple]) -> list[ShapeTuple]:
        """Output shapes from input shapes, as tuples of ints and int64 scalar variables."""
        raise NotImplementedError

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Vector-Jacobian product: gradients of the inputs given those of the outputs."""
        raise NotImplementedError(f"{self} does not define a gradient")

    # -- helpers for subclasses ------------------------------------------------------------
    def type_error(self, inputs: Sequence[Any], message: str) -> SymgraphTypeError:
        return build_error(SymgraphTypeError, self, inputs, message)

    def value_error(self, inputs: Sequence[Any], message: str) -> SymgraphValueError:
        return build_error(SymgraphValueError, self, inputs, message)

    def __str__(self) -> str:
        props = [f.name for f in fields(self)] if hasattr(self, "__dataclass_fields__") else []
        if not props:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(f'{p}={getattr(self, p)!r}' for p in props)}}}"


@dataclass(frozen=True)
class Caller:
    """A public function's name, standing in for an op in the build errors it raises before any op exists.

    Offers ``type_error`` and ``value_error`` like an op, so ``normalize_axis`` and the length helpers of
    ``symgraph.ops.lengths`` accept either; the errors name the function (e.g. ``Caller("reshape")``).
    """

    name: str
    type_error = Op.type_error
    value_error = Op.value_error

    def __str__(self) -> str:
        return self.name


def normalize_axis(op: Op | Caller, inputs: Sequence[Any], axis: int, ndim: int) -> int:
    """A non-negative axis, or a build error naming the op."""
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise op.type_error(inputs, f"axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise op.value_error(inputs, f"axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def normalize_axes(op: Op | Caller, inputs: Sequence[Any], axis: Any, ndim: int) -> tuple[int, ...]:
    """A sorted tuple of distinct non-negative axes (``None`` = all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = tuple(sorted(normalize_axis(op, inputs, a, ndim) for a in axis))
    if len(set(out)) != len(out):
        raise op.value_error(inputs, f"repeated axis in {axis}")
    return out
