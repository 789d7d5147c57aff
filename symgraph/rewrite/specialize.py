"""Specialize phase: general operations replaced by the cheaper special ops that compute the same values.

``x ** 2 -> square(x)`` and ``x * x -> square(x)`` (canonicalize writes ``x ** 2`` as ``x * x``); a product with
repeated factors squares each pair (``c * x * x -> c * square(x)``; ``x * x * x * x`` becomes ``square(square(x))``).
"""

from __future__ import annotations

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Variable
from symgraph.ops.elemwise import mul, square
from symgraph.rewrite.engine import register
from symgraph.stable_forms import checked, squared


@register("specialize", "pow", "mul", name="square")
def square_from_product(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``x ** 2 -> square(x)``; ``x * x -> square(x)``, pairing the repeated factors of a longer product."""
    out = node.outputs[0]
    if out.dtype == "bool":  # a product of bools stays bool, their square would be int8
        return None
    if node.op.scalar_op.name == "pow":
        x = squared(out)
        return checked(out, square(x)) if x is not None else None
    counts: dict[int, int] = {}
    for v in node.inputs:
        counts[id(v)] = counts.get(id(v), 0) + 1
    if max(counts.values()) < 2:
        return None
    factors = []
    for v in node.inputs:
        n = counts.pop(id(v), 0)  # 0: v's factors are already placed
        factors += [square(v)] * (n // 2) + [v] * (n % 2)
    return checked(out, factors[0] if len(factors) == 1 else mul(*factors))
