"""numba source for each scalar op: ``scalar_source(op, args, comp, out)`` -> an expression.

The arguments are names of scalars already converted to the op's computation dtype ``comp``; the caller
converts the result to ``out``. Every template follows NumPy's semantics for that dtype (integer wrap-around,
NaN propagation in maximum/minimum, floor division and remainder with the divisor's sign, half-to-even round).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from backends.numba.vecmath import FUNCTIONS as VECTOR_FUNCTIONS
from symgraph.ops.scalar import ScalarOp


def np_dtype(dtype: str) -> str:
    """The numba spelling of a dtype's scalar constructor, e.g. ``np.float32``."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def typed(value: object, dtype: str) -> str:
    """A constant of exactly ``dtype`` (an untyped literal would promote float32 to float64)."""
    return f"{np_dtype(dtype)}({value!r})"


def _is_int(dtype: str) -> bool:
    return np.dtype(dtype).kind in "biu"


def _call(fn: str) -> Callable[[list[str], str], str]:
    return lambda a, comp: f"{fn}({', '.join(a)})"


def _infix(symbol: str) -> Callable[[list[str], str], str]:
    return lambda a, comp: "(" + f" {symbol} ".join(a) + ")"


def _bool_or_int(bool_form: Callable, int_form: Callable) -> Callable[[list[str], str], str]:
    return lambda a, comp: bool_form(a, comp) if comp == "bool" else int_form(a, comp)


def _int_identity(fn: str) -> Callable[[list[str], str], str]:
    return lambda a, comp: a[0] if _is_int(comp) else f"{fn}({a[0]})"


def _float_only(fn: Callable[[list[str], str], str], int_value: str) -> Callable[[list[str], str], str]:
    return lambda a, comp: int_value if _is_int(comp) else fn(a, comp)


_TEMPLATES: dict[str, Callable[[list[str], str], str]] = {
    "add": _bool_or_int(_infix("|"), _infix("+")),
    "mul": _bool_or_int(_infix("&"), _infix("*")),
    "sub": _infix("-"),
    "true_div": _infix("/"),
    "floor_div": _call("np.floor_divide"),
    "mod": _call("np.remainder"),
    "pow": _call("np.power"),
    "maximum": _bool_or_int(_infix("|"), _call("np.maximum")),
    "minimum": _bool_or_int(_infix("&"), _call("np.minimum")),
    "arctan2": _call("np.arctan2"),
    "neg": lambda a, comp: f"(-{a[0]})",
    "abs": _bool_or_int(lambda a, c: a[0], _call("np.abs")),
    "sign": _call("np.sign"),
    "square": lambda a, comp: f"({a[0]} * {a[0]})",
    "floor": _int_identity("np.floor"),
    "ceil": _int_identity("np.ceil"),
    "round": _int_identity("np.rint"),
    "trunc": _int_identity("np.trunc"),
    "reciprocal": lambda a, comp: f"({typed(1, comp)} / {a[0]})",
    "relu": _bool_or_int(lambda a, c: a[0], lambda a, comp: f"np.maximum({a[0]}, {typed(0, comp)})"),
    "eq": _infix("=="),
    "neq": _infix("!="),
    "lt": _infix("<"),
    "le": _infix("<="),
    "gt": _infix(">"),
    "ge": _infix(">="),
    "isnan": _float_only(_call("np.isnan"), "False"),
    "isinf": _float_only(_call("np.isinf"), "False"),
    "logical_and": lambda a, comp: f"(({a[0]} != 0) & ({a[1]} != 0))",
    "logical_or": lambda a, comp: f"(({a[0]} != 0) | ({a[1]} != 0))",
    "logical_xor": lambda a, comp: f"(({a[0]} != 0) ^ ({a[1]} != 0))",
    "logical_not": lambda a, comp: f"({a[0]} == 0)",
    "and_": _infix("&"),
    "or_": _infix("|"),
    "xor": _infix("^"),
    "invert": _bool_or_int(lambda a, c: f"(not {a[0]})", lambda a, c: f"(~{a[0]})"),
    "switch": lambda a, comp: f"({a[1]} if {a[0]} else {a[2]})",
    "clip": lambda a, comp: f"np.minimum(np.maximum({a[0]}, {a[1]}), {a[2]})",
    "cast": lambda a, comp: a[0],
    "identity": lambda a, comp: a[0],
}
_TEMPLATES["sqrt"] = _call("np.sqrt")
# Float math (the op's dtype rule makes ``comp`` float32 or float64) goes through ``backends.numba.vecmath``,
# SIMD-friendly; ``vector_globals`` binds each name, falling back to numba's own function.
for _name in VECTOR_FUNCTIONS:
    _TEMPLATES[_name] = lambda a, comp, name=_name: f"vm_{name}_{comp}({a[0]})"
_FALLBACK = {"erf": "math.erf", "erfc": "math.erfc", "sigmoid": None, "softplus": None}  # None: always available
VECTOR_CALL = re.compile(r"\bvm_([a-z0-9]+)_(float32|float64)\(")


def vector_globals(source: str) -> list[str]:
    """Module-level lines defining the ``vm_<name>_<dtype>`` functions that ``source`` calls."""
    used = sorted(set(VECTOR_CALL.findall(source)))
    if not used:
        return []
    lines = ["from backends.numba.vecmath import vector_math"]
    for name, dtype in used:
        fallback = _FALLBACK.get(name, f"np.{name}")
        lines.append(f"vm_{name}_{dtype} = vector_math({name!r}, {dtype!r})" + (f" or {fallback}" if fallback else ""))
    return lines


def scalar_source(op: ScalarOp, args: list[str], comp: str) -> str:
    """numba expression computing ``op`` on ``args`` (scalars of dtype ``comp``)."""
    return _TEMPLATES[op.name](args, comp)


def missing_templates() -> set[str]:
    """Scalar ops without a template (the cross-backend tests require this to be empty)."""
    from symgraph.ops.scalar import SCALAR_SPECS

    return set(SCALAR_SPECS) - set(_TEMPLATES)
