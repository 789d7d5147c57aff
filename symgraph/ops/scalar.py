"""Scalar operations: the math that Elemwise applies element by element, each defined once below.

A ``ScalarOp`` holds everything the core knows of one op, side by side: its NumPy reference (``impl``), its
dtype rule, its vector-Jacobian product and its sympy form. Ops are values compared by name (and a cast's
target dtype); each is a module attribute named after the op, and ``OPS`` lists them all. Backends register
their own code per op (e.g. ``backends.numba.scalar``). Nothing here imports sympy or the tensor functions:
rules that build expressions receive the module to build with (``sp``: sympy; ``ew``: the elementwise
functions of ``symgraph.ops.elemwise``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.special

from symgraph.types import float_of, upcast

#: (op, input dtypes) -> (dtype the inputs are converted to, output dtype); raises TypeError if invalid
DtypeRule = Callable[["ScalarOp", tuple[str, ...]], tuple[str, str]]
#: (ew, inputs, output, output gradient) -> one gradient per input (None: no gradient)
VJP = Callable[[Any, list, Any, Any], list]


def numpy_rule(op: ScalarOp, dtypes: tuple[str, ...]) -> tuple[str, str]:
    """Compute in the common dtype; the output dtype is what ``op.impl`` gives for it (probed on empty arrays)."""
    common = upcast(*dtypes)
    with np.errstate(all="ignore"):
        return common, op.impl(*(np.zeros(0, dtype=common) for _ in dtypes)).dtype.name


def float_rule(op: ScalarOp, dtypes: tuple[str, ...]) -> tuple[str, str]:
    """Compute in, and return, the float dtype of the common dtype (integers are upgraded first)."""
    dtype = float_of(upcast(*dtypes))
    return dtype, dtype


def same_rule(op: ScalarOp, dtypes: tuple[str, ...]) -> tuple[str, str]:
    """Compute in, and return, the common dtype."""
    dtype = upcast(*dtypes)
    return dtype, dtype


def branches_rule(op: ScalarOp, dtypes: tuple[str, ...]) -> tuple[str, str]:
    """The common dtype of every input but the first (a condition)."""
    dtype = upcast(*dtypes[1:])
    return dtype, dtype


def cast_rule(op: ScalarOp, dtypes: tuple[str, ...]) -> tuple[str, str]:
    """Read the input as it is; return the op's target dtype."""
    if op.dtype is None:
        raise TypeError("cast needs a target dtype (use cast_to(dtype))")
    return dtypes[0], op.dtype


@dataclass(frozen=True)
class ScalarOp:
    """One scalar operation; equal when name and ``dtype`` (a cast's target, else None) are equal.

    ``nin``: the number of inputs (-1: two or more). ``impl``: the NumPy reference on arrays already converted
    to the computation dtype. ``peers``: the inputs that promote together and are converted (default all).
    ``vjp``: None when the op has no gradient (comparisons, logic). ``sympy``: the op's meaning on sympy values,
    ``sympy(sp, *args)`` with each argument given as ``sympy_args`` says ("number": bools as 0/1, "truth":
    nonzero is true, "any": as it is); a cast also receives ``dtype=``. ``sympy_bool``: its meaning where every
    input is a bool (NumPy's arithmetic on bools is logic). None: no sympy meaning.
    """

    name: str
    dtype: str | None = None
    nin: int = field(default=1, compare=False, kw_only=True)
    impl: Callable[..., np.ndarray] = field(compare=False, repr=False, kw_only=True)
    rule: DtypeRule = field(compare=False, repr=False, kw_only=True)
    vjp: VJP | None = field(default=None, compare=False, repr=False, kw_only=True)
    sympy: Callable[..., Any] | None = field(default=None, compare=False, repr=False, kw_only=True)
    sympy_bool: Callable[..., Any] | None = field(default=None, compare=False, repr=False, kw_only=True)
    sympy_args: str | tuple[str, ...] = field(default="number", compare=False, repr=False, kw_only=True)
    peers: tuple[int, ...] | None = field(default=None, compare=False, repr=False, kw_only=True)
    doc: str = field(default="", compare=False, repr=False, kw_only=True)

    def dtypes(self, in_dtypes: tuple[str, ...]) -> tuple[str, str]:
        """(dtype the inputs are converted to before computing, output dtype); TypeError if invalid."""
        return self.rule(self, in_dtypes)

    def compute(self, inputs: list[np.ndarray], comp_dtype: str, out_dtype: str) -> np.ndarray:
        """Reference computation on NumPy arrays (broadcasting as NumPy); never returns an input's memory."""
        peers = range(len(inputs)) if self.peers is None else self.peers
        args = [np.asarray(x, dtype=comp_dtype) if i in peers else x for i, x in enumerate(inputs)]
        with np.errstate(all="ignore"):
            out = np.asarray(self.impl(*args), dtype=out_dtype)
        return out.copy() if any(out is x for x in inputs) else out

    @property
    def definition(self) -> ScalarOp:
        """The op as defined here (a cast without its target dtype): what backends register their code for."""
        return self if self.dtype is None else replace(self, dtype=None)

    def __reduce__(self) -> tuple:
        return _lookup, (self.name, self.dtype)

    def __str__(self) -> str:
        return f"cast{{{self.dtype}}}" if self.dtype else self.name


#: every scalar op, by name
OPS: dict[str, ScalarOp] = {}


def _define(name: str, nin: int, impl: Callable, rule: DtypeRule, doc: str, **rules: Any) -> ScalarOp:
    op = ScalarOp(name, nin=nin, impl=impl, rule=rule, doc=doc, **rules)
    OPS[name] = op
    return op


def _lookup(name: str, dtype: str | None) -> ScalarOp:
    return replace(OPS[name], dtype=dtype) if dtype else OPS[name]


def cast_to(dtype: str) -> ScalarOp:
    """The scalar op converting to ``dtype``."""
    return replace(cast, dtype=dtype)


# -- helpers for the definitions -----------------------------------------------------------------------------
def _fold(ufunc: np.ufunc) -> Callable[..., np.ndarray]:
    """A variadic op from a binary ufunc, applied left to right."""

    def apply(*xs: np.ndarray) -> np.ndarray:
        out = ufunc(xs[0], xs[1])
        for x in xs[2:]:
            out = ufunc(out, x)
        return out

    return apply


def _int_identity(func: Callable) -> Callable:
    """Rounding functions are the identity on integers."""
    return lambda x: x if x.dtype.kind in "biu" else func(x)


def _zero_vjp(ew: Any, xs: list, out: Any, g: Any) -> list:
    """A gradient of zero (piecewise constant functions); None for integer inputs."""
    return [ew.mul(g, 0) if x.type.is_float else None for x in xs]


def _mul_vjp(ew: Any, xs: list, out: Any, g: Any) -> list:
    others = [xs[:i] + xs[i + 1 :] for i in range(len(xs))]
    return [g * (rest[0] if len(rest) == 1 else ew.mul(*rest)) for rest in others]


def _pow_vjp(ew: Any, xs: list, out: Any, g: Any) -> list:
    x, y = xs
    # d/dy x**y = x**y log x; at x == 0 the limit (y > 0) is 0, not nan
    return [g * y * x ** (y - 1), ew.where(ew.eq(x, 0), 0, g * out * ew.log(ew.where(ew.eq(x, 0), 1, x)))]


def _trunc(sp: Any, a: Any) -> Any:
    return sp.Piecewise((sp.floor(a), a >= 0), (sp.ceiling(a), True))


def _cast_sympy(sp: Any, a: Any, dtype: str) -> Any:
    """NumPy's astype of a number: nonzero is true, floats truncate toward zero into integers."""
    if dtype == "bool":
        return sp.Ne(a, 0)
    return a if np.dtype(dtype).kind == "f" or a.is_integer else _trunc(sp, a)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros((), x.dtype), x)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)): log(-expm1(x)) above -ln 2, log1p(-exp(x)) below (each accurate there; NaN for x > 0)."""
    return np.where(x > -_LN2, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


_LN2, _LN10, _TWO_OVER_SQRT_PI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)

# fmt: off
# -- arithmetic ----------------------------------------------------------------------------------------------
add = _define("add", -1, _fold(np.add), numpy_rule, "Elementwise sum of two or more tensors.",
              vjp=lambda ew, xs, out, g: [g] * len(xs), sympy=lambda sp, *a: sp.Add(*a),
              sympy_bool=lambda sp, *a: sp.Or(*a))
mul = _define("mul", -1, _fold(np.multiply), numpy_rule, "Elementwise product of two or more tensors.",
              vjp=_mul_vjp, sympy=lambda sp, *a: sp.Mul(*a), sympy_bool=lambda sp, *a: sp.And(*a))
sub = _define("sub", 2, np.subtract, numpy_rule, "Elementwise difference.",
              vjp=lambda ew, xs, out, g: [g, -g], sympy=lambda sp, a, b: a - b)
true_div = _define("true_div", 2, np.true_divide, float_rule, "Elementwise true division (integers divide to float).",
                   vjp=lambda ew, xs, out, g: [g / xs[1], -g * out / xs[1]], sympy=lambda sp, a, b: a / b)
floor_div = _define("floor_div", 2, np.floor_divide, numpy_rule, "Elementwise floor division (Python semantics).",
                    vjp=_zero_vjp, sympy=lambda sp, a, b: sp.floor(a / b))
mod = _define("mod", 2, np.mod, numpy_rule,
              "Elementwise remainder with the sign of the divisor (Python semantics).",
              vjp=lambda ew, xs, out, g: [g, -g * ew.floor_div(xs[0], xs[1])], sympy=lambda sp, a, b: sp.Mod(a, b))
pow = _define("pow", 2, np.power, numpy_rule, "Elementwise power.",  # noqa: A001 (the op's name)
              vjp=_pow_vjp, sympy=lambda sp, a, b: sp.Pow(a, b))
maximum = _define("maximum", 2, np.maximum, numpy_rule, "Elementwise maximum (NaN propagates).",
                  vjp=lambda ew, xs, out, g: [g * ew.ge(xs[0], xs[1]), g * ew.lt(xs[0], xs[1])],
                  sympy=lambda sp, a, b: sp.Max(a, b), sympy_bool=lambda sp, a, b: sp.Or(a, b))
minimum = _define("minimum", 2, np.minimum, numpy_rule, "Elementwise minimum (NaN propagates).",
                  vjp=lambda ew, xs, out, g: [g * ew.le(xs[0], xs[1]), g * ew.gt(xs[0], xs[1])],
                  sympy=lambda sp, a, b: sp.Min(a, b), sympy_bool=lambda sp, a, b: sp.And(a, b))
arctan2 = _define("arctan2", 2, np.arctan2, float_rule, "Elementwise arctan(y / x) with the quadrant of (x, y).",
                  vjp=lambda ew, xs, out, g: [g * xs[1] / (xs[0] ** 2 + xs[1] ** 2),
                                              -g * xs[0] / (xs[0] ** 2 + xs[1] ** 2)],
                  sympy=lambda sp, y, x: sp.atan2(y, x))
neg = _define("neg", 1, np.negative, numpy_rule, "Elementwise negation.",
              vjp=lambda ew, xs, out, g: [-g], sympy=lambda sp, a: -a)
abs = _define("abs", 1, np.abs, numpy_rule, "Elementwise absolute value.",  # noqa: A001 (NumPy's name)
              vjp=lambda ew, xs, out, g: [g * ew.sign(xs[0])], sympy=lambda sp, a: sp.Abs(a))
sign = _define("sign", 1, np.sign, numpy_rule, "Elementwise sign (-1, 0 or 1).",
               vjp=_zero_vjp, sympy=lambda sp, a: sp.sign(a))
square = _define("square", 1, np.square, numpy_rule, "Elementwise x * x.",
                 vjp=lambda ew, xs, out, g: [g * 2 * xs[0]], sympy=lambda sp, a: a**2)
floor = _define("floor", 1, _int_identity(np.floor), same_rule, "Elementwise floor (identity on integers).",
                vjp=_zero_vjp, sympy=lambda sp, a: sp.floor(a))
ceil = _define("ceil", 1, _int_identity(np.ceil), same_rule, "Elementwise ceiling (identity on integers).",
               vjp=_zero_vjp, sympy=lambda sp, a: sp.ceiling(a))
round = _define("round", 1, _int_identity(np.round), same_rule,  # noqa: A001 (NumPy's name)
                "Elementwise rounding, half to even as NumPy (identity on integers).", vjp=_zero_vjp)
trunc = _define("trunc", 1, _int_identity(np.trunc), same_rule, "Elementwise truncation toward zero.",
                vjp=_zero_vjp, sympy=_trunc)
reciprocal = _define("reciprocal", 1, np.reciprocal, float_rule, "Elementwise 1 / x.",
                     vjp=lambda ew, xs, out, g: [-g * out * out], sympy=lambda sp, a: 1 / a)
relu = _define("relu", 1, lambda x: np.maximum(x, np.zeros((), x.dtype)), same_rule, "Elementwise max(x, 0).",
               vjp=lambda ew, xs, out, g: [g * ew.gt(xs[0], 0)], sympy=lambda sp, a: sp.Max(a, 0))
# -- transcendental ------------------------------------------------------------------------------------------
exp = _define("exp", 1, np.exp, float_rule, "Elementwise e**x.",
              vjp=lambda ew, xs, out, g: [g * out], sympy=lambda sp, a: sp.exp(a))
exp2 = _define("exp2", 1, np.exp2, float_rule, "Elementwise 2**x.",
               vjp=lambda ew, xs, out, g: [g * out * _LN2], sympy=lambda sp, a: 2**a)
expm1 = _define("expm1", 1, np.expm1, float_rule, "Elementwise e**x - 1, accurate near 0.",
                vjp=lambda ew, xs, out, g: [g * (out + 1)], sympy=lambda sp, a: sp.exp(a) - 1)
log = _define("log", 1, np.log, float_rule, "Elementwise natural logarithm.",
              vjp=lambda ew, xs, out, g: [g / xs[0]], sympy=lambda sp, a: sp.log(a))
log2 = _define("log2", 1, np.log2, float_rule, "Elementwise base-2 logarithm.",
               vjp=lambda ew, xs, out, g: [g / (xs[0] * _LN2)], sympy=lambda sp, a: sp.log(a, 2))
log10 = _define("log10", 1, np.log10, float_rule, "Elementwise base-10 logarithm.",
                vjp=lambda ew, xs, out, g: [g / (xs[0] * _LN10)], sympy=lambda sp, a: sp.log(a, 10))
log1p = _define("log1p", 1, np.log1p, float_rule, "Elementwise log(1 + x), accurate near 0.",
                vjp=lambda ew, xs, out, g: [g / (xs[0] + 1)], sympy=lambda sp, a: sp.log(1 + a))
sqrt = _define("sqrt", 1, np.sqrt, float_rule, "Elementwise square root.",
               vjp=lambda ew, xs, out, g: [g / (out * 2)], sympy=lambda sp, a: sp.sqrt(a))
sin = _define("sin", 1, np.sin, float_rule, "Elementwise sine.",
              vjp=lambda ew, xs, out, g: [g * ew.cos(xs[0])], sympy=lambda sp, a: sp.sin(a))
cos = _define("cos", 1, np.cos, float_rule, "Elementwise cosine.",
              vjp=lambda ew, xs, out, g: [-g * ew.sin(xs[0])], sympy=lambda sp, a: sp.cos(a))
tan = _define("tan", 1, np.tan, float_rule, "Elementwise tangent.",
              vjp=lambda ew, xs, out, g: [g * (out * out + 1)], sympy=lambda sp, a: sp.tan(a))
arcsin = _define("arcsin", 1, np.arcsin, float_rule, "Elementwise inverse sine.",
                 vjp=lambda ew, xs, out, g: [g / ew.sqrt(1 - xs[0] * xs[0])], sympy=lambda sp, a: sp.asin(a))
arccos = _define("arccos", 1, np.arccos, float_rule, "Elementwise inverse cosine.",
                 vjp=lambda ew, xs, out, g: [-g / ew.sqrt(1 - xs[0] * xs[0])], sympy=lambda sp, a: sp.acos(a))
arctan = _define("arctan", 1, np.arctan, float_rule, "Elementwise inverse tangent.",
                 vjp=lambda ew, xs, out, g: [g / (xs[0] * xs[0] + 1)], sympy=lambda sp, a: sp.atan(a))
sinh = _define("sinh", 1, np.sinh, float_rule, "Elementwise hyperbolic sine.",
               vjp=lambda ew, xs, out, g: [g * ew.cosh(xs[0])], sympy=lambda sp, a: sp.sinh(a))
cosh = _define("cosh", 1, np.cosh, float_rule, "Elementwise hyperbolic cosine.",
               vjp=lambda ew, xs, out, g: [g * ew.sinh(xs[0])], sympy=lambda sp, a: sp.cosh(a))
tanh = _define("tanh", 1, np.tanh, float_rule, "Elementwise hyperbolic tangent.",
               vjp=lambda ew, xs, out, g: [g * (1 - out * out)], sympy=lambda sp, a: sp.tanh(a))
arcsinh = _define("arcsinh", 1, np.arcsinh, float_rule, "Elementwise inverse hyperbolic sine.",
                  vjp=lambda ew, xs, out, g: [g / ew.sqrt(xs[0] * xs[0] + 1)], sympy=lambda sp, a: sp.asinh(a))
arccosh = _define("arccosh", 1, np.arccosh, float_rule, "Elementwise inverse hyperbolic cosine.",
                  vjp=lambda ew, xs, out, g: [g / ew.sqrt(xs[0] * xs[0] - 1)], sympy=lambda sp, a: sp.acosh(a))
arctanh = _define("arctanh", 1, np.arctanh, float_rule, "Elementwise inverse hyperbolic tangent.",
                  vjp=lambda ew, xs, out, g: [g / (1 - xs[0] * xs[0])], sympy=lambda sp, a: sp.atanh(a))
erf = _define("erf", 1, scipy.special.erf, float_rule, "Elementwise error function.",
              vjp=lambda ew, xs, out, g: [g * _TWO_OVER_SQRT_PI * ew.exp(-xs[0] * xs[0])],
              sympy=lambda sp, a: sp.erf(a))
erfc = _define("erfc", 1, scipy.special.erfc, float_rule, "Elementwise complementary error function.",
               vjp=lambda ew, xs, out, g: [-g * _TWO_OVER_SQRT_PI * ew.exp(-xs[0] * xs[0])],
               sympy=lambda sp, a: sp.erfc(a))
sigmoid = _define("sigmoid", 1, scipy.special.expit, float_rule, "Elementwise logistic function 1 / (1 + exp(-x)).",
                  vjp=lambda ew, xs, out, g: [g * out * (1 - out)], sympy=lambda sp, a: 1 / (1 + sp.exp(-a)))
softplus = _define("softplus", 1, _softplus, float_rule, "Elementwise log(1 + exp(x)), computed stably.",
                   vjp=lambda ew, xs, out, g: [g * ew.sigmoid(xs[0])], sympy=lambda sp, a: sp.log(1 + sp.exp(a)))
log1mexp = _define("log1mexp", 1, _log1mexp, float_rule, "Elementwise log(1 - exp(x)) for x <= 0, computed stably.",
                   vjp=lambda ew, xs, out, g: [-g / ew.expm1(-xs[0])], sympy=lambda sp, a: sp.log(1 - sp.exp(a)))
# -- comparisons and logic -----------------------------------------------------------------------------------
eq = _define("eq", 2, np.equal, numpy_rule, "Elementwise x == y (a bool tensor).",
             sympy=lambda sp, a, b: sp.Eq(a, b), sympy_bool=lambda sp, a, b: sp.Equivalent(a, b))
neq = _define("neq", 2, np.not_equal, numpy_rule, "Elementwise x != y (a bool tensor).",
              sympy=lambda sp, a, b: sp.Ne(a, b), sympy_bool=lambda sp, a, b: sp.Not(sp.Equivalent(a, b)))
lt = _define("lt", 2, np.less, numpy_rule, "Elementwise x < y.", sympy=lambda sp, a, b: sp.Lt(a, b))
le = _define("le", 2, np.less_equal, numpy_rule, "Elementwise x <= y.", sympy=lambda sp, a, b: sp.Le(a, b))
gt = _define("gt", 2, np.greater, numpy_rule, "Elementwise x > y.", sympy=lambda sp, a, b: sp.Gt(a, b))
ge = _define("ge", 2, np.greater_equal, numpy_rule, "Elementwise x >= y.", sympy=lambda sp, a, b: sp.Ge(a, b))
isnan = _define("isnan", 1, np.isnan, numpy_rule, "Elementwise test for NaN.")  # sympy reals are finite
isinf = _define("isinf", 1, np.isinf, numpy_rule, "Elementwise test for +-inf.")
logical_and = _define("logical_and", 2, np.logical_and, numpy_rule,
                      "Elementwise logical and (nonzero is true); a bool tensor.",
                      sympy=lambda sp, a, b: sp.And(a, b), sympy_args="truth")
logical_or = _define("logical_or", 2, np.logical_or, numpy_rule, "Elementwise logical or; a bool tensor.",
                     sympy=lambda sp, a, b: sp.Or(a, b), sympy_args="truth")
logical_xor = _define("logical_xor", 2, np.logical_xor, numpy_rule, "Elementwise logical exclusive or; a bool tensor.",
                      sympy=lambda sp, a, b: sp.Xor(a, b), sympy_args="truth")
logical_not = _define("logical_not", 1, np.logical_not, numpy_rule, "Elementwise logical not; a bool tensor.",
                      sympy=lambda sp, a: sp.Not(a), sympy_args="truth")
and_ = _define("and_", 2, np.bitwise_and, numpy_rule, "Elementwise bitwise and (logical and on bool tensors).",
               sympy_bool=lambda sp, a, b: sp.And(a, b))  # on integers: no sympy meaning
or_ = _define("or_", 2, np.bitwise_or, numpy_rule, "Elementwise bitwise or (logical or on bool tensors).",
              sympy_bool=lambda sp, a, b: sp.Or(a, b))
xor = _define("xor", 2, np.bitwise_xor, numpy_rule, "Elementwise bitwise exclusive or.",
              sympy_bool=lambda sp, a, b: sp.Xor(a, b))
invert = _define("invert", 1, np.invert, numpy_rule, "Elementwise bitwise not (logical not on bool tensors).",
                 sympy_bool=lambda sp, a: sp.Not(a))
# -- selection and conversion --------------------------------------------------------------------------------
switch = _define("switch", 3, lambda c, a, b: np.where(c, a, b), branches_rule,
                 "Elements of the second input where the first is true, else of the third.", peers=(1, 2),
                 vjp=lambda ew, xs, out, g: [None, ew.where(xs[0], g, 0), ew.where(xs[0], 0, g)],
                 sympy=lambda sp, c, a, b: sp.Piecewise((a, c), (b, True)), sympy_args=("truth", "any", "any"),
                 sympy_bool=lambda sp, c, a, b: sp.ITE(c, a, b))
clip = _define("clip", 3, np.clip, numpy_rule, "``x`` limited to [lo, hi] elementwise.",
               vjp=lambda ew, xs, out, g: [g * ew.logical_and(ew.ge(xs[0], xs[1]), ew.le(xs[0], xs[2])),
                                           g * ew.lt(xs[0], xs[1]), g * ew.gt(xs[0], xs[2])],
               sympy=lambda sp, a, lo, hi: sp.Min(sp.Max(a, lo), hi))
cast = _define("cast", 1, lambda x: x, cast_rule, "``x`` converted to a dtype (NumPy ``astype`` semantics).",
               vjp=lambda ew, xs, out, g: [g if xs[0].type.is_float else None], sympy=_cast_sympy)
identity = _define("identity", 1, lambda x: x, same_rule, "A copy of ``x`` (a separate node).",
                   vjp=lambda ew, xs, out, g: [g], sympy=lambda sp, a: a, sympy_args="any")
# fmt: on
