"""Elemwise: a scalar op applied element by element with broadcasting, and the public math functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from symgraph.errors import CallError
from symgraph.graph import Apply, Constant, Variable, as_variable, constant
from symgraph.op import Op
from symgraph.ops.scalar import ScalarOp
from symgraph.types import TensorType, as_dtype, broadcast_static

__all__ = [
    "Elemwise", "add", "sub", "mul", "true_div", "floor_div", "mod", "power", "pow", "maximum", "minimum",
    "arctan2", "neg", "abs", "sign", "square", "sqr", "floor", "ceil", "round", "trunc", "reciprocal", "exp", "exp2",
    "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "sigmoid", "softplus", "relu",
    "eq", "neq", "lt", "le", "gt", "ge", "isnan", "isinf", "logical_and", "logical_or", "logical_xor",
    "logical_not", "not_", "and_", "or_", "xor", "invert", "where", "switch", "clip", "cast", "identity",
]  # fmt: skip


def _is_weak(value: Any) -> bool:
    """Python scalars adapt to the dtype of the tensors they meet (NumPy 2 promotion rules)."""
    return isinstance(value, bool | int | float) and not isinstance(value, np.generic)


def _promote_operands(op: Op, values: Sequence[Any], peers: Sequence[int]) -> list[Variable]:
    """Variables for every operand; Python scalars become constants of their peers' dtype."""
    strong = [values[i].dtype for i in peers if isinstance(values[i], Variable)]
    strong += [np.asarray(values[i]).dtype for i in peers if not _is_weak(values[i])
               and not isinstance(values[i], Variable)]  # fmt: skip
    out = []
    for i, value in enumerate(values):
        if not _is_weak(value) or i not in peers or not strong:
            out.append(as_variable(value))
            continue
        dtype = np.result_type(*strong, *(values[j] for j in peers if _is_weak(values[j])))
        try:
            out.append(constant(np.asarray(value, dtype=dtype)))
        except OverflowError as err:
            raise op.type_error(values, f"Python scalar {value!r} does not fit in {dtype}: {err}") from err
    return out


@dataclass(frozen=True)
class Elemwise(Op):
    """Apply ``scalar_op`` elementwise; inputs broadcast by their static shapes (1 broadcasts).

    ``inplace``: the input whose memory the output overwrites (set by the inplace rewrite; that input must
    have the output's dtype and shape, so it does not broadcast).
    """

    scalar_op: ScalarOp
    inplace: int | None = None

    @property
    def destroy_map(self) -> dict[int, int]:
        return {} if self.inplace is None else {0: self.inplace}

    def inplace_variant(self, output: int, input: int) -> Elemwise | None:  # noqa: A002 (the protocol's name)
        """This op writing its output into the memory of input ``input`` (the inplace rewrite's protocol)."""
        return replace(self, inplace=input) if output == 0 and self.inplace is None else None

    def make_node(self, *inputs: Any) -> Apply:
        spec = self.scalar_op.spec
        if spec.nin == -1 and len(inputs) < 2 or spec.nin > 0 and len(inputs) != spec.nin:
            raise self.type_error(inputs, f"expects {'2 or more' if spec.nin < 0 else spec.nin} inputs")
        peers = spec.peers if spec.peers is not None else range(len(inputs))
        variables = _promote_operands(self, inputs, list(peers))
        try:
            _, out_dtype = self.scalar_op.dtypes(tuple(v.dtype for v in variables))
        except TypeError as err:
            raise self.type_error(variables, f"unsupported dtypes: {err}") from err
        ndim = max(v.ndim for v in variables)
        padded = [(1,) * (ndim - v.ndim) + v.type.shape for v in variables]
        out_shape = broadcast_static(*padded)
        if out_shape is None:
            raise self.value_error(variables, f"static shapes {[v.type.shape for v in variables]} do not broadcast")
        out_type = TensorType(out_dtype, out_shape)
        if self.inplace is not None and not (
            self.inplace < len(variables) and can_hold(variables[self.inplace].type, out_type)
        ):
            raise self.type_error(variables, f"input {self.inplace} cannot hold the output {out_type} in place")
        return Apply(self, variables, [out_type])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        out_type = node.outputs[0].type
        check_runtime_broadcast(node, inputs)
        comp, out = self.scalar_op.dtypes(tuple(v.dtype for v in node.inputs))
        result = np.asarray(self.scalar_op.compute(list(inputs), comp, out), dtype=out_type.dtype)
        if self.inplace is None:
            return [result]
        target = inputs[self.inplace]  # computed in full first: inputs sharing its memory are read before
        np.copyto(target, result)
        return [target]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        ndim = node.outputs[0].ndim
        padded = [(1,) * (ndim - len(s)) + tuple(s) for s in input_shapes]
        out = []
        for axis, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                out.append(static)
            else:
                out.append(next(s[axis] for s in padded if not (isinstance(s[axis], int) and s[axis] == 1)))
        return [tuple(out)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        from symgraph.ops.scalar_grad import SCALAR_VJPS

        return SCALAR_VJPS[self.scalar_op.name](list(node.inputs), node.outputs[0], output_grads[0])

    def __str__(self) -> str:
        mark = "" if self.inplace is None else f",inplace{self.inplace}"
        return f"Elemwise{{{self.scalar_op}{mark}}}"


def can_hold(var: TensorType, out: TensorType) -> bool:
    """Whether a value of type ``var`` has the dtype and run-time shape of ``out``, so ``out`` can overwrite it.

    A static length of None never broadcasts at run time (see ``refuse_undeclared_broadcast``), so it equals
    the output's length.
    """
    return (
        var.dtype == out.dtype
        and var.ndim == out.ndim
        and all(v is None or v == o for v, o in zip(var.shape, out.shape))
    )


def check_runtime_broadcast(node: Apply, inputs: Sequence[np.ndarray]) -> None:
    """Refuse a runtime length of 1 on an axis whose static shape did not declare it broadcastable."""
    try:
        out_shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
    except ValueError as err:
        raise CallError(f"{node.op}: input shapes {[np.shape(x) for x in inputs]} do not broadcast") from err
    for var, value in zip(node.inputs, inputs):
        refuse_undeclared_broadcast(node.op, var, np.shape(value), out_shape)


def refuse_undeclared_broadcast(op: Op, var: Variable, shape: tuple, target: tuple) -> None:
    """Raise unless every axis along which ``shape`` broadcasts to ``target`` has static length 1 in ``var``.

    Broadcasting is decided at build time from static shapes; gradients rely on it.
    """
    static = (1,) * (len(target) - var.ndim) + var.type.shape
    padded = (1,) * (len(target) - len(shape)) + tuple(shape)
    for axis, (got, want, full) in enumerate(zip(padded, static, target)):
        if got == 1 and full != 1 and want != 1:
            raise CallError(
                f"{op}: a value of type {var.type} has length 1 on axis {axis} at run time but was not "
                f"declared broadcastable (static length {want}); declare shape=(..., 1, ...) or use "
                "broadcast_to/dimshuffle"
            )


def _make(name: str, doc: str) -> Callable[..., Variable]:
    op = Elemwise(ScalarOp(name))

    def apply(*inputs: Any) -> Variable:
        return op(*inputs)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    return apply


# fmt: off
add = _make("add", "Elementwise sum of two or more tensors.")
sub = _make("sub", "Elementwise difference.")
mul = _make("mul", "Elementwise product of two or more tensors.")
true_div = _make("true_div", "Elementwise true division (integers divide to float).")
floor_div = _make("floor_div", "Elementwise floor division (Python semantics).")
mod = _make("mod", "Elementwise remainder with the sign of the divisor (Python semantics).")
power = _make("pow", "Elementwise power.")
maximum = _make("maximum", "Elementwise maximum (NaN propagates).")
minimum = _make("minimum", "Elementwise minimum (NaN propagates).")
arctan2 = _make("arctan2", "Elementwise arctan(y / x) with the quadrant of (x, y).")
neg = _make("neg", "Elementwise negation.")
abs = _make("abs", "Elementwise absolute value.")  # noqa: A001 (NumPy's name)
sign = _make("sign", "Elementwise sign (-1, 0 or 1).")
square = _make("square", "Elementwise x * x.")
sqr = square  # Theano's name
floor = _make("floor", "Elementwise floor (identity on integers).")
ceil = _make("ceil", "Elementwise ceiling (identity on integers).")
round = _make("round", "Elementwise rounding, half to even as NumPy (identity on integers).")  # noqa: A001
trunc = _make("trunc", "Elementwise truncation toward zero.")
reciprocal = _make("reciprocal", "Elementwise 1 / x.")
exp = _make("exp", "Elementwise e**x.")
exp2 = _make("exp2", "Elementwise 2**x.")
expm1 = _make("expm1", "Elementwise e**x - 1, accurate near 0.")
log = _make("log", "Elementwise natural logarithm.")
log2 = _make("log2", "Elementwise base-2 logarithm.")
log10 = _make("log10", "Elementwise base-10 logarithm.")
log1p = _make("log1p", "Elementwise log(1 + x), accurate near 0.")
sqrt = _make("sqrt", "Elementwise square root.")
sin = _make("sin", "Elementwise sine.")
cos = _make("cos", "Elementwise cosine.")
tan = _make("tan", "Elementwise tangent.")
arcsin = _make("arcsin", "Elementwise inverse sine.")
arccos = _make("arccos", "Elementwise inverse cosine.")
arctan = _make("arctan", "Elementwise inverse tangent.")
sinh = _make("sinh", "Elementwise hyperbolic sine.")
cosh = _make("cosh", "Elementwise hyperbolic cosine.")
tanh = _make("tanh", "Elementwise hyperbolic tangent.")
arcsinh = _make("arcsinh", "Elementwise inverse hyperbolic sine.")
arccosh = _make("arccosh", "Elementwise inverse hyperbolic cosine.")
arctanh = _make("arctanh", "Elementwise inverse hyperbolic tangent.")
erf = _make("erf", "Elementwise error function.")
erfc = _make("erfc", "Elementwise complementary error function.")
sigmoid = _make("sigmoid", "Elementwise logistic function 1 / (1 + exp(-x)).")
softplus = _make("softplus", "Elementwise log(1 + exp(x)), computed stably.")
relu = _make("relu", "Elementwise max(x, 0).")
eq = _make("eq", "Elementwise x == y (a bool tensor).")
neq = _make("neq", "Elementwise x != y (a bool tensor).")
lt = _make("lt", "Elementwise x < y.")
le = _make("le", "Elementwise x <= y.")
gt = _make("gt", "Elementwise x > y.")
ge = _make("ge", "Elementwise x >= y.")
isnan = _make("isnan", "Elementwise test for NaN.")
isinf = _make("isinf", "Elementwise test for +-inf.")
logical_and = _make("logical_and", "Elementwise logical and (nonzero is true); a bool tensor.")
logical_or = _make("logical_or", "Elementwise logical or; a bool tensor.")
logical_xor = _make("logical_xor", "Elementwise logical exclusive or; a bool tensor.")
logical_not = _make("logical_not", "Elementwise logical not; a bool tensor.")
and_ = _make("and_", "Elementwise bitwise and (logical and on bool tensors).")
or_ = _make("or_", "Elementwise bitwise or (logical or on bool tensors).")
xor = _make("xor", "Elementwise bitwise exclusive or.")
invert = _make("invert", "Elementwise bitwise not (logical not on bool tensors).")
# fmt: on
not_ = logical_not
pow = power  # noqa: A001 (Theano's name)


def where(condition: Any, x: Any, y: Any) -> Variable:
    """Elements of ``x`` where ``condition`` is true, else of ``y`` (both branches are computed)."""
    cond = as_variable(condition)
    if cond.dtype != "bool":
        cond = neq(cond, 0)
    return Elemwise(ScalarOp("switch"))(cond, x, y)


switch = where


def clip(x: Any, lo: Any, hi: Any) -> Variable:
    """``x`` limited to [lo, hi] elementwise."""
    return Elemwise(ScalarOp("clip"))(x, lo, hi)


def cast(x: Any, dtype: object) -> Variable:
    """``x`` converted to ``dtype`` (NumPy ``astype`` semantics); no node when it already has it."""
    x = as_variable(x)
    dtype = as_dtype(dtype)
    if x.dtype == dtype:
        return x
    if isinstance(x, Constant):
        return constant(x.data.astype(dtype))
    return Elemwise(ScalarOp("cast", dtype))(x)


def identity(x: Any) -> Variable:
    """A copy of ``x`` (a separate node; useful as an explicit output)."""
    return Elemwise(ScalarOp("identity"))(x)
