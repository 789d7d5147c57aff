"""Jacobians and Hessians: one gradient per element of the expression, unrolled for a few elements, else a scan
(so any size works, symbolic ones too). Sits above ``grad`` and ``scan``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symgraph.grad import as_list, grad
from symgraph.graph import Variable, as_variable
from symgraph.ops.alloc import arange
from symgraph.ops.join import stack
from symgraph.ops.lengths import lengths_of
from symgraph.ops.shape import shape_i
from symgraph.scan import scan

__all__ = ["jacobian", "hessian"]

# Static sizes up to this many elements get one gradient graph per element, larger ones a scan. Measured on numba
# (jacobian of tanh(W tanh(V x))): at 2-4 elements both call alike; at 10 the scan calls 3-7x faster and compiles
# no slower; at 200 the unrolled graph did not finish compiling in 25 minutes (the scan: under a minute).
JACOBIAN_UNROLL = 4


def jacobian(expression: Variable, wrt: Variable | Sequence[Variable],
             consider_constant: Sequence[Variable] | None = None,
             disconnected_inputs: str = "raise") -> Variable | list[Variable]:  # fmt: skip
    """Jacobian of ``expression`` (any shape) with respect to ``wrt`` (a variable or a list): for each, shape
    expression.shape + wrt.shape. ``consider_constant`` and ``disconnected_inputs`` as in ``grad``.

    Row i is the gradient of the expression's element i: one graph per element where the expression has a static
    size of at most ``JACOBIAN_UNROLL`` elements, else a scan over the elements (any size, symbolic too).
    """
    expression = as_variable(expression)
    wrt_list, single = as_list(wrt)
    if expression.ndim == 0:
        results = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return results[0] if single else results
    flat = expression.flatten()
    rows = _jacobian_rows(flat, wrt_list, consider_constant, disconnected_inputs)
    results = []
    for stacked, var in zip(rows, wrt_list):
        shape = [*lengths_of(expression), *lengths_of(var)]
        results.append(stacked.reshape(shape, ndim=len(shape)))
    return results[0] if single else results


def _jacobian_rows(flat: Variable, wrt: list[Variable], consider_constant: Sequence[Variable] | None,
                   disconnected_inputs: str) -> list[Variable]:  # fmt: skip
    """For each of ``wrt``, the gradients of the vector ``flat``'s elements stacked on a new first axis."""
    def row(i: Any) -> list[Variable]:
        return grad(flat[i], wrt, consider_constant, disconnected_inputs)

    size = flat.type.shape[0]
    if size is not None and 0 < size <= JACOBIAN_UNROLL:
        rows = [row(i) for i in range(size)]
        return [stack([r[j] for r in rows]) for j in range(len(wrt))]
    stacked, _ = scan(row, sequences=arange(shape_i(flat, 0)), name="jacobian")
    return stacked


def hessian(cost: Variable, wrt: Variable | Sequence[Variable], consider_constant: Sequence[Variable] | None = None,
            disconnected_inputs: str = "raise") -> Variable | list[Variable]:  # fmt: skip
    """Hessian of the scalar ``cost`` with respect to each of ``wrt`` (any shapes): the jacobian of its gradient,
    shape wrt.shape + wrt.shape. ``consider_constant`` and ``disconnected_inputs`` as in ``grad``."""
    wrt_list, single = as_list(wrt)
    grads = grad(cost, wrt_list, consider_constant, disconnected_inputs)
    results = [jacobian(g, var, consider_constant, disconnected_inputs) for g, var in zip(grads, wrt_list)]
    return results[0] if single else results
