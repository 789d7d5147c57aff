"""Elemwise: a scalar op applied element by element with broadcasting, and the public math functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from symgraph.errors import CallError
from symgraph.graph import Apply, Constant, Variable, as_variable, constant
from symgraph.op import Op
from symgraph.ops import scalar
from symgraph.ops.scalar import ScalarOp
from symgraph.types import TensorType, as_dtype, broadcast_static


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
        nin, peers = self.scalar_op.nin, self.scalar_op.peers
        if nin == -1 and len(inputs) < 2 or nin > 0 and len(inputs) != nin:
            raise self.type_error(inputs, f"expects {'2 or more' if nin < 0 else nin} inputs")
        peers = peers if peers is not None else range(len(inputs))
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
        vjp = self.scalar_op.vjp
        if vjp is None:  # comparisons and logic
            return [None] * len(node.inputs)
        return vjp(_MATH, list(node.inputs), node.outputs[0], output_grads[0])

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


def _function(op: ScalarOp) -> Callable[..., Variable]:
    """The public function applying ``op`` elementwise, named after it."""
    node_op = Elemwise(op)

    def apply(*inputs: Any) -> Variable:
        return node_op(*inputs)

    apply.__name__ = apply.__qualname__ = op.name
    apply.__doc__ = op.doc
    return apply


# one public function per scalar op (where and cast, below, prepare their arguments)
_FUNCTIONS = {name: _function(op) for name, op in scalar.OPS.items() if name not in ("switch", "cast")}
globals().update(_FUNCTIONS)


def where(condition: Any, x: Any, y: Any) -> Variable:
    """Elements of ``x`` where ``condition`` is true, else of ``y`` (both branches are computed)."""
    cond = as_variable(condition)
    if cond.dtype != "bool":
        cond = Elemwise(scalar.neq)(cond, 0)
    return Elemwise(scalar.switch)(cond, x, y)


def cast(x: Any, dtype: object) -> Variable:
    """``x`` converted to ``dtype`` (NumPy ``astype`` semantics); no node when it already has it."""
    x = as_variable(x)
    dtype = as_dtype(dtype)
    if x.dtype == dtype:
        return x
    if isinstance(x, Constant):
        return constant(x.data.astype(dtype))
    return Elemwise(scalar.cast_to(dtype))(x)


_ALIASES = {"power": _FUNCTIONS["pow"], "sqr": _FUNCTIONS["square"], "not_": _FUNCTIONS["logical_not"],
            "switch": where}  # Theano's and NumPy's other names  # fmt: skip
globals().update(_ALIASES)
#: the elementwise functions by name, as the scalar ops' gradient rules use them
_MATH = SimpleNamespace(**_FUNCTIONS, **_ALIASES, where=where, cast=cast)
__all__ = ["Elemwise", *_FUNCTIONS, *_ALIASES, "where", "cast"]
