"""Identity ops that only change the gradient flowing back through them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph import Apply, Variable, as_variable
from symgraph.op import Op
from symgraph.ops.elemwise import clip

__all__ = ["disconnected_grad", "stop_gradient", "zero_grad", "grad_clip", "grad_scale"]

_ARITY = {"disconnected": 0, "zero": 0, "clip": 2, "scale": 1}


@dataclass(frozen=True)
class GradientTransform(Op):
    """Returns its first input unchanged; ``kind`` says what happens to the gradient.

    "disconnected": no gradient flows (as if a constant); "zero": a zero gradient flows (the input
    stays connected); "clip": clipped to [lo, hi] elementwise; "scale": multiplied by a factor.
    """

    view_map = {0: 0}  # may return a view of x

    kind: str

    def make_node(self, x: Any, *params: Any) -> Apply:
        if self.kind not in _ARITY:
            raise self.value_error([x], f"unknown kind {self.kind!r}")
        x = as_variable(x)
        params = [as_variable(p) for p in params]
        if len(params) != _ARITY[self.kind] or any(p.ndim for p in params):
            raise self.type_error([x, *params], f"expects {_ARITY[self.kind]} scalar parameters")
        return Apply(self, [x, *params], [x.type])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0]]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        g, params = output_grads[0], node.inputs[1:]
        first = {
            "disconnected": lambda: None,
            "zero": lambda: g * 0,
            "clip": lambda: clip(g, params[0], params[1]),
            "scale": lambda: g * params[0],
        }[self.kind]()
        return [first] + [None] * len(params)


def disconnected_grad(x: Any) -> Variable:
    """``x`` in the forward pass; no gradient flows back through it (``stop_gradient``)."""
    return GradientTransform("disconnected")(x)


stop_gradient = disconnected_grad


def zero_grad(x: Any) -> Variable:
    """``x`` in the forward pass; the gradient through it is zero (but ``x`` stays connected)."""
    return GradientTransform("zero")(x)


def grad_clip(x: Any, lower_bound: Any, upper_bound: Any) -> Variable:
    """``x`` in the forward pass; the gradient through it is clipped to [lower_bound, upper_bound]."""
    return GradientTransform("clip")(x, lower_bound, upper_bound)


def grad_scale(x: Any, multiplier: Any) -> Variable:
    """``x`` in the forward pass; the gradient through it is multiplied by ``multiplier``."""
    return GradientTransform("scale")(x, multiplier)
