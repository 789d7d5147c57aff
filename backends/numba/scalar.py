"""numba source for each scalar op: ``scalar_source(op, args, comp)`` -> an expression; one template per op.
``scalar_helpers(op, comp)``: the module-level functions that expression calls (vector math, integer power).

The arguments are names of scalars already converted to the op's computation dtype ``comp``; the caller
converts the result to the output dtype. Every template follows NumPy's semantics for that dtype: integer
wrap-around (numba computes small integers in int64; the conversion to the output dtype wraps them; signed
arithmetic runs unsigned, see ``wrapping``), the edges
of integer division (x // 0 and x % 0 are 0, MIN // -1 is MIN, x % -1 is 0: numba would trap or differ),
integer powers by squaring (a negative exponent is NumPy's ValueError), NaN propagation in maximum/minimum,
floor division and remainder with the divisor's sign, half-to-even round.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backends.source import Import
from symgraph.ops import scalar as s
from symgraph.ops.scalar import ScalarOp

#: (op, argument names, computation dtype) -> a numba expression
Template = Callable[[ScalarOp, list[str], str], str]


def np_dtype(dtype: str) -> str:
    """The numba spelling of a dtype's scalar constructor, e.g. ``np.float32``."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def typed(value: object, dtype: str) -> str:
    """A constant of exactly ``dtype`` (an untyped literal would promote float32 to float64)."""
    return f"{np_dtype(dtype)}({value!r})"


def _kind(dtype: str) -> str:
    return np.dtype(dtype).kind


def _call(fn: str) -> Template:
    return lambda op, a, comp: f"{fn}({', '.join(a)})"


def _infix(symbol: str) -> Template:
    return lambda op, a, comp: "(" + f" {symbol} ".join(a) + ")"


def wrapping(symbol: str, args: list[str], comp: str) -> str:
    """``args`` joined by the arithmetic operator ``symbol``; signed integers in unsigned arithmetic, whose
    wrap-around is NumPy's (numba marks signed arithmetic no-signed-wrap, and LLVM then folds as if it could
    not wrap: ``abs(k - i)`` came out negative)."""
    if _kind(comp) != "i":
        return "(" + f" {symbol} ".join(args) + ")"
    return "np.int64(" + f" {symbol} ".join(f"np.uint64({x})" for x in args) + ")"


def _wrapping(symbol: str) -> Template:
    return lambda op, a, comp: wrapping(symbol, a, comp)


def _negated(x: str, comp: str) -> str:
    return wrapping("-", [typed(0, comp), x], comp) if _kind(comp) == "i" else f"(-{x})"  # floats: -0.0


def _bool_or_int(bool_form: Template, int_form: Template) -> Template:
    return lambda op, a, comp: bool_form(op, a, comp) if comp == "bool" else int_form(op, a, comp)


def _int_identity(fn: str) -> Template:
    return lambda op, a, comp: a[0] if _kind(comp) in "biu" else f"{fn}({a[0]})"


def _float_only(fn: Template, int_value: str) -> Template:
    return lambda op, a, comp: int_value if _kind(comp) in "biu" else fn(op, a, comp)


def _integer_division(fn: str, at_minus_one: Callable[[str, str], str]) -> Template:
    """``fn(a, b)`` with NumPy's integer edges: 0 for b == 0; for signed b == -1, ``at_minus_one(a, comp)``."""

    def template(op: ScalarOp, a: list[str], comp: str) -> str:
        x, y = a
        if _kind(comp) == "f":
            return f"{fn}({x}, {y})"
        zero = typed(0, comp)
        if _kind(comp) == "i":
            edge = at_minus_one(x, comp)
            return f"({zero} if {y} == {zero} else {edge} if {y} == {typed(-1, comp)} else {fn}({x}, {y}))"
        return f"({zero} if {y} == {zero} else {fn}({x}, {y}))"

    return template


@dataclass(frozen=True)
class Helper:
    """A function generated code calls by ``name``, bound at module level by ``imports`` and ``definition``."""

    name: str
    imports: tuple[Import, ...]
    definition: str | None = None
    vector: bool = False  # vector math: vectorizes over unit-stride loops only


INT_POWER = Helper("sg_int_power", (Import("backends.numba.intmath", "int_power", "sg_int_power"),))


def vector_helper(op: ScalarOp, dtype: str) -> Helper:
    """``vm_<op>_<dtype>``: ``op`` from ``backends.numba.vecmath`` for ``dtype``, or its template's fallback."""
    name, fallback = f"vm_{op.name}_{dtype}", _TEMPLATES[op].fallback
    bound = f"vector_math(scalar.{op.name}, {dtype!r})" + (f" or {fallback}" if fallback else "")
    imports = (Import("backends.numba.vecmath", "vector_math"), Import("symgraph.ops", "scalar"))
    return Helper(name, imports, f"{name} = {bound}", vector=True)


@dataclass(frozen=True)
class _Calling:
    """A template whose expression calls the helpers ``helpers(op, comp)`` gives."""

    template: Template
    helpers: Callable[[ScalarOp, str], tuple[Helper, ...]]

    def __call__(self, op: ScalarOp, a: list[str], comp: str) -> str:
        return self.template(op, a, comp)


def _power(op: ScalarOp, a: list[str], comp: str) -> str:
    if _kind(comp) == "i":  # in unsigned arithmetic, as ``wrapping``
        return f"np.int64({INT_POWER.name}(np.uint64({a[0]}), {a[1]}, np.uint64(1)))"
    if _kind(comp) == "u":
        return f"{INT_POWER.name}({a[0]}, {a[1]}, {typed(1, comp)})"
    return f"np.power({a[0]}, {a[1]})"


def _log1mexp(op: ScalarOp, a: list[str], comp: str) -> str:
    """log(-expm1(x)) above -ln 2, else log1p(-exp(x)), with vecmath's functions (both sides vectorize)."""
    x, c = a[0], comp
    log, expm1, log1p, exp = (vector_helper(f, c).name for f in _LOG1MEXP_CALLS)
    return f"({log}(-{expm1}({x})) if {x} > {typed(-math.log(2.0), c)} else {log1p}(-{exp}({x})))"


_LOG1MEXP_CALLS = (s.log, s.expm1, s.log1p, s.exp)


@dataclass(frozen=True)
class _Vector:
    """Float math through ``backends.numba.vecmath`` (SIMD-friendly): ``vm_<op>_<dtype>(x)`` (``vector_helper``),
    falling back to ``fallback`` (None: vecmath always has one)."""

    fallback: str | None

    def __call__(self, op: ScalarOp, a: list[str], comp: str) -> str:
        return f"{vector_helper(op, comp).name}({a[0]})"

    def helpers(self, op: ScalarOp, comp: str) -> tuple[Helper, ...]:
        return (vector_helper(op, comp),)


# fmt: off
_TEMPLATES: dict[ScalarOp, Template] = {
    s.add: _bool_or_int(_infix("|"), _wrapping("+")),
    s.mul: _bool_or_int(_infix("&"), _wrapping("*")),
    s.sub: _wrapping("-"),
    s.true_div: _infix("/"),
    s.floor_div: _integer_division("np.floor_divide", _negated),  # MIN // -1 wraps to MIN
    s.mod: _integer_division("np.remainder", lambda x, comp: typed(0, comp)),
    s.pow: _Calling(_power, lambda op, comp: (INT_POWER,) if _kind(comp) in "iu" else ()),
    s.maximum: _bool_or_int(_infix("|"), _call("np.maximum")),
    s.minimum: _bool_or_int(_infix("&"), _call("np.minimum")),
    s.arctan2: _call("np.arctan2"),
    s.neg: lambda op, a, comp: _negated(a[0], comp),
    s.abs: _bool_or_int(lambda op, a, comp: a[0], _call("np.abs")),
    s.sign: lambda op, a, comp: f"({a[0]} != {typed(0, comp)})" if _kind(comp) == "u" else f"np.sign({a[0]})",
    s.square: lambda op, a, comp: wrapping("*", [a[0], a[0]], comp),
    s.floor: _int_identity("np.floor"),
    s.ceil: _int_identity("np.ceil"),
    s.round: _int_identity("np.rint"),
    s.trunc: _int_identity("np.trunc"),
    s.reciprocal: lambda op, a, comp: f"({typed(1, comp)} / {a[0]})",
    s.relu: _bool_or_int(lambda op, a, comp: a[0], lambda op, a, comp: f"np.maximum({a[0]}, {typed(0, comp)})"),
    s.sqrt: _call("np.sqrt"),
    s.exp: _Vector("np.exp"), s.exp2: _Vector("np.exp2"), s.expm1: _Vector("np.expm1"),
    s.log: _Vector("np.log"), s.log2: _Vector("np.log2"), s.log10: _Vector("np.log10"), s.log1p: _Vector("np.log1p"),
    s.sin: _Vector("np.sin"), s.cos: _Vector("np.cos"), s.tan: _Vector("np.tan"),
    s.arcsin: _Vector("np.arcsin"), s.arccos: _Vector("np.arccos"), s.arctan: _Vector("np.arctan"),
    s.sinh: _Vector("np.sinh"), s.cosh: _Vector("np.cosh"), s.tanh: _Vector("np.tanh"),
    s.arcsinh: _Vector("np.arcsinh"), s.arccosh: _Vector("np.arccosh"), s.arctanh: _Vector("np.arctanh"),
    s.erf: _Vector("math.erf"), s.erfc: _Vector("math.erfc"), s.sigmoid: _Vector(None), s.softplus: _Vector(None),
    s.log1mexp: _Calling(_log1mexp, lambda op, comp: tuple(vector_helper(f, comp) for f in _LOG1MEXP_CALLS)),
    s.eq: _infix("=="),
    s.neq: _infix("!="),
    s.lt: _infix("<"),
    s.le: _infix("<="),
    s.gt: _infix(">"),
    s.ge: _infix(">="),
    s.isnan: _float_only(_call("np.isnan"), "False"),
    s.isinf: _float_only(_call("np.isinf"), "False"),
    s.logical_and: lambda op, a, comp: f"(({a[0]} != 0) & ({a[1]} != 0))",
    s.logical_or: lambda op, a, comp: f"(({a[0]} != 0) | ({a[1]} != 0))",
    s.logical_xor: lambda op, a, comp: f"(({a[0]} != 0) ^ ({a[1]} != 0))",
    s.logical_not: lambda op, a, comp: f"({a[0]} == 0)",
    s.and_: _infix("&"),
    s.or_: _infix("|"),
    s.xor: _infix("^"),
    s.invert: _bool_or_int(lambda op, a, comp: f"(not {a[0]})", lambda op, a, comp: f"(~{a[0]})"),
    s.switch: lambda op, a, comp: f"({a[1]} if {a[0]} else {a[2]})",
    s.clip: lambda op, a, comp: f"np.minimum(np.maximum({a[0]}, {a[1]}), {a[2]})",
    s.cast: lambda op, a, comp: a[0],
    s.identity: lambda op, a, comp: a[0],
}
# fmt: on
def scalar_source(op: ScalarOp, args: list[str], comp: str) -> str:
    """numba expression computing ``op`` on ``args`` (scalars of dtype ``comp``)."""
    return _TEMPLATES[op.definition](op, args, comp)


def scalar_helpers(op: ScalarOp, comp: str) -> tuple[Helper, ...]:
    """The helpers that ``scalar_source(op, ..., comp)`` calls."""
    template = _TEMPLATES[op.definition]
    return template.helpers(op, comp) if isinstance(template, _Calling | _Vector) else ()


def missing_templates() -> set[ScalarOp]:
    """Scalar ops without a template (the cross-backend tests require this to be empty)."""
    return set(s.OPS.values()) - set(_TEMPLATES)


def vector_ops() -> set[ScalarOp]:
    """The ops whose template calls ``backends.numba.vecmath`` (each must be one of its FUNCTIONS)."""
    return {op for op, template in _TEMPLATES.items() if isinstance(template, _Vector)}
