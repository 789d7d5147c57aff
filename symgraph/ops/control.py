"""Lazy control flow: ``ifelse`` computes only the branch its scalar condition selects.

``IfElse`` is an inner-graph op (like scan): each branch is a graph of its own over placeholders for the outer
variables the branches read, so nothing of the untaken branch runs, in any backend. Outer inputs: the
condition, then one value per placeholder. ``sg.where`` stays the eager elementwise selection.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.errors import SymgraphTypeError, SymgraphValueError
from symgraph.grad import grad
from symgraph.graph import Apply, Constant, Variable, as_variable, clone_replace, constant, graph_inputs
from symgraph.infer_shape import symbolic_shape
from symgraph.ops.elemwise import cast
from symgraph.ops.inner_graph import InnerGraphOp, fresh, placeholder, reference_evaluator, structure
from symgraph.ops.shape import ShapeI
from symgraph.types import TensorType

__all__ = ["ifelse"]


@dataclass(frozen=True, eq=False)
class IfElse(InnerGraphOp):
    """``then_outputs`` if the condition (input 0) is nonzero, else ``else_outputs``; both branches are graphs
    over ``inner_inputs``, which stand for inputs 1... Equal branches (same structure) and name: equal ops."""

    inner_inputs: tuple[Variable, ...]
    then_outputs: tuple[Variable, ...]
    else_outputs: tuple[Variable, ...]
    name: str | None = None

    def key(self) -> tuple:
        return structure(self.inner_inputs, self.then_outputs + self.else_outputs), len(self.then_outputs), self.name

    def __str__(self) -> str:
        return f"IfElse{{{self.name}}}" if self.name else "IfElse"

    def make_node(self, condition: Any, *inputs: Any) -> Apply:
        condition = as_variable(condition)
        inputs = [as_variable(v) for v in inputs]
        if condition.ndim != 0:
            raise self.type_error([condition], f"the condition must be a scalar (0-d), got {condition.type}")
        if len(inputs) != len(self.inner_inputs):
            raise self.type_error(inputs, f"expected {len(self.inner_inputs)} inputs after the condition")
        for i, (outer, inner) in enumerate(zip(inputs, self.inner_inputs)):
            if outer.dtype != inner.dtype or outer.ndim != inner.ndim:
                raise self.type_error(inputs, f"input {i + 1} has type {outer.type}; the branches expect {inner.type}")
        types = [
            TensorType(t.dtype, tuple(a if a == b else None for a, b in zip(t.type.shape, e.type.shape)))
            for t, e in zip(self.then_outputs, self.else_outputs)
        ]
        return Apply(self, [condition, *inputs], types)

    @functools.cached_property
    def _branches(self) -> tuple[Any, Any]:
        return (
            reference_evaluator(self.inner_inputs, self.then_outputs),
            reference_evaluator(self.inner_inputs, self.else_outputs),
        )

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        arguments = list(inputs[1:])
        results = self._branches[0 if inputs[0] else 1](arguments)
        outputs: list[np.ndarray] = []
        for value in results:  # fresh memory: not an input, a constant, nor another output
            outputs.append(fresh(value, arguments + outputs) if value.flags.writeable else value.copy())
        return outputs

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        """Lengths equal in both branches as they are; the others from a (lazy) ifelse of the branch lengths."""
        known = dict(zip(self.inner_inputs, input_shapes[1:]))
        cache: dict = {}
        shapes: list[list] = []
        pending: list[tuple[int, int, Any, Any]] = []  # (output, axis, then length, else length)
        for j, (t, e) in enumerate(zip(self.then_outputs, self.else_outputs)):
            shapes.append([])
            for axis, (a, b) in enumerate(zip(symbolic_shape(t, cache), symbolic_shape(e, cache))):
                outer_a, outer_b = _outer_length(a, known), _outer_length(b, known)
                if outer_a is not None and (outer_a is outer_b or _same_int(outer_a, outer_b)):
                    shapes[-1].append(outer_a)
                else:
                    shapes[-1].append(None)
                    pending.append((j, axis, a, b))
        if pending:
            lengths = IfElse(
                self.inner_inputs,
                tuple(as_variable(a, "int64") for _, _, a, _ in pending),
                tuple(as_variable(b, "int64") for _, _, _, b in pending),
                self.name,
            ).make_node(*node.inputs)
            for (j, axis, _, _), length in zip(pending, lengths.outputs):
                shapes[j][axis] = length
        return [tuple(s) for s in shapes]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The gradient of the taken branch: an ifelse of the two branches' vector-Jacobian products (so it is
        lazy too). The condition gets none."""
        wrt = [(k, p) for k, p in enumerate(self.inner_inputs) if p.type.is_float]
        seeds = [(j, g) for j, g in enumerate(output_grads) if g is not None]
        result: list[Variable | None] = [None] * len(node.inputs)
        if not wrt or not seeds:
            return result
        holders = [placeholder(g, name="grad") for _, g in seeds]

        def branch(outputs: tuple[Variable, ...]) -> list[Variable]:
            known: dict[Variable, Variable] = {}
            for (j, _), holder in zip(seeds, holders):  # two outputs may be the same variable
                known[outputs[j]] = known[outputs[j]] + holder if outputs[j] in known else holder
            return grad(None, [p for _, p in wrt], known_grads=known, disconnected_inputs="ignore")

        op = IfElse(self.inner_inputs + tuple(holders), tuple(branch(self.then_outputs)),
                    tuple(branch(self.else_outputs)), self.name)  # fmt: skip
        grads = op.make_node(*node.inputs, *(g for _, g in seeds)).outputs
        for (k, _), g in zip(wrt, grads):
            result[k + 1] = g
        return result


def _outer_length(length: Any, known: dict[Variable, tuple]) -> Any:
    """An inner length as an outer one, where it is an int or the length of an inner input; else None."""
    if not isinstance(length, Variable):
        return length
    node = length.owner
    if node is not None and isinstance(node.op, ShapeI) and node.inputs[0] in known:
        return known[node.inputs[0]][node.op.axis]
    return None


def _same_int(a: Any, b: Any) -> bool:
    return not isinstance(a, Variable) and not isinstance(b, Variable) and a == b


# -- public ------------------------------------------------------------------------------------
def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Variable | list[Variable]:
    """``then_branch`` if the scalar ``condition`` is nonzero, else ``else_branch``, computing only that one.

    Each branch is a variable or a list of variables (same length, pairwise the same ndim; dtypes that differ
    are unified when one casts safely to the other). Returns a variable, or a list when the branches are lists.
    Everything the branches compute from the graph's inputs runs inside the op, so only if it is selected.
    """
    condition = as_variable(condition)
    if condition.ndim != 0:
        raise SymgraphTypeError(f"ifelse: the condition must be a scalar (0-d), got {condition.type}")
    listed = isinstance(then_branch, list | tuple) or isinstance(else_branch, list | tuple)
    thens = list(then_branch) if isinstance(then_branch, list | tuple) else [then_branch]
    elses = list(else_branch) if isinstance(else_branch, list | tuple) else [else_branch]
    if len(thens) != len(elses) or not thens:
        raise SymgraphValueError(
            f"ifelse: the branches must have the same number (>= 1) of outputs, got {len(thens)} and {len(elses)}"
        )
    pairs = [_unify(i, t, e) for i, (t, e) in enumerate(zip(thens, elses))]
    thens, elses = [t for t, _ in pairs], [e for _, e in pairs]
    roots = [v for v in graph_inputs(thens + elses) if not isinstance(v, Constant)]
    holders = [placeholder(v) for v in roots]
    replace = dict(zip(roots, holders))
    op = IfElse(tuple(holders), tuple(clone_replace(thens, replace)), tuple(clone_replace(elses, replace)), name)
    outputs = op.make_node(condition, *roots).outputs
    return list(outputs) if listed else outputs[0]


def _unify(i: int, then: Any, other: Any) -> tuple[Variable, Variable]:
    """Output ``i`` of both branches as variables of one dtype and ndim, or a build error naming the pair."""
    if isinstance(other, Variable) and not isinstance(then, Variable):
        then = _like(then, other)
    elif isinstance(then, Variable) and not isinstance(other, Variable):
        other = _like(other, then)
    then, other = as_variable(then), as_variable(other)
    pair = f"ifelse: output {i}: the then branch is {then.type} and the else branch is {other.type}"
    if then.ndim != other.ndim:
        raise SymgraphTypeError(f"{pair}: they must have the same number of dimensions")
    if then.dtype != other.dtype:
        if np.can_cast(then.dtype, other.dtype, "safe"):
            then = cast(then, other.dtype)
        elif np.can_cast(other.dtype, then.dtype, "safe"):
            other = cast(other, then.dtype)
        else:
            raise SymgraphTypeError(f"{pair}: neither dtype casts safely to the other; cast one with astype")
    return then, other


def _like(value: Any, like: Variable) -> Any:
    """A Python number or array as a constant of ``like``'s dtype when that keeps its values (floats: rounded)."""
    arr = np.asarray(value)
    if arr.dtype == object:
        return value
    with np.errstate(all="ignore"):
        converted = arr.astype(like.dtype)
    if (arr.dtype.kind == "f" and like.type.is_float) or np.array_equal(converted, arr):
        return constant(converted)
    return value
