"""Reverse-mode differentiation: grad, Lop, and Rop built on them (jacobian and hessian: symgraph.jacobian).

Each op declares its vector-Jacobian product (``Op.vjp``) beside its forward computation. This
driver walks the graph backwards from the cost, sums contributions over fan-out, reduces gradients
over broadcast axes, and leaves integer and boolean variables out (they have no gradient).
It differentiates the cost with the stable forms applied (``symgraph.stable_forms``), so that
e.g. crossentropy(softmax(z)) has the gradient softmax(z) - onehot, finite at any logits.
The result is a graph like any other: it can be differentiated again, compiled and printed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from symgraph.errors import SymgraphTypeError, SymgraphValueError
from symgraph.graph import Apply, Variable, as_variable, clone_replace, toposort
from symgraph.ops.alloc import ones_like, zeros_like
from symgraph.ops.elemwise import add
from symgraph.stable_forms import stabilize_outputs

__all__ = ["grad", "Lop", "Rop", "hessian_vector_product", "DisconnectedInputError"]


class DisconnectedInputError(SymgraphValueError):
    """The cost does not depend on a variable that the gradient was asked for."""


def as_list(value: Any) -> tuple[list, bool]:
    if isinstance(value, list | tuple):
        return list(value), False
    return [value], True


def _fit(g: Variable, var: Variable) -> Variable:
    """Sum ``g`` over the axes along which ``var`` was broadcast, and cast it to ``var``'s dtype."""
    g = as_variable(g)
    if g.ndim < var.ndim:
        raise SymgraphTypeError(f"gradient {g!r} of {var!r} has fewer dimensions than the variable")
    if g.ndim > var.ndim:
        g = g.sum(axis=tuple(range(g.ndim - var.ndim)))
    axes = tuple(i for i, d in enumerate(var.type.shape) if d == 1 and g.type.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.astype(var.dtype) if g.dtype != var.dtype else g


def _sum(terms: list[Variable]) -> Variable:
    return terms[0] if len(terms) == 1 else add(*terms)


def _backprop(seeds: dict[Variable, Variable], wrt: list[Variable], blockers: list[Variable]) -> dict:
    """Gradient contributions for every variable between ``wrt`` and the seeded variables."""
    roots = {id(v) for v in wrt}
    nodes = toposort(list(seeds), blockers=wrt + blockers)
    depends: set[int] = set(roots)  # ids of variables that depend on some wrt variable
    for node in nodes:
        if any(id(v) in depends for v in node.inputs):
            depends.update(id(o) for o in node.outputs)
    contributions: dict[int, list[Variable]] = {}
    for var, g in seeds.items():
        contributions.setdefault(id(var), []).append(_fit(g, var))
    for node in reversed(nodes):
        out_grads = [_sum(contributions[id(o)]) if id(o) in contributions else None for o in node.outputs]
        if all(g is None for g in out_grads) or not any(id(v) in depends for v in node.inputs):
            continue
        in_grads = node.op.vjp(node, out_grads)
        _check_vjp(node, in_grads)
        for var, g in zip(node.inputs, in_grads):
            if g is None or not var.type.is_float or id(var) not in depends:
                continue
            contributions.setdefault(id(var), []).append(_fit(g, var))
    return contributions


def _check_vjp(node: Apply, in_grads: Sequence[Any]) -> None:
    if len(in_grads) != len(node.inputs):
        raise SymgraphTypeError(f"{node.op}.vjp returned {len(in_grads)} gradients for {len(node.inputs)} inputs")


def _disconnected(var: Variable, i: int, mode: str) -> Variable:
    message = f"the cost does not depend on wrt[{i}] ({var!r})"
    if mode == "raise":
        raise DisconnectedInputError(message + "; pass disconnected_inputs='ignore' to get zeros")
    if mode == "warn":
        warnings.warn(message + "; its gradient is zero", stacklevel=3)
    elif mode != "ignore":
        raise SymgraphValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {mode!r}")
    return _zeros_for(var)


def grad(cost: Variable | None, wrt: Variable | Sequence[Variable], consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", known_grads: dict | None = None) -> Variable | list[Variable]:  # fmt: skip
    """Gradient of the scalar ``cost`` with respect to ``wrt`` (one variable or a list), as graphs.

    ``consider_constant``: variables through which no gradient flows. ``known_grads``: a dict of
    {variable: its gradient} to seed (``cost`` may then be None). ``disconnected_inputs``: what to do
    for a ``wrt`` the cost does not depend on: "raise", "warn" (zeros) or "ignore" (zeros).
    """
    wrt_list, single = as_list(wrt)
    for i, var in enumerate(wrt_list):
        if not isinstance(var, Variable):
            raise SymgraphTypeError(f"grad: wrt[{i}] is not a symbolic variable: {var!r}")
        if not var.type.is_float:
            raise SymgraphTypeError(f"grad: wrt[{i}] ({var!r}) has dtype {var.dtype}; only floats have gradients")
    seeds: dict[Variable, Variable] = {}
    if cost is not None:
        cost = as_variable(cost)
        if cost.ndim != 0:
            raise SymgraphTypeError(f"grad: the cost must be a scalar, got {cost.type}; sum it or use Lop/jacobian")
        if not cost.type.is_float:
            raise SymgraphTypeError(f"grad: the cost has dtype {cost.dtype}; only a float cost has a gradient")
        seeds[cost] = ones_like(cost)
    for var, g in (known_grads or {}).items():
        g = as_variable(g)
        if g.ndim != var.ndim:
            raise SymgraphTypeError(f"grad: known gradient of {var!r} has type {g.type}, not {var.ndim}-d")
        seeds[var] = g if var not in seeds else seeds[var] + g
    if not seeds:
        raise SymgraphValueError("grad: give a cost or known_grads")
    seeds = _stabilized(seeds, wrt_list + list(consider_constant or []))
    contributions = _backprop(seeds, wrt_list, list(consider_constant or []))
    results = [
        _sum(contributions[id(v)]) if id(v) in contributions else _disconnected(v, i, disconnected_inputs)
        for i, v in enumerate(wrt_list)
    ]
    return results[0] if single else results


def _stabilized(seeds: dict[Variable, Variable], keep: list[Variable]) -> dict[Variable, Variable]:
    """The seeds on a copy of the graph with the stabilize rewrites applied (cut at ``keep``), so that the
    gradients of e.g. crossentropy(softmax(z)) come from its stable fused form, not from 1 / softmax(z)."""
    stable: dict[Variable, Variable] = {}
    for var, g in zip(stabilize_outputs(list(seeds), keep), seeds.values()):
        stable[var] = g if var not in stable else stable[var] + g
    return stable


def Lop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable], eval_points: Any,
        disconnected_inputs: str = "ignore") -> Variable | list[Variable]:  # fmt: skip
    """Left operator: ``v^T J`` for J the Jacobian of ``f`` with respect to ``wrt`` and v = eval_points."""
    fs, _ = as_list(f)
    points, _ = as_list(eval_points)
    if len(fs) != len(points):
        raise SymgraphValueError(f"Lop: {len(fs)} expressions but {len(points)} eval_points")
    return grad(None, wrt, known_grads=dict(zip(fs, points)), disconnected_inputs=disconnected_inputs)


def Rop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable], eval_points: Any) -> Any:
    """Right operator: ``J v`` for J the Jacobian of ``f`` with respect to ``wrt`` and v = eval_points.

    Computed as the gradient of the linear map u -> (u^T J) v, with respect to the dummy u.
    """
    fs, single = as_list(f)
    wrt_list, _ = as_list(wrt)
    points, _ = as_list(eval_points)
    if len(wrt_list) != len(points):
        raise SymgraphValueError(f"Rop: {len(wrt_list)} wrt variables but {len(points)} eval_points")
    dummies = [Variable(v.type.clone(shape=tuple(None for _ in v.type.shape)), name="u") for v in fs]
    lops = Lop(fs, wrt_list, dummies)
    inner = _sum([(lop * as_variable(p)).sum() for lop, p in zip(lops, points)])
    results = grad(inner, dummies, disconnected_inputs="ignore")
    zeros = {u: _zeros_for(f_i) for u, f_i in zip(dummies, fs)}
    results = clone_replace(results, zeros)  # the map is linear: u no longer matters, bind it anyway
    return results[0] if single else results


def _zeros_for(var: Variable) -> Variable:
    return zeros_like(var)


def hessian_vector_product(cost: Variable, wrt: Variable | Sequence[Variable], v: Any) -> Any:
    """``H v`` for H the Hessian of ``cost``, without forming H (the gradient of grad . v)."""
    wrt_list, single = as_list(wrt)
    vs, _ = as_list(v)
    if len(vs) != len(wrt_list):
        raise SymgraphValueError(f"hessian_vector_product: {len(wrt_list)} wrt variables but {len(vs)} vectors")
    grads = grad(cost, wrt_list)
    inner = _sum([(g * as_variable(p)).sum() for g, p in zip(grads, vs)])
    results = grad(inner, wrt_list, consider_constant=[as_variable(p) for p in vs], disconnected_inputs="ignore")
    return results[0] if single else results
