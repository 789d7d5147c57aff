"""Vector-Jacobian products of the scalar ops, keyed by scalar op name (used by Elemwise.vjp).

Each entry takes (inputs, output, g) and returns one gradient per input (None: no gradient, as for
comparisons, or for inputs that are integer). Gradients have the broadcast output shape; the
gradient driver sums them back over broadcast axes.
Conventions at kinks: relu'(0) = 0, abs'(0) = 0, maximum/minimum send the gradient of ties to the
first argument, clip passes it where lo <= x <= hi.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from symgraph.graph import Variable
from symgraph.ops import elemwise as ew

VJP = Callable[[list[Variable], Variable, Variable], list[Variable | None]]


def _zero(inputs: list[Variable], out: Variable, g: Variable) -> list[Variable | None]:
    return [ew.mul(g, 0) if x.type.is_float else None for x in inputs]


def _none(inputs: list[Variable], out: Variable, g: Variable) -> list[Variable | None]:
    return [None] * len(inputs)


def _mul(inputs: list[Variable], out: Variable, g: Variable) -> list[Variable]:
    grads = []
    for i in range(len(inputs)):
        others = inputs[:i] + inputs[i + 1 :]
        grads.append(g * (others[0] if len(others) == 1 else ew.mul(*others)))
    return grads


def _pow(inputs: list[Variable], out: Variable, g: Variable) -> list[Variable]:
    x, y = inputs
    base = g * y * x ** (y - 1)
    # d/dy x**y = x**y log x; at x == 0 the limit (y > 0) is 0, not nan
    exponent = ew.where(ew.eq(x, 0), 0, g * out * ew.log(ew.where(ew.eq(x, 0), 1, x)))
    return [base, exponent]


_LN2, _LN10, _TWO_OVER_SQRT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# fmt: off
SCALAR_VJPS: dict[str, VJP] = {
    "add": lambda xs, out, g: [g] * len(xs),
    "sub": lambda xs, out, g: [g, -g],
    "mul": _mul,
    "true_div": lambda xs, out, g: [g / xs[1], -g * out / xs[1]],
    "floor_div": _zero,
    "mod": lambda xs, out, g: [g, -g * ew.floor_div(xs[0], xs[1])],
    "pow": _pow,
    "maximum": lambda xs, out, g: [g * ew.ge(xs[0], xs[1]), g * ew.lt(xs[0], xs[1])],
    "minimum": lambda xs, out, g: [g * ew.le(xs[0], xs[1]), g * ew.gt(xs[0], xs[1])],
    "arctan2": lambda xs, out, g: [g * xs[1] / (xs[0] ** 2 + xs[1] ** 2), -g * xs[0] / (xs[0] ** 2 + xs[1] ** 2)],
    "neg": lambda xs, out, g: [-g],
    "abs": lambda xs, out, g: [g * ew.sign(xs[0])],
    "sign": _zero, "floor": _zero, "ceil": _zero, "round": _zero, "trunc": _zero,
    "square": lambda xs, out, g: [g * 2 * xs[0]],
    "reciprocal": lambda xs, out, g: [-g * out * out],
    "exp": lambda xs, out, g: [g * out],
    "exp2": lambda xs, out, g: [g * out * _LN2],
    "expm1": lambda xs, out, g: [g * (out + 1)],
    "log": lambda xs, out, g: [g / xs[0]],
    "log2": lambda xs, out, g: [g / (xs[0] * _LN2)],
    "log10": lambda xs, out, g: [g / (xs[0] * _LN10)],
    "log1p": lambda xs, out, g: [g / (xs[0] + 1)],
    "sqrt": lambda xs, out, g: [g / (out * 2)],
    "sin": lambda xs, out, g: [g * ew.cos(xs[0])],
    "cos": lambda xs, out, g: [-g * ew.sin(xs[0])],
    "tan": lambda xs, out, g: [g * (out * out + 1)],
    "arcsin": lambda xs, out, g: [g / ew.sqrt(1 - xs[0] * xs[0])],
    "arccos": lambda xs, out, g: [-g / ew.sqrt(1 - xs[0] * xs[0])],
    "arctan": lambda xs, out, g: [g / (xs[0] * xs[0] + 1)],
    "sinh": lambda xs, out, g: [g * ew.cosh(xs[0])],
    "cosh": lambda xs, out, g: [g * ew.sinh(xs[0])],
    "tanh": lambda xs, out, g: [g * (1 - out * out)],
    "arcsinh": lambda xs, out, g: [g / ew.sqrt(xs[0] * xs[0] + 1)],
    "arccosh": lambda xs, out, g: [g / ew.sqrt(xs[0] * xs[0] - 1)],
    "arctanh": lambda xs, out, g: [g / (1 - xs[0] * xs[0])],
    "erf": lambda xs, out, g: [g * _TWO_OVER_SQRT_PI * ew.exp(-xs[0] * xs[0])],
    "erfc": lambda xs, out, g: [-g * _TWO_OVER_SQRT_PI * ew.exp(-xs[0] * xs[0])],
    "sigmoid": lambda xs, out, g: [g * out * (1 - out)],
    "softplus": lambda xs, out, g: [g * ew.sigmoid(xs[0])],
    "relu": lambda xs, out, g: [g * ew.gt(xs[0], 0)],
    "switch": lambda xs, out, g: [None, ew.where(xs[0], g, 0), ew.where(xs[0], 0, g)],
    "clip": lambda xs, out, g: [g * ew.logical_and(ew.ge(xs[0], xs[1]), ew.le(xs[0], xs[2])),
                                g * ew.lt(xs[0], xs[1]), g * ew.gt(xs[0], xs[2])],
    "cast": lambda xs, out, g: [g if xs[0].type.is_float else None],
    "identity": lambda xs, out, g: [g],
}
# fmt: on
for _name in ("eq", "neq", "lt", "le", "gt", "ge", "isnan", "isinf", "logical_and", "logical_or", "logical_xor",
              "logical_not", "and_", "or_", "xor", "invert"):  # fmt: skip
    SCALAR_VJPS[_name] = _none
