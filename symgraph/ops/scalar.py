"""Scalar operations: the math that Elemwise applies element by element.

Each scalar op is a value (``ScalarOp(name)``) whose behaviour is looked up in ``SCALAR_SPECS``:
its arity, its NumPy reference implementation and its dtype rule. Adding an elementwise op is one
entry here (and, in later issues, its derivative and backend rules keyed by the same name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special

from symgraph.types import float_of, upcast


@dataclass(frozen=True)
class ScalarSpec:
    """How one scalar op computes and which dtype it returns.

    ``rule``: "float" (ints are upgraded to float first), "true_div" (likewise, two inputs),
    "numpy" (NumPy's own promotion, probed on empty arrays), "keep" (the input dtype),
    "bool" (comparisons and logical ops), "cast" (the op's target dtype), "switch" (dtype of
    the two branches). ``peers``: the input positions whose Python scalars promote together.
    """

    nin: int  # -1: variadic (2 or more)
    impl: Callable
    rule: str
    peers: tuple[int, ...] | None = None


def _keep_int(func: Callable) -> Callable:
    """Rounding functions are the identity on integers (a copy: a result never shares an input's memory)."""
    return lambda x: x.copy() if x.dtype.kind in "biu" else func(x)


def _variadic(ufunc: np.ufunc) -> Callable:
    def apply(*xs: np.ndarray) -> np.ndarray:
        out = ufunc(xs[0], xs[1])
        for x in xs[2:]:
            out = ufunc(out, x)
        return out

    return apply


SCALAR_SPECS: dict[str, ScalarSpec] = {
    # arithmetic
    "add": ScalarSpec(-1, _variadic(np.add), "numpy"),
    "mul": ScalarSpec(-1, _variadic(np.multiply), "numpy"),
    "sub": ScalarSpec(2, np.subtract, "numpy"),
    "true_div": ScalarSpec(2, np.true_divide, "true_div"),
    "floor_div": ScalarSpec(2, np.floor_divide, "numpy"),
    "mod": ScalarSpec(2, np.mod, "numpy"),
    "pow": ScalarSpec(2, np.power, "numpy"),
    "maximum": ScalarSpec(2, np.maximum, "numpy"),
    "minimum": ScalarSpec(2, np.minimum, "numpy"),
    "arctan2": ScalarSpec(2, np.arctan2, "float"),
    "neg": ScalarSpec(1, np.negative, "numpy"),
    "abs": ScalarSpec(1, np.abs, "numpy"),
    "sign": ScalarSpec(1, np.sign, "numpy"),
    "square": ScalarSpec(1, np.square, "numpy"),
    "floor": ScalarSpec(1, _keep_int(np.floor), "keep"),
    "ceil": ScalarSpec(1, _keep_int(np.ceil), "keep"),
    "round": ScalarSpec(1, _keep_int(np.round), "keep"),  # half to even, as NumPy
    "trunc": ScalarSpec(1, _keep_int(np.trunc), "keep"),
    "reciprocal": ScalarSpec(1, np.reciprocal, "float"),
    # transcendental
    "exp": ScalarSpec(1, np.exp, "float"),
    "exp2": ScalarSpec(1, np.exp2, "float"),
    "expm1": ScalarSpec(1, np.expm1, "float"),
    "log": ScalarSpec(1, np.log, "float"),
    "log2": ScalarSpec(1, np.log2, "float"),
    "log10": ScalarSpec(1, np.log10, "float"),
    "log1p": ScalarSpec(1, np.log1p, "float"),
    "sqrt": ScalarSpec(1, np.sqrt, "float"),
    "sin": ScalarSpec(1, np.sin, "float"),
    "cos": ScalarSpec(1, np.cos, "float"),
    "tan": ScalarSpec(1, np.tan, "float"),
    "arcsin": ScalarSpec(1, np.arcsin, "float"),
    "arccos": ScalarSpec(1, np.arccos, "float"),
    "arctan": ScalarSpec(1, np.arctan, "float"),
    "sinh": ScalarSpec(1, np.sinh, "float"),
    "cosh": ScalarSpec(1, np.cosh, "float"),
    "tanh": ScalarSpec(1, np.tanh, "float"),
    "arcsinh": ScalarSpec(1, np.arcsinh, "float"),
    "arccosh": ScalarSpec(1, np.arccosh, "float"),
    "arctanh": ScalarSpec(1, np.arctanh, "float"),
    "erf": ScalarSpec(1, scipy.special.erf, "float"),
    "erfc": ScalarSpec(1, scipy.special.erfc, "float"),
    "sigmoid": ScalarSpec(1, scipy.special.expit, "float"),
    "softplus": ScalarSpec(1, lambda x: np.logaddexp(np.zeros((), x.dtype), x), "float"),
    "relu": ScalarSpec(1, lambda x: np.maximum(x, np.zeros((), x.dtype)), "keep"),
    # comparisons and logic
    "eq": ScalarSpec(2, np.equal, "bool"),
    "neq": ScalarSpec(2, np.not_equal, "bool"),
    "lt": ScalarSpec(2, np.less, "bool"),
    "le": ScalarSpec(2, np.less_equal, "bool"),
    "gt": ScalarSpec(2, np.greater, "bool"),
    "ge": ScalarSpec(2, np.greater_equal, "bool"),
    "isnan": ScalarSpec(1, np.isnan, "bool"),
    "isinf": ScalarSpec(1, np.isinf, "bool"),
    "logical_and": ScalarSpec(2, np.logical_and, "bool"),
    "logical_or": ScalarSpec(2, np.logical_or, "bool"),
    "logical_xor": ScalarSpec(2, np.logical_xor, "bool"),
    "logical_not": ScalarSpec(1, np.logical_not, "bool"),
    "and_": ScalarSpec(2, np.bitwise_and, "numpy"),
    "or_": ScalarSpec(2, np.bitwise_or, "numpy"),
    "xor": ScalarSpec(2, np.bitwise_xor, "numpy"),
    "invert": ScalarSpec(1, np.invert, "numpy"),
    # selection and conversion
    "switch": ScalarSpec(3, lambda c, a, b: np.where(c, a, b), "switch", peers=(1, 2)),
    "clip": ScalarSpec(3, np.clip, "numpy"),
    "cast": ScalarSpec(1, None, "cast"),  # impl: astype(dtype)
    "identity": ScalarSpec(1, lambda x: x.copy(), "keep"),
}


@dataclass(frozen=True)
class ScalarOp:
    """One scalar operation, by name (``dtype`` only for casts)."""

    name: str
    dtype: str | None = None

    def __post_init__(self) -> None:
        if self.name not in SCALAR_SPECS:
            raise ValueError(f"unknown scalar op {self.name!r}")

    @property
    def spec(self) -> ScalarSpec:
        return SCALAR_SPECS[self.name]

    def dtypes(self, in_dtypes: tuple[str, ...]) -> tuple[str, str]:
        """(dtype the inputs are converted to before computing, output dtype); TypeError if invalid."""
        rule = self.spec.rule
        if rule == "cast":
            return in_dtypes[0], self.dtype
        if rule == "switch":
            out = upcast(*in_dtypes[1:])
            return out, out
        common = upcast(*in_dtypes)
        if rule in ("float", "true_div"):
            return float_of(common), float_of(common)
        if rule == "keep":
            return common, common
        probes = [np.zeros(0, dtype=common) for _ in in_dtypes]
        with np.errstate(all="ignore"):
            out = self.spec.impl(*probes).dtype.name
        return common, out

    def compute(self, inputs: list[np.ndarray], comp_dtype: str, out_dtype: str) -> np.ndarray:
        """Reference computation on NumPy arrays (broadcasting as NumPy)."""
        if self.spec.rule == "cast":
            return np.asarray(inputs[0]).astype(out_dtype)
        if self.spec.rule == "switch":
            inputs = [inputs[0]] + [np.asarray(x, dtype=comp_dtype) for x in inputs[1:]]
        else:
            inputs = [np.asarray(x, dtype=comp_dtype) for x in inputs]
        with np.errstate(all="ignore"):
            out = self.spec.impl(*inputs)
        return np.asarray(out, dtype=out_dtype)

    def __str__(self) -> str:
        return f"cast{{{self.dtype}}}" if self.dtype else self.name
